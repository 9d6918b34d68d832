"""Exporting a model for serving: TF SavedModel, ONNX and LiteRT, each checked against Keras when written.

    export_model(model, "flowers.onnx", "onnx", class_names=["daisy", "rose"])
    served = load_exported("flowers.onnx")        # inception_keras.exported: onnxruntime, no Keras
    scores = served(images)["predictions"]         # raw 0..255 RGB, float32, any batch size

The exported graph is the model's inference pass: it takes raw 0..255 RGB as
float32, `(batch, height, width, 3)` at the model's size with a dynamic batch
dimension (the preprocessing is inside the model), and returns one named
output per model output (`predictions`, or a feature extractor's tap points).
Training-only augmentation layers are left out (their random ops have no
ONNX equivalent), and a mixed-precision model is exported as its float32
copy (ONNX and LiteRT need float32).

The class names travel with the export: `labels.txt` inside the SavedModel
folder, the ONNX file's `class_names` metadata, and `<name>.labels.txt`
beside a `.tflite` file (one class a line, in output order).

Every export is run once in its own runtime (`inception_keras.exported`:
`tf.saved_model.load`, `onnxruntime`, `ai_edge_litert.interpreter`) on a few
images and compared with the Keras model; it is refused
(`ExportMismatchError`) if any output differs by more than `tolerance` (1e-4:
LiteRT is exported in float32, no quantisation, and meets the same
tolerance). The export is written under a temporary name and renamed only
once it has passed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from inception_keras.exported import (
    FORMATS,
    LABELS_FILE,
    ONNX_CLASS_NAMES_KEY,
    SUFFIXES,
    labels_file_beside,
    load_exported,
)
from inception_keras.files import check_output

KERAS_FORMATS = {"savedmodel": "tf_saved_model", "onnx": "onnx", "litert": "litert"}
DEFAULT_TOLERANCE = 1e-4
AUGMENTATION_LAYER = "augmentation"
# What a SavedModel export folder holds (TensorFlow's files and the class names this module adds).
SAVED_MODEL_ENTRIES = frozenset({"saved_model.pb", "variables", "assets", "fingerprint.pb", "keras_metadata.pb",
                                 LABELS_FILE})


class ExportMismatchError(ValueError):
    """The exported model's outputs differ from the Keras model's by more than the tolerance."""


@dataclass
class ExportResult:
    """What `export_model` wrote and how closely it agrees with Keras.

    Attributes:
        path: the SavedModel folder, `.onnx` or `.tflite` file.
        labels_path: where the class names are (`None` for ONNX: in its metadata).
        output_names: the exported outputs, in model order.
        max_difference: the largest absolute difference from the Keras model
            on the check images.
    """

    path: Path
    labels_path: Path | None
    output_names: list[str]
    max_difference: float


def export_model(model: keras.Model, out, format: str, *, class_names: list[str] | None = None,
                 check_images: np.ndarray | None = None,
                 tolerance: float = DEFAULT_TOLERANCE, overwrite: bool = False) -> ExportResult:
    """Exports `model` for serving in `format`, checks it in its own runtime, and renames it into place.

    Args:
        model: a Keras model taking raw 0..255 RGB (`include_preprocessing`).
        out: the SavedModel folder, or a file ending `.onnx` / `.tflite`.
        format: `"savedmodel"`, `"onnx"` or `"litert"`.
        class_names: the label of each output index, written with the export.
            Defaults to `None`: no labels (a feature extractor).
        check_images: `(N, H, W, 3)` raw 0..255 images to compare on.
            Defaults to `None`: three seeded noise images and a gradient.
        tolerance: the largest absolute difference allowed. Defaults to 1e-4.
        overwrite: replace a folder that is not an earlier SavedModel export
            (`check_export_path`). Defaults to `False`.

    Raises:
        ValueError: a bad `format` or `out`, or a model without a fixed input size.
        ExportMismatchError: the export disagrees with Keras; nothing is written.
    """
    if format not in FORMATS:
        raise ValueError(f"`format` must be one of {', '.join(FORMATS)}. Received: format={format!r}")
    out = Path(out)
    check_export_path(out, format, overwrite=overwrite)
    serving = serving_model(model)
    height, width = input_size(serving)
    images = _check_images(height, width) if check_images is None else np.asarray(check_images, np.float32)
    expected = {name: np.asarray(value) for name, value in serving.predict(images, verbose=0).items()}

    with _atomic_export_path(out) as temp_path, warnings.catch_warnings():
        # tf2onnx probes `np.object` (removed from NumPy), which warns: nothing the user can act on.
        warnings.filterwarnings("ignore", message=".*np.object.*", category=FutureWarning)
        serving.export(str(temp_path), format=KERAS_FORMATS[format], verbose=False)
        labels_path = _write_class_names(temp_path, format, class_names)
        served = load_exported(temp_path, format, labels_path=labels_path)
        outputs = served(images)
        difference = _max_difference(expected, outputs, format)
        if difference > tolerance:
            raise ExportMismatchError(
                f"The {format} export differs from the Keras model by {difference:.2g} "
                f"(more than {tolerance:g}); nothing was written to {out}.")
        final_labels = None
        if labels_path is not None and format == "litert":
            final_labels = labels_file_beside(out)
            os.replace(labels_path, final_labels)
        elif labels_path is not None:
            final_labels = out / LABELS_FILE
    return ExportResult(out, final_labels, list(expected), difference)


def serving_model(model: keras.Model) -> keras.Model:
    """The model's inference pass as a float32 functional model with named outputs, without augmentation.

    The outputs are a dict: a feature extractor's own names, else the
    output layers' names (`predictions`, `aux_predictions`). Layers are
    shared with `model` (no weights are copied) unless the model is
    mixed-precision, in which case a float32 copy is built.
    """
    if not isinstance(model, keras.Model) or not getattr(model, "inputs", None):
        raise ValueError(f"Only functional Keras models can be exported. Received: {type(model).__name__}")
    if _uses_mixed_precision(model):
        model = _float32_copy(model)
    if any(_is_augmentation(layer) for layer in model.layers):
        model = keras.models.clone_model(
            model, clone_function=lambda layer: _PassThrough(name=layer.name) if _is_augmentation(layer) else layer)
    outputs = model.output
    if not isinstance(outputs, dict):
        outputs = {tensor._keras_history.operation.name: tensor for tensor in keras.tree.flatten(outputs)}
    return keras.Model(model.inputs[0], outputs, name=model.name)


def input_size(model: keras.Model) -> tuple[int, int]:
    """`(height, width)` of a model's one image input; raises `ValueError` if it is not fixed."""
    if len(model.inputs) != 1 or len(model.inputs[0].shape) != 4 or model.inputs[0].shape[-1] != 3:
        raise ValueError(f"Exports take one (batch, height, width, 3) image input. Received: inputs "
                         f"{[tuple(t.shape) for t in model.inputs]}")
    height, width = model.inputs[0].shape[1:3]
    if height is None or width is None:
        raise ValueError("The model's input size is not fixed: build it with an input_shape such as "
                         "(299, 299, 3) before exporting.")
    return int(height), int(width)


