"""The device loop: one compiled program per octave dreams what the host loop dreams."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from deepdream import DeepDream, ascent


@pytest.fixture(scope="module")
def dreamer():
    keras.utils.set_random_seed(0)
    return DeepDream("mixed2", weights=None)


@pytest.fixture(scope="module")
def host_dreamer(dreamer):
    """The same model and objective on the host loop, as before the device loop."""
    return dreamer.with_ascent(device_loop=False)


@pytest.fixture(scope="module")
def photo(grace_hopper):
    from inception_keras.images import resize_image

    return resize_image(grace_hopper, 150, 130)


@pytest.mark.parametrize("lapnorm", [False, True])
def test_device_loop_dream_equals_the_host_loop(dreamer, host_dreamer, photo, lapnorm):
    options = dict(octaves=2, steps=3, step_size=0.02, jitter=32, lapnorm=lapnorm, seed=5)
    device = dreamer.dream(photo, **options).astype(int)
    host = host_dreamer.dream(photo, **options).astype(int)
    assert np.abs(device - photo).mean() > 1.0
    # Float rounding (float32 statistics here, float64 there) can flip a max-pool or ReLU choice of the
    # random network at a few pixels, which then step differently.
    difference = np.abs(device - host)
    assert (difference > 1).mean() < 0.005, (difference > 1).mean()
    assert np.corrcoef((device - photo).ravel(), (host - photo).ravel())[0, 1] > 0.999


def test_chunked_octaves_report_every_step_and_dream_the_same(dreamer, photo, monkeypatch):
    whole = dreamer.dream(photo, octaves=1, steps=4, seed=2)
    monkeypatch.setattr(ascent, "CHUNK_SECONDS", 0.0)  # one step a chunk
    calls, images = [], []
    chunked = dreamer.dream(photo, octaves=1, steps=4, seed=2, on_step=lambda *args: calls.append(args),
                            on_image=images.append)
    assert [done for done, _, _ in calls] == [1, 2, 3, 4]
    assert all(loss > 0 for _, _, loss in calls)
    assert np.abs(chunked.astype(int) - whole).max() <= 1
    # The dream so far after each chunk: it moves away from the photo and ends as the dream.
    assert len(images) == 4 and all(image.dtype == np.uint8 and image.shape == photo.shape for image in images)
    distances = [np.abs(image.astype(int) - photo).mean() for image in images]
    assert distances == sorted(distances) and np.array_equal(images[-1], chunked)


def test_the_host_loop_shows_each_octave(host_dreamer, photo):
    images = []
    dreamed = host_dreamer.dream(photo, octaves=2, steps=2, on_image=images.append)
    assert [image.shape[:2] for image in images] == [(107, 93), photo.shape[:2]]
    assert np.array_equal(images[-1], dreamed)


def test_refine_on_the_device_equals_the_host_loop(dreamer, host_dreamer, photo):
    start = photo.astype("float32") + 0.25
    device = dreamer.refine(start, steps=2, seed=3)
    host = host_dreamer.refine(start, steps=2, seed=3)
    assert device.dtype == np.float32 and np.abs(device - start).max() > 1.0
    np.testing.assert_allclose(device, host, atol=0.05)


def test_the_loop_is_chosen_at_construction(dreamer, host_dreamer):
    assert host_dreamer.extractor is dreamer.extractor  # the model is shared, the ascent its own
    assert dreamer.runs_on_device(150, 130) and not host_dreamer.runs_on_device(150, 130)
    with pytest.raises(AttributeError):
        dreamer.ascent.device_loop = False
    with pytest.raises(ValueError, match="tile_size=100"):
        dreamer.with_ascent(tile_size=100)


def test_shifts_are_the_host_loops_draws():
    drawn = ascent.draw_shifts(np.random.RandomState(4), 5, 16)
    rng = np.random.RandomState(4)
    assert drawn.tolist() == [list(rng.randint(-16, 17, size=2)) for _ in range(5)]
    assert not ascent.draw_shifts(np.random.RandomState(4), 3, 0).any()
