"""How the image being dreamed is represented: the engine ascends on parameters, not always pixels.

A parameterisation holds its own state and gives the engine three things:
`image()` (the `(1, H, W, 3)` float32 image in [-1, 1] the network sees),
`pullback(gradient)` (d loss / d parameters from d loss / d image) and
`apply(update)` (add a normalised, scaled update to the parameters).
"""

from __future__ import annotations

import keras
import numpy as np

from deepdream import ascent_step


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
        """Adds `update` and clips to the valid pixel range, as every ascent step does (`ascent_step.ascended`)."""
        self.value = ascent_step.ascended(self.value, update)


# lucid's colour decorrelation: the square root of ImageNet's RGB covariance
# (columns are its principal directions), normalised to a largest column norm of 1.
_COLOR_CORRELATION_SVD_SQRT = np.array(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], "float32"
)
COLOR_CORRELATION = _COLOR_CORRELATION_SVD_SQRT / np.max(np.linalg.norm(_COLOR_CORRELATION_SVD_SQRT, axis=0))


class FourierImage:
    """lucid's Fourier parameterisation: a decorrelated, 1/f-scaled spectrum, then a sigmoid.

    The parameters are the real and imaginary parts of a half spectrum
    (`numpy.fft.rfft2` layout) per decorrelated colour channel. The image is

        pixels = 2 * sigmoid(decorrelate(irfft2(spectrum * scale) / 4)) - 1

    where `scale` is `1 / max(f, 1 / max(H, W)) ** decay_power * sqrt(H * W)`
    (lucid's `fft_image`): low frequencies get large steps, high ones small,
    so gradient steps in these parameters make smooth, natural-coloured
    images. The map is linear up to the sigmoid, so `pullback` is written out
    with `keras.ops` (it is the adjoint of that linear map times the
    sigmoid's derivative) and needs no backend autodiff.

    Args:
        height, width: image size.
        seed: seed of the random initial spectrum. Defaults to 0.
        std: standard deviation of the initial spectrum (lucid's `sd`). Defaults to 0.01.
        decay_power: exponent of the 1/f scaling. Defaults to 1.
    """

    def __init__(self, height: int, width: int, seed: int | None = 0, std: float = 0.01,
                 decay_power: float = 1.0):
        self.height, self.width = height, width
        frequencies = np.sqrt(np.fft.fftfreq(height)[:, None] ** 2 + np.fft.rfftfreq(width)[None, :] ** 2)
        scale = np.sqrt(height * width) / np.maximum(frequencies, 1.0 / max(height, width)) ** decay_power
        self._scale = keras.ops.convert_to_tensor(scale.astype("float32") / 4.0)
        # Columns other than 0 and Nyquist stand for two conjugate bins of the full spectrum.
        multiplicity = np.full(frequencies.shape[1], 2.0)
        multiplicity[0] = 1.0
        if width % 2 == 0:
            multiplicity[-1] = 1.0
        self._multiplicity = keras.ops.convert_to_tensor(multiplicity.astype("float32"))
        initial = std * np.random.RandomState(seed).randn(2, 3, *frequencies.shape)
        self.value = keras.ops.convert_to_tensor(initial.astype("float32"))
        self._color = keras.ops.convert_to_tensor(COLOR_CORRELATION)

    @classmethod
    def from_image(cls, image, decay_power: float = 1.0) -> "FourierImage":
        """The parameters whose image is `image` `(1, H, W, 3)` in [-1, 1] (clipped to +-0.98 first)."""
        height, width = image.shape[1], image.shape[2]
        parameters = cls(height, width, seed=0, std=0.0, decay_power=decay_power)
        probability = (keras.ops.clip(keras.ops.convert_to_tensor(image, "float32"), -0.98, 0.98) + 1.0) / 2.0
        logits = keras.ops.log(probability) - keras.ops.log(1.0 - probability)
        spatial = keras.ops.matmul(logits[0], keras.ops.convert_to_tensor(np.linalg.inv(COLOR_CORRELATION.T)))
        real, imag = _rfft2(keras.ops.transpose(spatial, (2, 0, 1)))
        parameters.value = keras.ops.stack([real / parameters._scale, imag / parameters._scale])
        return parameters

    def image(self):
        """The `(1, H, W, 3)` image in (-1, 1)."""
        return 2.0 * keras.ops.sigmoid(self._logits()) - 1.0

    def pullback(self, gradient):
        """Maps d loss / d image `(1, H, W, 3)` to d loss / d spectrum `(2, 3, H, W // 2 + 1)`."""
        sigmoid = keras.ops.sigmoid(self._logits())
        logits_gradient = gradient * 2.0 * sigmoid * (1.0 - sigmoid)
        # logits = spatial @ COLOR_CORRELATION.T, so d/d spatial = d/d logits @ COLOR_CORRELATION.
        spatial_gradient = keras.ops.transpose(
            keras.ops.matmul(logits_gradient, self._color)[0], (2, 0, 1))
        real, imag = _rfft2(spatial_gradient)
        weight = self._scale * self._multiplicity / (self.height * self.width)
        return keras.ops.stack([real * weight, imag * weight])

    def apply(self, update) -> None:
        """Adds `update` to the spectrum."""
        self.value = self.value + update

    def _logits(self):
        spatial = _irfft2(self.value[0] * self._scale, self.value[1] * self._scale, self.width)
        return keras.ops.matmul(keras.ops.transpose(spatial, (1, 2, 0))[None], keras.ops.transpose(self._color))


def _rfft2(x):
    """`numpy.fft.rfft2` of a real `(C, H, W)` tensor as `(real, imag)`."""
    real, imag = keras.ops.rfft(x)
    real, imag = keras.ops.fft((keras.ops.swapaxes(real, -1, -2), keras.ops.swapaxes(imag, -1, -2)))
    return keras.ops.swapaxes(real, -1, -2), keras.ops.swapaxes(imag, -1, -2)


def _irfft2(real, imag, width: int):
    """`numpy.fft.irfft2(real + 1j * imag, s=(H, width))` of `(C, H, width // 2 + 1)` halves."""
    height = real.shape[-2]
    # The inverse FFT along the height is a conjugated forward FFT.
    real, imag = keras.ops.fft((keras.ops.swapaxes(real, -1, -2), -keras.ops.swapaxes(imag, -1, -2)))
    real, imag = keras.ops.swapaxes(real, -1, -2) / height, -keras.ops.swapaxes(imag, -1, -2) / height
    return keras.ops.irfft((real, imag), fft_length=width)
