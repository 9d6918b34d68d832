"""Tiles on the device: the tiled octave program dreams what the host tiled loop dreams.

On TensorFlow here; on JAX and torch in the child processes of
`tests/test_backends.py` (`tests/backend_cases.py`), with these helpers.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from deepdream import DeepDream, ascent, device_tiles, hardware, tiling
from deepdream.octave_ascent import TILE_MARGIN
from inception_keras.inception_v3 import MIN_INPUT_SIZE

TILE = MIN_INPUT_SIZE + 2 * TILE_MARGIN  # the smallest tile: 75-pixel cores
OPTIONS = dict(octaves=2, steps=2, step_size=0.02, jitter=32, seed=5)


def tiled_engine(layer: str = "stem_2a_relu") -> DeepDream:
    """A random-weights engine whose whole-image limit puts a 160x220 photo's octaves in 3x3 and 2x3 tiles.

    The objective is a shallow layer: the tiles are what is tested, and it compiles in seconds.
    """
    keras.utils.set_random_seed(0)
    return DeepDream(layer, weights=None, tile_size=TILE, whole_image_pixels=100 * 100)


def photo(height: int = 160, width: int = 220) -> np.ndarray:
    import skimage.data

    from inception_keras.images import resize_image

    return resize_image(skimage.data.coffee(), height, width)


def device_and_host_dreams(engine: DeepDream, image: np.ndarray, **options) -> tuple[np.ndarray, np.ndarray]:
    """The dream with tiles on the device, then the same dream on the host tiled loop (`OPTIONS`, updated)."""
    options = dict(OPTIONS, **options)
    on_device = engine.with_ascent(device_tiles=True)
    device = on_device.dream(image, **options)
    assert any(tiled for tiled, _ in on_device.ascent.programs_built()), "the dream did not run the tiled program"
    host = engine.with_ascent(device_loop=False).dream(image, **options)
    return device, host


def assert_dreams_agree(device: np.ndarray, host: np.ndarray, image: np.ndarray) -> None:
    device, host = device.astype(int), host.astype(int)
    assert np.abs(device - image).mean() > 1.0
    # As in tests/test_device_loop.py: float rounding can flip a max-pool or ReLU choice of the random
    # network at a few pixels, which then step differently.
    difference = np.abs(device - host)
    assert (difference > 1).mean() < 0.005, (difference > 1).mean()
    assert np.corrcoef((device - image).ravel(), (host - image).ravel())[0, 1] > 0.999


@pytest.fixture(scope="module")
def engine():
    return tiled_engine()


def test_device_tiles_dream_equals_the_host_tiled_loop(engine):
    image = photo()
    device, host = device_and_host_dreams(engine, image)
    assert_dreams_agree(device, host, image)


def test_tiled_gradient_of_an_unrolled_image_equals_the_host_tiles(engine):
    gradient, weights = engine.ascent.traceable_gradient
    tiled = ascent.compiled(lambda image: device_tiles.tiled_gradient(gradient, TILE, TILE_MARGIN)(image, weights))
    image = photo()[None].astype("float32") / 127.5 - 1.0
    loss, ours = (keras.ops.convert_to_numpy(t) for t in tiled(keras.ops.convert_to_tensor(image)))
    host_loss, host = tiling.tiled_gradient(image, engine.ascent.compiled_gradient, TILE, TILE_MARGIN)
    assert ours.shape == image.shape and np.abs(host).mean() > 0
    np.testing.assert_allclose(ours, host, atol=1e-5 * np.abs(host).max())
    assert float(loss) == pytest.approx(float(host_loss), rel=1e-5)


def test_mirrored_indices_pad_as_numpy_symmetric():
    for length, before, after in [(5, 2, 3), (3, 7, 8), (75, 32, 32)]:
        axis = np.arange(length)
        expected = np.pad(axis, (before, after), mode="symmetric")
        got = keras.ops.convert_to_numpy(device_tiles.mirrored_indices(-before, length + before + after, length))
        np.testing.assert_array_equal(got, expected)


def test_the_engine_tiles_on_the_device_on_a_gpu_and_on_the_host_on_a_cpu(engine, monkeypatch):
    above, within = (160, 220), (90, 100)
    for gpu, expected in [(True, True), (False, False)]:
        monkeypatch.setattr(hardware, "has_gpu", lambda gpu=gpu: gpu)
        assert hardware.default_device_tiles() is expected
        assert engine.runs_on_device(*above) is expected
        assert engine.runs_on_device(*within)  # the whole image: the device loop on every device
    for forced in (True, False):  # forced either way, whatever the device
        assert engine.with_ascent(device_tiles=forced).runs_on_device(*above) is forced
