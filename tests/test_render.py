"""Renders from noise: pre-ReLU taps, dead channels, and the strength and smoothness targets (trained weights)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from deepdream.objectives import relu_channel_source
from inception_keras.inception_v3 import InceptionV3
from inception_keras.names import pre_relu_names, resolve_layer_name

SIZE = 128


@pytest.fixture(scope="module")
def small_base():
    return InceptionV3(include_top=False, weights=None, input_shape=(75, 75, 3))


def test_pre_relu_resolves_to_the_batch_norm_or_the_conv(small_base):
    assert resolve_layer_name(small_base, "mixed4_branch7x7_3_pre_relu") == "mixed4_branch7x7_3_bn"
    inputs = keras.Input((8, 8, 3))
    conv = keras.layers.Conv2D(4, 3, name="unit_conv")(inputs)
    plain = keras.Model(inputs, keras.layers.ReLU(name="unit_relu")(conv))
    assert resolve_layer_name(plain, "unit_pre_relu") == "unit_conv"
    with pytest.raises(ValueError, match="mixed4_branch7x7_3_pre_relu"):
        resolve_layer_name(small_base, "mixed4_branch7x7_9_pre_relu")


def test_every_unit_has_a_pre_relu_tap(small_base):
    names = pre_relu_names(small_base)
    relus = [layer.name for layer in small_base.layers if layer.name.endswith("_relu")]
    assert len(names) == len(relus) == 94
    assert "mixed4_branch1x1_1_pre_relu" in names


@pytest.mark.parametrize(
    "layer, channel, source",
    [
        ("mixed4", 0, ("mixed4_branch1x1_1", 0)),
        ("mixed4", 200, ("mixed4_branch7x7_3", 8)),
        ("mixed4", 767, ("mixed4_branchpool_1", 191)),
        ("mixed9", 500, ("mixed9_branch3x3_2a", 180)),  # after 320 branch1x1 channels
        ("mixed4_branch7x7_2_relu", 5, ("mixed4_branch7x7_2", 5)),
        ("mixed3", 767, None),  # mixed3's last channels come from a max pool
    ],
)
def test_a_post_relu_channel_maps_to_its_unit(small_base, layer, channel, source):
    assert relu_channel_source(small_base, layer, channel) == source


# --- trained weights: the targets, at 128 pixels --------------------------------------------------------


@pytest.fixture(scope="module")
def renderer(trained_weights_path):
    from deepdream.render import Renderer

    return Renderer("mixed4", weights=str(trained_weights_path))


@pytest.fixture(scope="module")
def photos():
    import matplotlib.cbook
    import skimage.data

    from inception_keras.images import load_image, resize_image

    images = [skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea(),
              load_image(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))]
    squares = []
    for image in images:
        side = min(image.shape[:2])
        top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
        squares.append(resize_image(image[top: top + side, left: left + side], SIZE, SIZE))
    return squares


def _best_photo(renderer, photos, channel):
    return max(renderer.activation(photo, channel) for photo in photos)


def _neighbour_difference(image):
    pixels = image.astype("float32")
    return (np.abs(np.diff(pixels, axis=0)).mean() + np.abs(np.diff(pixels, axis=1)).mean()) / 2


def test_a_dead_channel_needs_the_pre_relu_term(renderer, photos):
    # The renderer's network is built with BatchNorm folded: a unit's `_conv` outputs its pre-activation.
    assert [term.layer for term in renderer.engine_for(0).terms] == ["mixed4", "mixed4_branch1x1_1_conv"]
    from deepdream.render import grey_noise

    dead = 0  # mixed4 channel 0 is zero everywhere on the grey-noise start
    start = np.clip(grey_noise(SIZE, SIZE), 0, 255).astype(np.uint8)
    assert renderer.activation(start, dead) == 0.0
    post_relu_only = renderer.render(dead, (SIZE, SIZE), octaves=1, steps=10, pre_relu_weight=0)
    assert renderer.activation(post_relu_only, dead) == 0.0
    rendered = renderer.render(dead, (SIZE, SIZE))
    assert renderer.activation(rendered, dead) >= 2 * _best_photo(renderer, photos, dead)


@pytest.mark.parametrize("channel", [1, 300])
def test_live_channels_render_twice_as_strong_as_any_photo(renderer, photos, channel):
    rendered = renderer.render(channel, (SIZE, SIZE))
    assert rendered.shape == (SIZE, SIZE, 3) and rendered.dtype == np.uint8
    assert renderer.activation(rendered, channel) >= 2 * _best_photo(renderer, photos, channel)


@pytest.mark.slow
def test_lapnorm_and_fft_are_smoother_than_naive_and_still_strong(renderer, photos):
    channel = 1
    best = _best_photo(renderer, photos, channel)
    naive = renderer.render(channel, (SIZE, SIZE), octaves=1)
    for smoother in (renderer.render(channel, (SIZE, SIZE), lapnorm=True),
                     renderer.render(channel, (SIZE, SIZE), param="fft", steps=64)):
        assert _neighbour_difference(smoother) < 0.8 * _neighbour_difference(naive)
        assert renderer.activation(smoother, channel) >= 1.5 * best
