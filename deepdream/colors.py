"""Keeping a photo's colours: the dream's luminance with the photo's chroma (neural-dream's `-original_colors`).

Both images go to YCbCr (ITU-R BT.601, full range, as JPEG and Pillow use
it); the result takes Y from the dream and Cb, Cr from the photo. In RGB
that pixel is `Y + offset(Cb, Cr)` for each channel, so where the dream's
brightness with the photo's chroma would leave 0..255, Y is moved to the
nearest brightness that keeps it inside: the chroma stays the photo's
(to rounding) everywhere, instead of a clip shifting the hue.
"""

from __future__ import annotations

import numpy as np

# RGB -> YCbCr rows (Y, Cb, Cr), BT.601 full range; Cb and Cr are offset by 128.
RGB_TO_YCBCR = np.array([[0.299, 0.587, 0.114],
                         [-0.168736, -0.331264, 0.5],
                         [0.5, -0.418688, -0.081312]], np.float32)
YCBCR_TO_RGB = np.linalg.inv(RGB_TO_YCBCR).astype(np.float32)
CHROMA_OFFSET = np.array([0.0, 128.0, 128.0], np.float32)


def to_ycbcr(image: np.ndarray) -> np.ndarray:
    """An `(H, W, 3)` RGB image (0..255) as float32 YCbCr."""
    return np.asarray(image, np.float32) @ RGB_TO_YCBCR.T + CHROMA_OFFSET


def to_rgb(ycbcr: np.ndarray) -> np.ndarray:
    """Float YCbCr back to `(H, W, 3)` uint8 RGB, rounded and clipped."""
    rgb = (np.asarray(ycbcr, np.float32) - CHROMA_OFFSET) @ YCBCR_TO_RGB.T
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


def keep_colors(dreamed: np.ndarray, photo: np.ndarray) -> np.ndarray:
    """The dream's luminance with the photo's colours.

    Args:
        dreamed: the `(H, W, 3)` RGB dream.
        photo: the `(H, W, 3)` RGB image it was dreamed from, the same size.

    Returns:
        An `(H, W, 3)` uint8 image: Y of `dreamed`, Cb and Cr of `photo`.
    """
    dreamed, photo = np.asarray(dreamed), np.asarray(photo)
    if dreamed.shape != photo.shape or dreamed.ndim != 3 or dreamed.shape[2] != 3:
        raise ValueError(f"The dream and the photo must be (H, W, 3) images of one size. "
                         f"Received: {dreamed.shape} and {photo.shape}")
    result = to_ycbcr(photo)
    # RGB = Y + offsets, the offsets set by the chroma alone: Y in [-min offset, 255 - max offset] stays in gamut.
    offsets = (result - CHROMA_OFFSET) @ YCBCR_TO_RGB.T - result[..., :1]
    lowest, highest = -offsets.min(axis=-1), 255.0 - offsets.max(axis=-1)
    result[..., 0] = np.clip(to_ycbcr(dreamed)[..., 0], lowest, np.maximum(lowest, highest))
    return to_rgb(result)
