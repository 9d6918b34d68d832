"""The tf.data stream of a class-per-folder dataset: same pixels as the in-memory loader, shuffled, sharded, cached."""

from __future__ import annotations

import numpy as np
import pytest

from inception_keras.data_pipeline import image_dataset
from inception_keras.image_folders import ImageDecoder, decode_resized, list_image_folder, read_image_folder


def _epoch(dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    images, labels, weights = zip(*[(x.numpy(), y.numpy(), w.numpy()) for x, y, w in dataset])
    return np.concatenate(images), np.concatenate(labels), np.concatenate(weights)


def test_stream_has_the_in_memory_pixels_and_weighs_a_damaged_file_zero(brightness_dataset):
    (brightness_dataset / "bright" / "truncated.png").write_bytes(
        (brightness_dataset / "bright" / "bright_0.png").read_bytes()[:300])
    (brightness_dataset / "dark" / "notes.jpg").write_text("not a picture")
    (brightness_dataset / "dark" / "empty.png").write_bytes(b"")
    with pytest.warns(UserWarning) as caught:
        files = list_image_folder(brightness_dataset)
    assert sorted(str(w.message).split(": ")[1] for w in caught) == ["Input image is empty (0 bytes)",
                                                                     "Not an image file (or an unsupported format)"]
    assert len(files) == 17  # the truncated file's header is fine: it fails later, when decoded
    with pytest.warns(UserWarning, match="truncated.png"):
        images, labels, weights = _epoch(image_dataset(files, ImageDecoder(80), 5))
    with pytest.warns(UserWarning, match="truncated.png"):
        in_memory = read_image_folder(brightness_dataset, 80)
    assert images.dtype == np.float32 and images.shape == (17, 80, 80, 3)
    assert weights.tolist() == [0.0 if path.name == "truncated.png" else 1.0 for path in files.paths]
    np.testing.assert_array_equal(images[weights > 0].astype(np.uint8), in_memory.images)
    np.testing.assert_array_equal(labels[weights > 0], in_memory.one_hot_labels())


def test_each_epoch_is_a_new_shuffle_of_every_file_and_shards_are_disjoint(brightness_dataset):
    files = list_image_folder(brightness_dataset)
    decoder = ImageDecoder(75)
    fingerprints = {float(decode_resized(path, 75).astype(np.float64).sum()): path for path in files.paths}
    assert len(fingerprints) == len(files)

    def order(dataset, batches):
        sums = [float(image.astype(np.float64).sum()) for x, _, _ in dataset.take(batches) for image in x.numpy()]
        return [fingerprints[value] for value in sums]

    two_epochs = order(image_dataset(files, decoder, 4, shuffle_seed=1, repeat=True), 8)
    first, second = two_epochs[:16], two_epochs[16:]
    assert sorted(first) == sorted(second) == sorted(files.paths) and first != second
    assert order(image_dataset(files, decoder, 4, shuffle_seed=1), 4) == first  # the seed fixes the order

    shards = [order(image_dataset(files, decoder, 4, shuffle_seed=1, repeat=True, shard=(2, i)), 2) for i in (0, 1)]
    assert shards[0] == first[0::2] and shards[1] == first[1::2]


def test_cache_keeps_decoded_images_and_notices_changed_files(brightness_dataset, tmp_path):
    files = list_image_folder(brightness_dataset)
    cache = tmp_path / "cache"
    decoder = ImageDecoder(75, cache)
    first, _, _ = _epoch(image_dataset(files, decoder, 8))
    cached = sorted(cache.iterdir())
    assert len(cached) == len(files) and all(p.suffix == ".npy" for p in cached)
    np.testing.assert_array_equal(np.load(decoder.cache_file(files.paths[3])), first[3].astype(np.uint8))

    again, _, _ = _epoch(image_dataset(files, ImageDecoder(75, cache), 8))  # a later run reads the cache
    np.testing.assert_array_equal(again, first)
    changed = files.paths[0]
    changed.write_bytes(files.paths[-1].read_bytes())
    assert not decoder.cache_file(changed).exists()
    assert np.load(decoder.cache_file(files.paths[3])).shape == (75, 75, 3)

    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    with pytest.raises(ValueError, match="must be a folder"):
        ImageDecoder(75, not_a_folder)
