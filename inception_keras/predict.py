"""Classifying many images: files and folders decoded on threads, batched, with any kind of model.

    classifier = load_image_classifier(model="flowers.onnx")   # .keras, SavedModel folder, .onnx, .tflite
    for row in classify_files(list_image_files(["photos/"]), classifier, top=3):
        print(row.path, row.ranked)

The images are decoded by `inception_keras.image_folders.ImageDecoder` (the
decoder `finetune` trains on: reduced-scale JPEG decoding, EXIF rotation, any
colour mode to RGB, bicubic resize to the model's square size) on a pool of
threads, a few batches ahead of the model. A file that cannot be decoded
yields a row with `error` set and no scores. An ONNX or LiteRT model runs
without Keras or TensorFlow: neither is imported (`runs_without_keras`).
"""

from __future__ import annotations

import collections
import csv
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from inception_keras.exported import SUFFIXES, load_exported
from inception_keras.image_folders import IMAGE_SUFFIXES, ImageDecoder

READ_AHEAD_BATCHES = 2


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


def runs_without_keras(model) -> bool:
    """Whether `load_image_classifier(model)` runs without Keras or TensorFlow: an `.onnx` or `.tflite` file."""
    return model is not None and Path(model).suffix in SUFFIXES.values()


def classify_files(paths: list[Path], classifier: ImageClassifier, top: int = 5,
                   batch_size: int = 32) -> Iterator[Prediction]:
    """Yields one `Prediction` per path, in order, decoding a few batches ahead of the model.

    Args:
        paths: the image files, e.g. from `list_image_files`.
        classifier: from `load_image_classifier`.
        top: how many labels each prediction ranks. Defaults to 5.
        batch_size: images per call of the model. Defaults to 32.

    Returns:
        An iterator of `Prediction`s, one per path, in order.
    """
    decoder = ImageDecoder(classifier.image_size, warn=False)
    top = min(top, len(classifier.class_names))
    for names, images, ok in decoded_batches(paths, decoder, batch_size):
        scores = np.zeros((len(names), len(classifier.class_names)), np.float32)
        if ok.any():
            scores[ok] = classifier.scores(images[ok].astype(np.float32))
        for name, row, decoded in zip(names, scores, ok):
            if not decoded:
                yield Prediction(name, [], decoder.failures.get(name, f"Unreadable image: {name}"))
                continue
            best = np.argsort(row)[::-1][:top]
            yield Prediction(name, [(classifier.class_names[i], float(row[i])) for i in best])


def decoded_batches(paths, decoder: ImageDecoder, batch_size: int,
                    ahead: int = READ_AHEAD_BATCHES) -> Iterator[tuple[list[str], np.ndarray, np.ndarray]]:
    """Yields `(paths, images, ok)` batches decoded from `paths`, in order, on threads `ahead` batches ahead.

    Only the batches in flight are held, so memory does not grow with the
    number of files.

    Args:
        paths: the image files.
        decoder: an `ImageDecoder` (the square size; `decoder.failures` says
            why a file could not be decoded).
        batch_size: files per batch (the last one may be smaller).
        ahead: batches decoded beyond the one the caller is given.
            Defaults to 2.

    Returns:
        An iterator of `(paths, images, ok)`: the batch's paths as strings,
        `(B, S, S, 3)` uint8 images, and `(B,)` bools, `False` for a file that
        could not be decoded (its image is black).
    """
    names = [str(path) for path in paths]
    batches = collections.deque(names[start:start + batch_size] for start in range(0, len(names), batch_size))
    pool = ThreadPoolExecutor()
    in_flight = collections.deque()
    try:
        while batches or in_flight:
            while batches and len(in_flight) <= ahead:
                batch = batches.popleft()
                in_flight.append((batch, [pool.submit(decoder, name) for name in batch]))
            batch, futures = in_flight.popleft()
            images, ok = zip(*(future.result() for future in futures))
            yield batch, np.stack(images), np.array(ok, bool)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_header(top: int) -> list[str]:
    """The CSV columns: `path`, then `class_1`, `probability_1`, ... up to `top`."""
    return ["path"] + [f"{kind}_{rank}" for rank in range(1, top + 1) for kind in ("class", "probability")]


def csv_row(prediction: Prediction) -> list[str]:
    """A prediction as CSV cells (probabilities with 6 decimals); text a spreadsheet would run is escaped."""
    return [csv_text(prediction.path)] + [cell for name, score in prediction.ranked
                                          for cell in (csv_text(name), f"{score:.6f}")]


def csv_text(text: str) -> str:
    """`text` as a CSV cell no spreadsheet runs as a formula: a leading `=`, `+`, `-`, `@`, tab or CR gets a `'`.

    File and class names come from outside (anyone can name a photo `=HYPERLINK(...).jpg`); OWASP's rule for
    CSV injection.
    """
    text = str(text)
    return "'" + text if text[:1] in FORMULA_STARTS else text


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
