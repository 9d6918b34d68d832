"""Random transforms applied to the image before each gradient (transformation robustness).

A transform is a callable `transform(image, rng) -> (transformed, untransform)`:
`untransform` maps the gradient with respect to the transformed image back
onto the untransformed one. Transforms compose with `compose`, like lucid's.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import keras
import numpy as np

from deepdream import ascent_step


def identity(image, rng):
    """No transform."""
    return image, _unchanged


def jitter(pixels: int) -> Callable:
    """A random roll of up to `pixels` in each direction (the DeepDream notebooks' jitter, an ascent step's roll)."""
    if pixels == 0:
        return identity

    def roll(image, rng):
        shift = tuple(int(v) for v in rng.randint(-pixels, pixels + 1, size=2))
        return ascent_step.rolled(image, shift), lambda gradient: ascent_step.rolled_back(gradient, shift)

    return roll


def pad(pixels: int, value: float = 0.0) -> Callable:
    """Pads `pixels` of constant `value` on every side (0.0 is mid-grey); the gradient is cropped back."""
    if pixels == 0:
        return identity

    def padded(image, rng):
        widths = [[0, 0], [pixels, pixels], [pixels, pixels], [0, 0]]
        return (keras.ops.pad(image, widths, constant_values=value),
                lambda gradient: gradient[:, pixels:-pixels, pixels:-pixels, :])

    return padded


def scale_and_rotate(scales: Sequence[float], angles: Sequence[float]) -> Callable:
    """A random zoom about the centre (one of `scales`) and rotation (one of `angles`, degrees).

    One bilinear resampling does both. The gradient goes back through the
    inverse warp, a close stand-in for the exact adjoint of the resampling
    (the gradient is normalised after the pullback, so its overall scale
    does not matter).
    """
    scales, angles = list(scales), list(angles)

    def warp(image, rng):
        scale, angle = scales[rng.randint(len(scales))], angles[rng.randint(len(angles))]
        if scale == 1.0 and angle == 0:
            return image, _unchanged
        height, width = image.shape[1], image.shape[2]
        forward = _affine(scale, angle, height, width)
        backward = _affine(1.0 / scale, -angle, height, width)
        return (keras.ops.image.affine_transform(image, forward, fill_mode="reflect"),
                lambda gradient: keras.ops.image.affine_transform(gradient, backward, fill_mode="constant"))

    return warp


def compose(*transforms: Callable) -> Callable:
    """Applies `transforms` in order; the gradient goes back through them in reverse."""

    def composed(image, rng):
        untransforms = []
        for transform in transforms:
            image, untransform = transform(image, rng)
            untransforms.append(untransform)

        def untransform_all(gradient):
            for untransform in reversed(untransforms):
                gradient = untransform(gradient)
            return gradient

        return image, untransform_all

    return composed


def lucid_transforms() -> Callable:
    """lucid's `standard_transforms`: pad 12, jitter 8, scale 0.9..1.1, rotate -10..10 degrees, jitter 4."""
    return compose(
        pad(12),
        jitter(8),
        scale_and_rotate([1 + (i - 5) / 50.0 for i in range(11)], list(range(-10, 11)) + 5 * [0]),
        jitter(4),
    )


def _affine(scale: float, angle: float, height: int, width: int):
    """The `affine_transform` row mapping each output pixel to the input point it samples.

    The output is the input zoomed by `scale` and turned by `angle` degrees about its centre.
    """
    radians = math.radians(angle)
    cos, sin = math.cos(radians) / scale, math.sin(radians) / scale
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    row = [cos, sin, cx - cos * cx - sin * cy, -sin, cos, cy + sin * cx - cos * cy, 0.0, 0.0]
    return keras.ops.convert_to_tensor(np.array([row], "float32"))


def _unchanged(gradient):
    return gradient
