"""Galleries in batches of channels: the same renders as channel by channel."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from deepdream.gallery import gallery
from deepdream.options import DreamOptions
from deepdream.render import Renderer, grey_noise


@pytest.fixture(scope="module")
def renderer():
    keras.utils.set_random_seed(0)
    return Renderer("mixed2", weights=None)


@pytest.mark.parametrize("lapnorm", [False, True])
def test_a_batch_of_channels_renders_what_each_channel_renders_alone(renderer, lapnorm):
    options = dict(octaves=1, steps=2, lapnorm=lapnorm, seed=1)
    channels = [3, 40]
    batch = renderer.render_batch(channels, (80, 80), **options)
    alone = [renderer.render(channel, (80, 80), **options) for channel in channels]
    assert len({render.tobytes() for render in batch}) == len(channels)  # each sample its own channel
    for together, single in zip(batch, alone):
        assert np.abs(together.astype(int) - single).max() <= 1


@pytest.mark.parametrize("lapnorm", [False, True])
def test_a_batch_steps_each_sample_as_its_channel_alone_to_float_rounding(renderer, lapnorm):
    # From one start the two paths can differ only by the rounding of their reductions (a few ulps,
    # about 1e-8 here): a batch that normalised, rolled or scored its samples together would be off
    # by about a step (1e-3) at most pixels.
    channels = [3, 40]
    start = grey_noise(80, 80, 1)[None] / 127.5 - 1.0
    singles = [renderer.engine_for(channel) for channel in channels]
    batch = renderer.engine.with_sample_terms([engine.terms for engine in singles])
    steps = dict(steps=2, step_size=DreamOptions.step_size, jitter=32, lapnorm=lapnorm)
    together, _ = batch.ascend_pixels(keras.ops.convert_to_tensor(np.repeat(start, 2, axis=0)),
                                      rng=np.random.RandomState(1), **steps)
    together = keras.ops.convert_to_numpy(together)
    alone = np.concatenate([keras.ops.convert_to_numpy(engine.ascend_pixels(
        keras.ops.convert_to_tensor(start), rng=np.random.RandomState(1), **steps)[0]) for engine in singles])
    assert np.abs(alone - start).mean() > 1e-3  # the steps moved the image
    assert np.abs(alone[0] - alone[1]).mean() > 1e-3  # each channel its own way
    assert np.mean(np.abs(together - alone) > 1e-6) <= 1e-3


def test_a_batch_of_one_channel_renders_what_the_channel_renders_alone_through_the_octaves(renderer):
    # Any difference in noise, rolls, resizes between octaves or contrast would show. Not bitwise: two
    # compiled programs of the same shapes round apart in some processes (benchmarks/RESULTS.md), and
    # a few steps keep that within a level.
    options = dict(octaves=2, steps=2, seed=2)
    (together,) = renderer.render_batch([3], (106, 106), **options)
    assert np.abs(together.astype(int) - renderer.render(3, (106, 106), **options)).max() <= 1


def test_above_the_whole_image_limit_a_batch_renders_channel_by_channel():
    # The host tiled loop takes one image at a time: the batch falls back to it, and the engine refuses a batch.
    keras.utils.set_random_seed(0)
    renderer = Renderer("mixed2", weights=None, whole_image_pixels=80 * 80 - 1)
    options = dict(octaves=1, steps=1, seed=1)
    batch = renderer.render_batch([5, 6], (80, 80), **options)
    for channel, together in zip([5, 6], batch):
        np.testing.assert_array_equal(together, renderer.render(channel, (80, 80), **options))
    engine = renderer.engine.with_sample_terms([renderer.engine_for(5).terms, renderer.engine_for(6).terms])
    with pytest.raises(ValueError, match=r"shape=\(2, 80, 80, 3\)"):
        engine.ascend_pixels(np.zeros((2, 80, 80, 3), "float32"), 1, 0.01, 0, False, np.random.RandomState(0))


def test_gallery_batches_give_the_channel_by_channel_grid(renderer):
    options = dict(size=(80, 80), renderer=renderer, octaves=1, steps=2)
    one_by_one = gallery("mixed2", [3, 40], batch_size=1, **options)
    batched = gallery("mixed2", [3, 40], batch_size=2, **options)
    assert batched.shape == one_by_one.shape
    assert np.abs(batched.astype(int) - one_by_one).max() <= 2


def test_gallery_batch_size_must_be_positive(renderer):
    with pytest.raises(ValueError, match="batch_size=0"):
        gallery("mixed2", [1], size=(80, 80), renderer=renderer, batch_size=0, steps=1)