def _write_class_names(temp_path: Path, format: str, class_names) -> Path | None:
    """Writes the class names where the format keeps them; returns the labels file (`None` for ONNX)."""
    if format == "onnx":
        import onnx

        exported = onnx.load(str(temp_path))
        if class_names is not None:
            _set_metadata(exported, ONNX_CLASS_NAMES_KEY, json.dumps(list(class_names)))
        onnx.save(exported, str(temp_path))
        return None
    if class_names is None:
        return None
    labels_path = temp_path / LABELS_FILE if format == "savedmodel" else labels_file_beside(temp_path)
    labels_path.write_text("".join(f"{name}\n" for name in class_names), encoding="utf-8")
    return labels_path


def _set_metadata(onnx_model, key: str, value: str) -> None:
    for entry in onnx_model.metadata_props:
        if entry.key == key:
            entry.value = value
            return
    entry = onnx_model.metadata_props.add()
    entry.key, entry.value = key, value


def _max_difference(expected: dict, outputs: dict, format: str) -> float:
    """Largest absolute difference between the Keras and the exported outputs, matched by name."""
    if set(expected) != set(outputs):
        raise ExportMismatchError(f"The {format} export has outputs {sorted(outputs)}; the model has {sorted(expected)}.")
    for name, want in expected.items():
        if want.shape != outputs[name].shape:
            raise ExportMismatchError(f"The {format} export's {name} has shape {outputs[name].shape}, the "
                                      f"model's {want.shape}.")
    return max(float(np.max(np.abs(want.astype(np.float64) - outputs[name]))) for name, want in expected.items())


