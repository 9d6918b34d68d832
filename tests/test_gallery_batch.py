"""Galleries in batches of channels: the same renders as channel by channel."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from deepdream.gallery import gallery
from deepdream.render import Renderer


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


def test_gallery_batches_give_the_channel_by_channel_grid(renderer):
    options = dict(size=(80, 80), renderer=renderer, octaves=1, steps=2)
    one_by_one = gallery("mixed2", [3, 40], batch_size=1, **options)
    batched = gallery("mixed2", [3, 40], batch_size=2, **options)
    assert batched.shape == one_by_one.shape
    assert np.abs(batched.astype(int) - one_by_one).max() <= 2


def test_gallery_batch_size_must_be_positive(renderer):
    with pytest.raises(ValueError, match="batch_size=0"):
        gallery("mixed2", [1], size=(80, 80), renderer=renderer, batch_size=0, steps=1)
