"""The octave schedule: image sizes from the smallest to the original."""

from __future__ import annotations

import warnings


def octave_shapes(height: int, width: int, octaves: int, octave_scale: float,
                  min_size: int = 75) -> list[tuple[int, int]]:
    """Returns `octaves` shapes, smallest first, the last being `(height, width)`.

    Each shape is the next one divided by `octave_scale`. The count is capped
    (with a warning) so the smallest side stays at least `min_size`, the
    smallest input Inception-v3 accepts.

    Raises:
        ValueError: `octaves < 1`, `octave_scale <= 1`, or an image smaller
            than `min_size`.
    """
    if octaves < 1:
        raise ValueError(f"`octaves` must be at least 1. Received: octaves={octaves}")
    if not octave_scale > 1.0:
        raise ValueError(f"`octave_scale` must be above 1. Received: octave_scale={octave_scale}")
    if min(height, width) < min_size:
        raise ValueError(
            f"The image is {width}x{height}; both sides must be at least {min_size} pixels."
        )
    shapes = []
    for level in range(octaves):
        shape = (round(height / octave_scale**level), round(width / octave_scale**level))
        if min(shape) < min_size:
            warnings.warn(
                f"Using {level} octaves instead of {octaves}: a smaller octave would be "
                f"below the model's minimum size of {min_size} pixels.",
                stacklevel=2,
            )
            break
        shapes.append(shape)
    return shapes[::-1]
