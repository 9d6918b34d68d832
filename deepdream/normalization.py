"""Gradient normalisation: mean-abs, and the Laplacian-pyramid normalisation of the TF1 notebook.

`normalized_gradient` is the normalisation of every ascent step
(`deepdream.ascent_step`): each sample's gradient scaled to a mean absolute
value of 1, or normalised band by band over a Laplacian pyramid. It returns
`(direction, scale)`, the normalised gradient being `direction * scale`:
for mean-abs the direction is the gradient itself and the scale one number
per sample, so the host loop forms an 8K image's update a band of rows at a
time. (The Laplacian pyramid needs a global RMS per band and works on the
whole gradient at once.) `mean_abs_normalize` and `laplacian_normalize`
are normalisers for the general loop over any parameterisation
(`DeepDream.ascend`); all of them share `mean_abs_scale`.
"""

from __future__ import annotations

import keras
import numpy as np

EPSILON = 1e-8
_BINOMIAL = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]).astype("float32") / 256.0


def mean_abs_scale(gradient, axis=None, eps: float = EPSILON, band_rows: int | None = None):
    """`1 / (mean |gradient| + eps)` over `axis` (all axes by default), the reduced axes kept.

    With `band_rows`, `gradient` is an `(N, H, W, C)` NumPy buffer, reduced
    over `(1, 2, 3)` a band of `band_rows` rows at a time: no image-sized
    copy of it is made.
    """
    if band_rows is None:
        mean = keras.ops.mean(keras.ops.abs(gradient), axis=axis, keepdims=True)
    else:
        mean = sum(keras.ops.sum(keras.ops.abs(keras.ops.convert_to_tensor(gradient[:, top: top + band_rows])),
                                 axis=(1, 2, 3), keepdims=True)
                   for top in range(0, gradient.shape[1], band_rows)) / float(gradient[0].size)
    return 1.0 / (mean + eps)


def normalized_gradient(gradient, lapnorm: bool = False, band_rows: int | None = None):
    """`(direction, scale)` of an `(N, H, W, 3)` gradient, each sample normalised on its own.

    `direction * scale` has a mean absolute value of 1 per sample. Mean-abs
    (the default): the gradient itself and `mean_abs_scale` per sample;
    `lapnorm`: `laplacian_normalize(gradient)` and 1. With `band_rows`,
    `gradient` may be a NumPy buffer that is not to be copied whole (the
    host loop's): mean-abs reads it a band at a time and returns it as the
    direction; the Laplacian pyramid needs it whole and converts it.
    """
    if lapnorm:
        return laplacian_normalize(keras.ops.convert_to_tensor(gradient)), 1.0
    return gradient, mean_abs_scale(gradient, axis=(1, 2, 3), band_rows=band_rows)


def mean_abs_normalize(gradient, eps: float = EPSILON):
    """Scales `gradient` (any parameters) so that its mean absolute value is 1."""
    return gradient * mean_abs_scale(gradient, eps=eps)


def laplacian_normalize(gradient, levels: int = 4, eps: float = EPSILON):
    """Normalises each band of a Laplacian pyramid of `gradient` `(N, H, W, 3)`, each sample on its own.

    Low frequencies no longer dominate, so the dream gets fine detail at every
    scale. Each band is divided by its standard deviation (RMS) and the
    pyramid is merged back; the result then has mean |g| rescaled to 1.
    Works inside compiled programs with unknown image sizes.
    """
    bands = []
    current = gradient
    for _ in range(levels - 1):
        low = _blur_down(current)
        bands.append(current - _blur_up(low, keras.ops.shape(current)))
        current = low
    bands.append(current)
    merged = bands[-1] / (_per_sample_rms(bands[-1]) + eps)
    for band in reversed(bands[:-1]):
        band = band / (_per_sample_rms(band) + eps)
        merged = _blur_up(merged, keras.ops.shape(band)) + band
    return merged * mean_abs_scale(merged, axis=(1, 2, 3), eps=eps)


def _per_sample_rms(x):
    return keras.ops.sqrt(keras.ops.mean(keras.ops.square(x), axis=(1, 2, 3), keepdims=True))


def _kernel(channels: int):
    kernel = np.zeros((5, 5, channels, channels), "float32")
    for c in range(channels):
        kernel[:, :, c, c] = _BINOMIAL
    return keras.ops.convert_to_tensor(kernel)


def _blur_down(x):
    return keras.ops.conv(x, _kernel(x.shape[-1]), strides=2, padding="same")


def _blur_up(x, shape):
    channels = x.shape[-1]
    up = keras.ops.conv_transpose(x, _kernel(channels) * 4.0, strides=2, padding="same")
    return up[:, : shape[1], : shape[2], :]
