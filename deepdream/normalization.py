"""Gradient normalisation: mean-abs, and the Laplacian-pyramid normalisation of the TF1 notebook.

`mean_abs_normalize` and `laplacian_normalize` take and return tensors (any
parameterisation). The pixel ascent of the engine uses `mean_abs` and
`add_scaled`, which work on NumPy buffers in place, a band of rows at a time,
so an 8K image needs no image-sized temporary. (Mean-abs needs one global
statistic, so the gradient of the whole image is kept until it is known;
the Laplacian pyramid needs a global RMS per band and still works on the
whole gradient at once.)
"""

from __future__ import annotations

import keras
import numpy as np

_BINOMIAL = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]).astype("float32") / 256.0


def mean_abs_normalize(gradient, eps: float = 1e-8):
    """Scales `gradient` so that its mean absolute value is 1."""
    return gradient / (keras.ops.mean(keras.ops.abs(gradient)) + eps)


def mean_abs(gradient: np.ndarray, rows: int = 256) -> float:
    """The mean absolute value of an `(H, W, C)` array, summed in float64 a band of `rows` at a time."""
    total = 0.0
    for top in range(0, gradient.shape[0], rows):
        total += float(np.abs(gradient[top: top + rows]).sum(dtype=np.float64))
    return total / gradient.size


def add_scaled(image: np.ndarray, gradient: np.ndarray, scale: float, low: float = -1.0,
               high: float = 1.0, rows: int = 256) -> None:
    """`image = clip(image + scale * gradient, low, high)` in place, a band of `rows` at a time."""
    band = np.empty((min(rows, image.shape[0]),) + image.shape[1:], np.float32)
    for top in range(0, image.shape[0], rows):
        target = image[top: top + rows]
        update = band[: target.shape[0]]
        np.multiply(gradient[top: top + rows], np.float32(scale), out=update)
        target += update
        np.clip(target, low, high, out=target)


def laplacian_normalize(gradient, levels: int = 4, eps: float = 1e-8):
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
    return merged / (keras.ops.mean(keras.ops.abs(merged), axis=(1, 2, 3), keepdims=True) + eps)


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
