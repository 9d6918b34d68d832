"""Exported models loaded in their own runtimes: TF for a SavedModel, onnxruntime, LiteRT's interpreter.

    served = load_exported("flowers.onnx")        # the same call for every format
    scores = served(images)["predictions"]         # raw 0..255 RGB, float32, any batch size
    served.class_names                             # the labels written with the export, or None

`inception_keras.export.export_model` writes the exports. This module imports
neither Keras nor TensorFlow, and an ONNX or LiteRT file loads without them:
only a SavedModel folder needs TensorFlow.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

import numpy as np

FORMATS = ("savedmodel", "onnx", "litert")
SUFFIXES = {"onnx": ".onnx", "litert": ".tflite"}
LABELS_FILE = "labels.txt"
ONNX_CLASS_NAMES_KEY = "class_names"


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

    Returns:
        An `ExportedModel`.

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
    for format, suffix in SUFFIXES.items():
        if path.suffix == suffix and path.is_file():
            return format
    raise ValueError(f"Not an exported model (a SavedModel folder, .onnx or .tflite file): {path}")


def labels_file_beside(path) -> Path:
    """Where the class names of a `.tflite` file are kept: `<name>.labels.txt` beside it."""
    path = Path(path)
    return path.with_name(f"{path.stem}.labels.txt")


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
