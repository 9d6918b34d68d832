"""One step of gradient ascent on an image, written once: roll, gradient, roll back, normalise, update, clip.

Every loop of the engine takes this step. The device loop's octave
programs (`deepdream.ascent.octave_program`) run `ascent_step` on an
`(N, H, W, 3)` backend tensor. The host tiled loop rolls by offsetting its
tile grid instead (`deepdream.tiling.tile_grid_gradient`) and then calls
`ascend_in_place` on its NumPy buffers. The general loop over
parameterisations (`deepdream.octave_ascent.OctaveAscent.ascend`) rolls with
`deepdream.transforms.jitter`, which is `rolled` and `rolled_back`, and
`PixelImage.apply` is `ascended`.

The normalisation (`deepdream.normalization.normalized_gradient`) gives the
update as a direction and a per-sample scale, so the host loop forms an 8K
image's update a band of rows at a time; a new normalisation or update rule
is written there or here, once.
"""

from __future__ import annotations

from typing import Callable

import keras
import numpy as np

from deepdream import normalization

# Rows of the host loop's image updated at a time: the update's temporaries stay a band, not an image.
HOST_BAND_ROWS = 256


def rolled(image, shift):
    """`image` `(N, H, W, C)` rolled by `shift` `(rows, cols)`: Python integers or a traced `(2,)` tensor."""
    return keras.ops.roll(keras.ops.roll(image, shift[0], axis=1), shift[1], axis=2)


def rolled_back(gradient, shift):
    """The gradient with respect to `rolled(image, shift)` as the gradient with respect to `image`."""
    return keras.ops.roll(keras.ops.roll(gradient, -shift[1], axis=2), -shift[0], axis=1)


def step_update(gradient, step_size: float, lapnorm: bool, band_rows: int | None = None):
    """`(direction, scale)`: a step adds `direction * scale` to the image.

    Each sample's gradient `(N, H, W, 3)` normalised on its own (mean-abs,
    or Laplacian with `lapnorm`) times `step_size`, so the samples of a
    batch ascend independently. `band_rows`: as
    `deepdream.normalization.normalized_gradient` takes it.
    """
    direction, scale = normalization.normalized_gradient(gradient, lapnorm, band_rows)
    return direction, scale * step_size


def ascended(image, update):
    """`clip(image + update, -1, 1)`: an update applied to an image in [-1, 1]."""
    return keras.ops.clip(image + update, -1.0, 1.0)


def ascent_step(image, shift, step_size, lapnorm: bool, gradient: Callable, weights):
    """One step on an `(N, H, W, 3)` image in [-1, 1]: roll, gradient, roll back, normalise, update, clip.

    `gradient(image, weights) -> (loss, d loss / d image)` is traceable
    (`deepdream.gradients.traceable_gradient`). Returns `(image, loss)`.
    """
    loss, grad = gradient(rolled(image, shift), weights)
    direction, scale = step_update(rolled_back(grad, shift), step_size, lapnorm)
    return ascended(image, direction * scale), keras.ops.cast(loss, "float32")


def ascend_in_place(image: np.ndarray, gradient: np.ndarray, step_size: float, lapnorm: bool,
                    rows: int = HOST_BAND_ROWS) -> None:
    """The rest of a step after its gradient, in place on the `(H, W, 3)` float32 NumPy `image`.

    `gradient` (rolled back already) is normalised (`step_update`, the
    mean-abs statistic read a band at a time); the update is formed,
    applied and clipped (`ascended`) a band of `rows` rows at a time, so an
    8K image needs no image-sized temporary (the Laplacian pyramid, which
    takes the whole gradient, aside).
    """
    direction, scale = step_update(gradient[None], step_size, lapnorm, band_rows=rows)
    for top in range(0, image.shape[0], rows):
        band = image[top: top + rows]
        update = keras.ops.convert_to_tensor(direction[:, top: top + rows]) * scale
        band[...] = keras.ops.convert_to_numpy(ascended(keras.ops.convert_to_tensor(band[None]), update))[0]
