"""Exporting a model for serving: TF SavedModel, ONNX and LiteRT, each checked against Keras when written.

    export_model(model, "flowers.onnx", "onnx", class_names=["daisy", "rose"])
    served = load_exported("flowers.onnx")        # onnxruntime; the same call for every format
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

Every export is run once in its own runtime (`tf.saved_model.load`,
`onnxruntime`, `ai_edge_litert.interpreter`) on a few images and compared with
the Keras model; it is refused (`ExportMismatchError`) if any output differs
by more than `tolerance` (1e-4: LiteRT is exported in float32, no
quantisation, and meets the same tolerance). The export is written under a
temporary name and renamed only once it has passed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

FORMATS = ("savedmodel", "onnx", "litert")
SUFFIXES = {"onnx": ".onnx", "litert": ".tflite"}
KERAS_FORMATS = {"savedmodel": "tf_saved_model", "onnx": "onnx", "litert": "litert"}
DEFAULT_TOLERANCE = 1e-4
LABELS_FILE = "labels.txt"
ONNX_CLASS_NAMES_KEY = "class_names"
AUGMENTATION_LAYER = "augmentation"


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
                 tolerance: float = DEFAULT_TOLERANCE) -> ExportResult:
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

    Raises:
        ValueError: a bad `format` or `out`, or a model without a fixed input size.
        ExportMismatchError: the export disagrees with Keras; nothing is written.
    """
    if format not in FORMATS:
        raise ValueError(f"`format` must be one of {', '.join(FORMATS)}. Received: format={format!r}")
    out = Path(out)
    check_export_path(out, format)
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


def labels_file_beside(path) -> Path:
    """Where the class names of a `.tflite` file are kept: `<name>.labels.txt` beside it."""
    path = Path(path)
    return path.with_name(f"{path.stem}.labels.txt")


class ExportedModel:
    """An exported model loaded in its own runtime, called like a Keras model.

    Calling it with `(N, H, W, 3)` raw 0..255 images (uint8 or float) returns
    `{output name: array}`, outputs in model order.

    Attributes:
        format: `"savedmodel"`, `"onnx"` or `"litert"`.
        class_names: labels of the first output, or `None`.
        input_size: `(height, width)`.
        output_names: the output names, in model order.
    """

    def __init__(self, format: str, run, input_size: tuple[int, int], output_names: list[str],
                 class_names: list[str] | None):
        self.format = format
        self._run = run
        self.input_size = input_size
        self.output_names = output_names
        self.class_names = class_names

    def __call__(self, images) -> dict[str, np.ndarray]:
        outputs = self._run(np.asarray(images, np.float32))
        return {name: np.asarray(outputs[name]) for name in self.output_names}


def load_exported(path, format: str | None = None, labels_path=None) -> ExportedModel:
    """Loads an export in its own runtime: TF for a SavedModel folder, onnxruntime, or LiteRT's interpreter.

    Args:
        path: a SavedModel folder, a `.onnx` or a `.tflite` file.
        format: the format. Defaults to `None`: from the path.
        labels_path: the class names file. Defaults to `None`: where
            `export_model` puts it.

    Raises:
        ValueError: `path` is not an export in a known format.
    """
    path = Path(path)
    format = format or export_format(path)
    loaders = {"savedmodel": _load_saved_model, "onnx": _load_onnx, "litert": _load_litert}
    return loaders[format](path, labels_path)


def export_format(path) -> str:
    """The export format of `path`: a SavedModel folder, `.onnx` or `.tflite`; raises `ValueError` otherwise."""
    path = Path(path)
    if path.is_dir() and (path / "saved_model.pb").is_file():
        return "savedmodel"
    if path.suffix == ".onnx" and path.is_file():
        return "onnx"
    if path.suffix == ".tflite" and path.is_file():
        return "litert"
    raise ValueError(f"Not an exported model (a SavedModel folder, .onnx or .tflite file): {path}")


def _load_saved_model(path: Path, labels_path) -> ExportedModel:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    signature = loaded.serve.input_signature
    (spec,) = tf.nest.flatten(signature)
    output_names = _saved_model_output_names(loaded)

    def run(images):
        outputs = loaded.serve(*tf.nest.pack_sequence_as(signature, [tf.constant(images)]))
        if isinstance(outputs, dict):
            return {name: value.numpy() for name, value in outputs.items()}
        return {output_names[0]: outputs.numpy()}

    labels = _read_labels(Path(labels_path) if labels_path else path / LABELS_FILE)
    return ExportedModel("savedmodel", run, tuple(spec.shape[1:3]), output_names, labels)


def _saved_model_output_names(loaded) -> list[str]:
    structure = loaded.serve.get_concrete_function(*loaded.serve.input_signature).structured_outputs
    return list(structure) if isinstance(structure, dict) else ["output_0"]


def _load_onnx(path: Path, labels_path) -> ExportedModel:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (image_input,) = session.get_inputs()
    output_names = [output.name for output in session.get_outputs()]
    metadata = session.get_modelmeta().custom_metadata_map
    labels = (json.loads(metadata[ONNX_CLASS_NAMES_KEY]) if ONNX_CLASS_NAMES_KEY in metadata
              else _read_labels(labels_path))

    def run(images):
        return dict(zip(output_names, session.run(output_names, {image_input.name: images})))

    return ExportedModel("onnx", run, tuple(image_input.shape[1:3]), output_names, labels)


def _load_litert(path: Path, labels_path) -> ExportedModel:
    from ai_edge_litert.interpreter import Interpreter

    with _stderr_silenced():  # the runtime's C++ "INFO: Created TensorFlow Lite XNNPACK delegate"
        interpreter = Interpreter(model_path=str(path))
        runner = interpreter.get_signature_runner()
        (input_name, details), = runner.get_input_details().items()
        runner(**{input_name: np.zeros([1, *details["shape_signature"][1:]], np.float32)})
    output_names = list(runner.get_output_details())

    def run(images):
        return runner(**{input_name: images})

    labels = _read_labels(Path(labels_path) if labels_path else labels_file_beside(path))
    return ExportedModel("litert", run, tuple(int(v) for v in details["shape_signature"][1:3]),
                         output_names, labels)


def _read_labels(path) -> list[str] | None:
    if path is None or not Path(path).is_file():
        return None
    return Path(path).read_text(encoding="utf-8").splitlines()


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


def check_export_path(out, format: str) -> None:
    """Raises `ValueError` unless `out` can take a `format` export (suffix, folder, no clash)."""
    out = Path(out)
    suffix = SUFFIXES.get(format)
    if suffix is not None and out.suffix != suffix:
        raise ValueError(f"A {format} export is a file ending in {suffix}. Received: -o {out}")
    if suffix is None and out.suffix in (".onnx", ".tflite", ".keras"):
        raise ValueError(f"A SavedModel is a folder; {out} looks like a file name. Pass e.g. -o {out.with_suffix('')}")
    if not out.parent.is_dir():
        raise ValueError(f"Output folder does not exist: {out.parent}")
    if out.exists() and (out.is_dir() != (format == "savedmodel")):
        raise ValueError(f"{out} exists and is not a {'folder' if format == 'savedmodel' else 'file'}; "
                         "remove it or choose another name.")


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


@contextlib.contextmanager
def _stderr_silenced():
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
