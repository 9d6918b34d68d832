"""Random transforms applied to the image before each gradient (transformation robustness).

A transform is a callable `transform(image, rng) -> (transformed, untransform)`:
`untransform` maps the gradient with respect to the transformed image back
onto the untransformed one.
"""

from __future__ import annotations

from typing import Callable

import keras


def identity(image, rng):
    """No transform."""
    return image, _unchanged


def jitter(pixels: int) -> Callable:
    """A random roll of up to `pixels` in each direction (the DeepDream notebooks' jitter)."""
    if pixels == 0:
        return identity

    def roll(image, rng):
        shift = tuple(int(v) for v in rng.randint(-pixels, pixels + 1, size=2))
        rolled = keras.ops.roll(image, shift, axis=(1, 2))
        return rolled, lambda gradient: keras.ops.roll(gradient, (-shift[0], -shift[1]), axis=(1, 2))

    return roll


def _unchanged(gradient):
    return gradient
