"""How the image being dreamed is represented: the engine ascends on parameters, not always pixels.

A parameterisation holds its own state and gives the engine three things:
`image()` (the `(1, H, W, 3)` float32 image in [-1, 1] the network sees),
`pullback(gradient)` (d loss / d parameters from d loss / d image) and
`apply(update)` (add a normalised, scaled update to the parameters).
"""

from __future__ import annotations

import keras


class PixelImage:
    """The plain parameterisation: the parameters are the pixels, clipped to [-1, 1]."""

    def __init__(self, image):
        self.value = keras.ops.convert_to_tensor(image, dtype="float32")

    def image(self):
        """The image the network sees: the pixels themselves."""
        return self.value

    def pullback(self, gradient):
        """The gradient with respect to the pixels is the image gradient."""
        return gradient

    def apply(self, update) -> None:
        """Adds `update` and clips to the valid pixel range."""
        self.value = keras.ops.clip(self.value + update, -1.0, 1.0)