def _check_images(height: int, width: int) -> np.ndarray:
    rng = np.random.RandomState(0)
    noise = rng.uniform(0, 255, (3, height, width, 3))
    ramp = np.broadcast_to(np.linspace(0, 255, width)[None, :, None], (height, width, 3))
    return np.concatenate([noise, ramp[None]]).astype(np.float32)


def check_export_path(out, format: str, inputs=(), overwrite: bool = False) -> None:
    """Raises `ValueError` unless `out` can take a `format` export, before any work.

    The suffix must fit the format, and the path rule holds
    (`inception_keras.files.check_output`): an export never replaces one of
    `inputs` nor a folder holding one, and a SavedModel replaces only an
    earlier SavedModel export (`is_saved_model_folder`) unless `overwrite`.
    """
    out = Path(out)
    suffix = SUFFIXES.get(format)
    if suffix is not None and out.suffix != suffix:
        raise ValueError(f"A {format} export is a file ending in {suffix}. Received: -o {out}")
    if suffix is None and out.suffix in (".onnx", ".tflite", ".keras"):
        raise ValueError(f"A SavedModel is a folder; {out} looks like a file name. Pass e.g. -o {out.with_suffix('')}")
    check_output(out, inputs, folder=format == "savedmodel", earlier_output=is_saved_model_folder,
                  overwrite=overwrite, flag="-o/--out")


def is_saved_model_folder(folder) -> bool:
    """Whether `folder` holds a SavedModel export and nothing else (what replacing it may delete)."""
    folder = Path(folder)
    entries = {entry.name for entry in folder.iterdir()}
    return "saved_model.pb" in entries and entries <= SAVED_MODEL_ENTRIES


class _atomic_export_path:
    """A temporary name beside `out` (keeping its suffix); renamed to `out` when the block succeeds."""

    def __init__(self, out: Path):
        self.out = out

    def __enter__(self) -> Path:
        self.folder = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.", suffix=".part", dir=self.out.parent))
        return self.folder / self.out.name

    def __exit__(self, kind, value, traceback):
        try:
            if kind is None:
                temp_path = self.folder / self.out.name
                if self.out.is_dir():
                    old = self.folder / "replaced"
                    os.replace(self.out, old)
                os.replace(temp_path, self.out)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
        return False


class _PassThrough(keras.layers.Layer):
    """Stands in for a training-only augmentation layer in the exported graph."""

    def call(self, inputs, mask=None):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape


def _is_augmentation(layer) -> bool:
    if layer.name == AUGMENTATION_LAYER and isinstance(layer, keras.Sequential):
        return all(type(inner).__name__.startswith("Random") for inner in layer.layers)
    return type(layer).__name__.startswith("Random") and not layer.weights


def _uses_mixed_precision(model: keras.Model) -> bool:
    return any(layer.dtype_policy.compute_dtype != "float32" for layer in _all_layers(model))


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def _float32_copy(model: keras.Model) -> keras.Model:
    config = _float32_config(model.get_config())
    copy = model.__class__.from_config(config)
    copy.set_weights(model.get_weights())
    return copy


def _float32_config(config):
    if isinstance(config, dict):
        if config.get("class_name") == "DTypePolicy" or config.get("class_name") == "FloatDTypePolicy":
            return {**config, "config": {**config.get("config", {}), "name": "float32"}}
        return {key: _float32_config(value) for key, value in config.items()}
    if isinstance(config, list):
        return [_float32_config(value) for value in config]
    return config
