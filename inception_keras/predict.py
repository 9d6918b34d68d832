"""Classifying many images: files and folders streamed through tf.data, batched, with any kind of model.

    classifier = load_image_classifier(model="flowers.onnx")   # .keras, SavedModel folder, .onnx, .tflite
    for row in classify_files(list_image_files(["photos/"]), classifier, top=3):
        print(row.path, row.ranked)

The images are decoded by `inception_keras.data_pipeline` (the decoder
`finetune` trains on: reduced-scale JPEG decoding, EXIF rotation, any colour
mode to RGB, bicubic resize to the model's square size) a few batches ahead
of the model. A file that cannot be decoded yields a row with `error` set
and no scores.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from inception_keras.image_folders import IMAGE_SUFFIXES


@dataclass
class ImageClassifier:
    """A model that scores batches of raw 0..255 RGB images.

    Attributes:
        scores: `(N, S, S, 3)` float32 images -> `(N, classes)` scores.
        class_names: the label of each score.
        image_size: the side of the square input.
        source: what was loaded, for messages.
    """

    scores: Callable[[np.ndarray], np.ndarray]
    class_names: list[str]
    image_size: int
    source: str


@dataclass
class Prediction:
    """One image's result: `ranked` is `[(class name, score), ...]`, best first; `error` if unreadable."""

    path: str
    ranked: list[tuple[str, float]]
    error: str | None = None


def load_image_classifier(model=None, weights=None) -> ImageClassifier:
    """Loads a classifier: a `.keras` file, an export (SavedModel folder, `.onnx`, `.tflite`), or ImageNet's.

    Args:
        model: a model saved by `finetune` or written by `export`. Defaults
            to `None`: the ImageNet classifier with `weights`.
        weights: `"imagenet"`, `"none"` (random) or a weights file with the
            classifier, when `model` is `None`. Defaults to `None`: `"imagenet"`.

    Raises:
        ValueError: both or a missing `model`; a model that is not a classifier
            of square images.
    """
    if model is not None and weights is not None:
        raise ValueError("Pass either --model (a fine-tuned or exported classifier) or --weights, not both.")
    if model is None:
        return _imagenet_classifier(weights or "imagenet")
    path = Path(model)
    if not path.exists():
        raise ValueError(f"Model not found: {path}")
    if path.suffix == ".keras":
        return _keras_classifier(path)
    return _exported_classifier(path)


def list_image_files(inputs: Iterable) -> list[Path]:
    """The files named, and the image files (by suffix) under the folders named, each folder sorted.

    Raises:
        ValueError: an input does not exist, or a folder holds no images.
    """
    files = []
    for item in map(Path, inputs):
        if item.is_dir():
            found = sorted(p for p in item.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                           and not any(part.startswith(".") for part in p.relative_to(item).parts))
            if not found:
                raise ValueError(f"No images ({', '.join(sorted(IMAGE_SUFFIXES))}) in folder {item}")
            files.extend(found)
        elif item.is_file():
            files.append(item)
        else:
            raise ValueError(f"Input image not found: {item}")
    return files


def classify_files(paths: list[Path], classifier: ImageClassifier, top: int = 5,
                   batch_size: int = 32) -> Iterator[Prediction]:
    """Yields one `Prediction` per path, in order, decoding a few batches ahead of the model."""
    from inception_keras.data_pipeline import file_batches
    from inception_keras.image_folders import ImageDecoder

    decoder = ImageDecoder(classifier.image_size, warn=False)
    top = min(top, len(classifier.class_names))
    for names, images, ok in file_batches(paths, decoder, batch_size).as_numpy_iterator():
        names = [name.decode() for name in names]
        scores = np.zeros((len(names), len(classifier.class_names)), np.float32)
        if ok.any():
            scores[ok] = classifier.scores(images[ok].astype(np.float32))
        for name, row, decoded in zip(names, scores, ok):
            if not decoded:
                yield Prediction(name, [], decoder.failures.get(name, f"Unreadable image: {name}"))
                continue
            best = np.argsort(row)[::-1][:top]
            yield Prediction(name, [(classifier.class_names[i], float(row[i])) for i in best])


def csv_header(top: int) -> list[str]:
    """The CSV columns: `path`, then `class_1`, `probability_1`, ... up to `top`."""
    return ["path"] + [f"{kind}_{rank}" for rank in range(1, top + 1) for kind in ("class", "probability")]


def csv_row(prediction: Prediction) -> list[str]:
    """A prediction as CSV cells (probabilities with 6 decimals)."""
    return [prediction.path] + [cell for name, score in prediction.ranked for cell in (name, f"{score:.6f}")]


def write_csv_rows(handle, top: int, predictions: Iterable[Prediction]) -> None:
    """Writes the header and one row per readable image to an open text file."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(csv_header(top))
    for prediction in predictions:
        writer.writerow(csv_row(prediction))


def _imagenet_classifier(weights) -> ImageClassifier:
    from inception_keras.inception_v3 import InceptionV3, imagenet_class_index

    model = InceptionV3(include_top=True, weights=None if weights == "none" else weights,
                        include_preprocessing=True)
    index = imagenet_class_index()
    names = [f"{index[i][1]} ({index[i][0]})" for i in range(1000)]
    return ImageClassifier(lambda images: np.asarray(model.predict_on_batch(images)), names, 299, "imagenet")


def _keras_classifier(path: Path) -> ImageClassifier:
    from inception_keras.classifier import load_classifier, main_output

    model, class_names = load_classifier(path)
    size = _square_size(model.input_shape[1:3], path)
    return ImageClassifier(lambda images: np.asarray(main_output(model.predict_on_batch(images))),
                           class_names, size, str(path))


def _exported_classifier(path: Path) -> ImageClassifier:
    from inception_keras.export import load_exported

    served = load_exported(path)
    output = "predictions" if "predictions" in served.output_names else served.output_names[0]
    size = _square_size(served.input_size, path)
    probe = served(np.zeros((1, size, size, 3), np.float32))[output]
    if probe.ndim != 2:
        raise ValueError(f"{path} is not a classifier: its output {output!r} has shape {probe.shape[1:]}, "
                         "not (classes,).")
    class_names = served.class_names or [f"class_{i}" for i in range(probe.shape[1])]
    return ImageClassifier(lambda images: served(images)[output], class_names, size, str(path))


def _square_size(size, path) -> int:
    height, width = (int(v) if v is not None else None for v in size)
    if height is None or height != width:
        raise ValueError(f"{path} takes {height}x{width} images; predict needs a square input size.")
    return height
