"""One ascent step: every loop's form of it (device tensors, host bands in place, a parameterisation) agrees."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from deepdream import ascent_step, normalization, transforms
from deepdream.parameterization import PixelImage


def _image_and_gradient(height=70, width=45, samples=1, seed=0):
    rng = np.random.RandomState(seed)
    image = rng.uniform(-0.99, 0.99, (samples, height, width, 3)).astype(np.float32)
    gradient = (rng.standard_normal((samples, height, width, 3)) * rng.uniform(0.1, 10, (samples, 1, 1, 1)))
    return image, gradient.astype(np.float32)


@pytest.mark.parametrize("lapnorm", [False, True])
def test_the_host_update_in_bands_equals_the_update_of_whole_tensors(lapnorm):
    image, gradient = _image_and_gradient()
    direction, scale = ascent_step.step_update(keras.ops.convert_to_tensor(gradient), 0.5, lapnorm)
    whole = keras.ops.convert_to_numpy(ascent_step.ascended(keras.ops.convert_to_tensor(image), direction * scale))
    in_place = image[0].copy()
    ascent_step.ascend_in_place(in_place, gradient[0], 0.5, lapnorm, rows=16)  # 5 bands, the last short
    assert np.abs(whole[0] - image[0]).mean() > 0.1 and (np.abs(whole) == 1.0).any()  # moved, and clipped
    np.testing.assert_allclose(in_place, whole[0], atol=1e-6)


def test_each_sample_is_normalised_on_its_own():
    _, gradient = _image_and_gradient(samples=3)
    for lapnorm in (False, True):
        direction, scale = normalization.normalized_gradient(keras.ops.convert_to_tensor(gradient), lapnorm)
        normalized = keras.ops.convert_to_numpy(direction * scale)
        np.testing.assert_allclose(np.abs(normalized).mean(axis=(1, 2, 3)), 1.0, rtol=1e-4)
        single, scale = normalization.normalized_gradient(keras.ops.convert_to_tensor(gradient[1:2]), lapnorm)
        np.testing.assert_allclose(normalized[1:2], keras.ops.convert_to_numpy(single * scale), rtol=1e-5, atol=1e-6)


def test_the_mean_abs_statistic_in_bands_equals_the_whole():
    _, gradient = _image_and_gradient()
    whole = keras.ops.convert_to_numpy(normalization.mean_abs_scale(gradient, axis=(1, 2, 3)))
    bands = keras.ops.convert_to_numpy(normalization.mean_abs_scale(gradient, axis=(1, 2, 3), band_rows=16))
    assert whole.shape == bands.shape == (1, 1, 1, 1)
    np.testing.assert_allclose(bands, whole, rtol=1e-6)


def test_the_general_loop_steps_a_pixel_image_as_the_device_step():
    # What `OctaveAscent.ascend` does for a `PixelImage` under jitter and mean-abs: the same roll, update and clip.
    image, gradient = _image_and_gradient()
    shift = (5, -7)

    def linear_gradient(rolled, weights):  # d/d rolled of sum(rolled * pattern): the pattern, the loss a number
        return keras.ops.sum(rolled * gradient), keras.ops.convert_to_tensor(gradient)

    stepped, _ = ascent_step.ascent_step(keras.ops.convert_to_tensor(image), shift, 0.5, False, linear_gradient, ())
    parameters = PixelImage(image)
    rolled, untransform = transforms.jitter(7)(parameters.image(), _FixedShift(shift))
    _, rolled_gradient = linear_gradient(rolled, ())
    parameters.apply(0.5 * normalization.mean_abs_normalize(parameters.pullback(untransform(rolled_gradient))))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(parameters.image()), keras.ops.convert_to_numpy(stepped),
                               atol=1e-6)


class _FixedShift:
    """A random state whose `randint` draws `shift`."""

    def __init__(self, shift):
        self.shift = shift

    def randint(self, low, high, size):
        return np.array(self.shift)
