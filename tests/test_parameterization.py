"""Parameterisations and transforms: the Fourier image's pullback is its true gradient; transforms undo."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from deepdream import transforms
from deepdream.channels import ChannelList, channel_flag, check_channels, parse_channels
from deepdream.parameterization import FourierImage


@pytest.mark.parametrize("height, width", [(16, 16), (15, 18), (12, 9)])
def test_fourier_pullback_is_the_gradient_of_the_image(height, width):
    parameters = FourierImage(height, width, seed=1, std=0.5)
    rng = np.random.RandomState(2)
    weights = rng.randn(1, height, width, 3).astype("float32")
    direction = rng.randn(*parameters.value.shape).astype("float32")
    start = keras.ops.convert_to_numpy(parameters.value)

    def objective(value):
        parameters.value = keras.ops.convert_to_tensor(value)
        return float(np.sum(keras.ops.convert_to_numpy(parameters.image()).astype("float64") * weights))

    eps = 1e-2
    finite_difference = (objective(start + eps * direction) - objective(start - eps * direction)) / (2 * eps)
    parameters.value = keras.ops.convert_to_tensor(start)
    pullback = keras.ops.convert_to_numpy(parameters.pullback(keras.ops.convert_to_tensor(weights)))
    assert pullback.shape == start.shape == (2, 3, height, width // 2 + 1)
    assert np.sum(pullback * direction) == pytest.approx(finite_difference, rel=2e-3)


def test_fourier_image_starts_grey_and_low_frequencies_move_most():
    parameters = FourierImage(64, 64, seed=0)
    image = keras.ops.convert_to_numpy(parameters.image())
    assert image.shape == (1, 64, 64, 3) and np.abs(image).max() < 0.5
    # One unit step on the DC term moves the image more than one on the highest frequency.
    moved = {}
    for name, index in {"low": (0, 0, 0, 0), "high": (0, 0, 32, 32)}.items():
        update = np.zeros(parameters.value.shape, "float32")
        update[index] = 0.01
        probe = FourierImage(64, 64, seed=0)
        probe.apply(keras.ops.convert_to_tensor(update))
        moved[name] = np.abs(keras.ops.convert_to_numpy(probe.image()) - image).sum()
    assert moved["low"] > 20 * moved["high"]


def test_transforms_compose_and_their_untransform_restores_the_shape():
    image = keras.ops.convert_to_tensor(np.random.RandomState(0).uniform(-1, 1, (1, 40, 50, 3)).astype("float32"))
    transformed, untransform = transforms.lucid_transforms()(image, np.random.RandomState(3))
    assert transformed.shape == (1, 64, 74, 3)
    assert untransform(transformed).shape == image.shape


def test_scale_and_rotate_untransform_maps_back_to_the_same_place():
    rng = np.random.RandomState(0)
    smooth = np.cumsum(np.cumsum(rng.randn(1, 80, 80, 3), axis=1), axis=2).astype("float32")
    smooth /= np.abs(smooth).max()
    image = keras.ops.convert_to_tensor(smooth)
    warped, untransform = transforms.scale_and_rotate([1.1], [10])(image, rng)
    restored = keras.ops.convert_to_numpy(untransform(warped))[0, 20:60, 20:60]
    assert np.abs(restored - smooth[0, 20:60, 20:60]).mean() < 0.1 * np.abs(smooth).mean()
    assert np.abs(keras.ops.convert_to_numpy(warped)[0, 20:60, 20:60] - smooth[0, 20:60, 20:60]).mean() > \
        3 * np.abs(restored - smooth[0, 20:60, 20:60]).mean()


@pytest.mark.parametrize(
    "text, channels",
    [("0-3", [0, 1, 2, 3]), ("3,7,40-42", [3, 7, 40, 41, 42]), ("5,5,4-6", [5, 4, 6]), ("9", [9])],
)
def test_parse_channels(text, channels):
    assert parse_channels(text) == channels


@pytest.mark.parametrize("text", ["", "a-b", "5-3", "1,,2", "-", "1.5"])
def test_parse_channels_refuses_nonsense(text):
    with pytest.raises(ValueError, match="--channel takes"):
        parse_channels(text)


def test_channel_flag_is_an_int_for_one_number_and_a_list_otherwise():
    assert channel_flag("7") == 7 and isinstance(channel_flag("7"), int)
    assert channel_flag("0-2") == ChannelList([0, 1, 2])


def test_check_channels_bounds_and_limit():
    check_channels(list(range(64)), "mixed4", 768)
    with pytest.raises(ValueError, match="Channel 768 does not exist in mixed4"):
        check_channels([767, 768], "mixed4", 768)
    with pytest.raises(ValueError, match="at most 64"):
        check_channels(list(range(65)), "mixed4", 768)


def test_fourier_image_from_an_image_gives_that_image_back():
    image = np.random.RandomState(0).uniform(-0.9, 0.9, (1, 24, 31, 3)).astype("float32")
    parameters = FourierImage.from_image(keras.ops.convert_to_tensor(image))
    assert np.abs(keras.ops.convert_to_numpy(parameters.image()) - image).max() < 1e-3
