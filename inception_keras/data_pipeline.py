"""A class-per-folder dataset streamed with tf.data: parallel decoding, shuffled every epoch, batched, prefetched.

Only the file names are held and shuffled; images are decoded a few batches
ahead of the model, so memory does not grow with the number of images.
Decoding is `inception_keras.image_folders.ImageDecoder` (reduced-scale JPEG
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

import tensorflow as tf

from inception_keras.image_folders import ImageDecoder, ImageFolderFiles

PREFETCH_BATCHES = 2
AUTOTUNE_RAM_BUDGET = 256 * 2**20


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
