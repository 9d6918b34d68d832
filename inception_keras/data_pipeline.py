"""A class-per-folder dataset streamed with tf.data: parallel decoding, shuffled every epoch, batched, prefetched.

Only the file names are held and shuffled; images are decoded a few batches
ahead of the model, so memory does not grow with the number of images.
Decoding is `inception_keras.image_folders.decode_resized` (reduced-scale JPEG
decoding, EXIF rotation, any colour mode to RGB, bicubic resize), the same
pixels as the in-memory `read_image_folder`.

A file that turns out to be damaged when it is decoded is reported with one
warning and then weighs nothing: it stays in its batch as a black image with
sample weight 0, so that the number of batches is known in advance (Keras
warns about datasets of unknown length). With a cache folder each decoded image is also written there as a
`.npy` file, keyed by the file's path, size, modification time and the image
size, and later epochs (and later runs) read it instead of the original.
"""

from __future__ import annotations

import hashlib
import threading
import warnings
from pathlib import Path

import numpy as np
import tensorflow as tf

from inception_keras.files import atomic_path
from inception_keras.image_folders import ImageFolderFiles, decode_resized

PREFETCH_BATCHES = 2
AUTOTUNE_RAM_BUDGET = 256 * 2**20


class ImageDecoder:
    """Decodes image files to `image_size` squares for tf.data, through an optional on-disk cache.

    Calling it with a path returns `(image, ok)`: the `(S, S, 3)` uint8
    image, or zeros and `False` for an unreadable file, which is reported
    once with a warning however many epochs and datasets meet it.

    Args:
        image_size: side of the square images.
        cache_dir: keep decoded images in this folder (created if needed)
            for later epochs and runs. Defaults to `None`: decode each time.
        warn: report each unreadable file with a warning. Defaults to
            `True`; either way its one-line reason is kept in `failures`
            (path -> message).

    Raises:
        ValueError: `cache_dir` exists and is not a folder.
    """

    def __init__(self, image_size: int, cache_dir=None, warn: bool = True):
        self.image_size = image_size
        self.warn = warn
        self.failures: dict[str, str] = {}
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        if self.cache_dir is not None:
            if self.cache_dir.exists() and not self.cache_dir.is_dir():
                raise ValueError(f"The cache must be a folder. Received: {self.cache_dir}")
            self.cache_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def __call__(self, path) -> tuple[np.ndarray, bool]:
        path = Path(path.decode() if isinstance(path, bytes) else path)
        try:
            cached = self.cache_file(path) if self.cache_dir is not None else None
            if cached is not None and cached.is_file():
                return np.load(cached), True
            image = decode_resized(path, self.image_size)
            if cached is not None:
                with atomic_path(cached) as temp_path:
                    np.save(temp_path, image)
            return image, True
        except (ValueError, OSError) as error:
            self._report(str(path), error)
            return np.zeros((self.image_size, self.image_size, 3), np.uint8), False

    def cache_file(self, path: Path) -> Path:
        """Where the decoded `path` is kept: changes when the file or the image size does."""
        stat = path.stat()
        key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{self.image_size}"
        return self.cache_dir / f"{hashlib.sha1(key.encode()).hexdigest()}.npy"

    def _report(self, path: str, error: Exception) -> None:
        with self._lock:
            if path in self.failures:
                return
            self.failures[path] = " ".join(str(error).split())
        if self.warn:
            warnings.warn(f"Skipping an unreadable image: {error}", stacklevel=2)


def image_dataset(files: ImageFolderFiles, decoder: ImageDecoder, batch_size: int, *,
                  shuffle_seed: int | None = None, aux_targets: bool = False,
                  repeat: bool = False, shard: tuple[int, int] = (1, 0)) -> tf.data.Dataset:
    """Returns a dataset of `(images, targets, sample_weights)` batches streamed from `files`.

    A sample weight is 1, or 0 for a file that could not be decoded.

    Args:
        files: the listed dataset (`list_image_folder`, `split_validation`).
        decoder: an `ImageDecoder` (the image size and the cache), which
            datasets of the same run share.
        batch_size: images per batch (the last one may be smaller).
        shuffle_seed: shuffle all the files again each epoch from this seed.
            Defaults to `None`: file order.
        aux_targets: targets are `(one_hot, one_hot)`, for a model with the
            auxiliary classifier. Defaults to `False`: `one_hot`.
        repeat: repeat forever (each pass shuffled anew), for a training
            loop that counts its steps. Defaults to `False`: one pass.
        shard: `(count, index)`: keep every `count`-th file from `index`,
            after shuffling, so that workers sharing a seed read disjoint
            files. Defaults to `(1, 0)`: all files.
    """
    image_size, classes = decoder.image_size, len(files.class_names)
    dataset = tf.data.Dataset.from_tensor_slices(([str(path) for path in files.paths], files.labels))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(files), seed=shuffle_seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    count, index = shard
    if count > 1:
        dataset = dataset.shard(count, index)

    def decode(path, label):
        image, ok = tf.numpy_function(decoder, [path], (tf.uint8, tf.bool), name="decode_image")
        image, ok = tf.ensure_shape(image, (image_size, image_size, 3)), tf.ensure_shape(ok, ())
        return image, tf.one_hot(label, classes), tf.cast(ok, tf.float32)

    def as_model_inputs(images, labels, weights):
        return tf.cast(images, tf.float32), (labels, labels) if aux_targets else labels, weights

    dataset = dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE)
    # Batches wait as uint8 (a quarter of float32) in a fixed-size buffer; float32 only as the model takes one.
    dataset = dataset.batch(batch_size).prefetch(PREFETCH_BATCHES).map(as_model_inputs)
    return dataset.with_options(bounded_memory_options())


def bounded_memory_options() -> tf.data.Options:
    """tf.data options whose autotuner may buffer at most `AUTOTUNE_RAM_BUDGET` bytes."""
    options = tf.data.Options()
    options.autotune.ram_budget = AUTOTUNE_RAM_BUDGET
    return options


def file_batches(paths, decoder: ImageDecoder, batch_size: int) -> tf.data.Dataset:
    """Returns a dataset of `(paths, images, ok)` batches decoded from `paths`, in order, for prediction.

    `images` are `(B, S, S, 3)` uint8; `ok[i]` is `False` for a file that
    could not be decoded (its image is black; `decoder.failures` says why).
    """
    image_size = decoder.image_size

    def decode(path):
        image, ok = tf.numpy_function(decoder, [path], (tf.uint8, tf.bool), name="decode_image")
        return path, tf.ensure_shape(image, (image_size, image_size, 3)), tf.ensure_shape(ok, ())

    dataset = tf.data.Dataset.from_tensor_slices([str(path) for path in paths])
    dataset = dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size).prefetch(PREFETCH_BATCHES)
    return dataset.with_options(bounded_memory_options())
