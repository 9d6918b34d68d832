"""The tiled gradient inside the compiled program: the tiles of an image above the whole-image limit on the device.

`tiled_gradient(gradient, tile_size, margin)` wraps the backend's traceable
gradient (`deepdream.gradients.traceable_gradient`) into one with the same
signature, `gradient(image, weights) -> (loss, d loss / d image)`, so the
octave program (`deepdream.ascent.octave_program`) runs tiled octaves as it
runs whole ones. It is the host tiled loop's gradient
(`deepdream.tiling.tile_grid_gradient`) written with `keras.ops`: the
(rolled) image is mirror-padded as `numpy.pad(mode="symmetric")` pads it,
a `keras.ops.fori_loop` over the tile index slices each
`tile_size`-pixel tile out of it, takes its gradient and writes the core
(`margin` pixels in from each edge) into a gradient buffer of whole cores,
which is cropped to the image at the end; the loss is the mean tile loss.
Nothing leaves the device. Tile counts are computed from the image's shape
at run time, so one TensorFlow trace serves every size.
"""

from __future__ import annotations

from typing import Callable

import keras


def tiled_gradient(gradient: Callable, tile_size: int, margin: int) -> Callable:
    """Returns `tiled(image, weights) -> (mean tile loss, gradient)` for `(N, H, W, 3)` images.

    Args:
        gradient: traceable `gradient(tile, weights) -> (loss, gradient)`.
        tile_size: T, the side of the square tiles, margins included.
        margin: pixels dropped from each tile side; the cores,
            `tile_size - 2 * margin` pixels square, cover the image edge to edge.
    """
    core = tile_size - 2 * margin
    if core <= 0:
        raise ValueError(f"`tile_size` must exceed twice `margin`. Received: tile_size={tile_size}, margin={margin}")

    def tiled(image, weights):
        batch, height, width = (keras.ops.shape(image)[axis] for axis in range(3))
        rows, cols = (height + core - 1) // core, (width + core - 1) // core
        padded = keras.ops.take(image, mirrored_indices(-margin, rows * core + 2 * margin, height), axis=1)
        padded = keras.ops.take(padded, mirrored_indices(-margin, cols * core + 2 * margin, width), axis=2)

        def body(index, state):
            total, cores = state
            top, left = (index // cols) * core, (index % cols) * core
            tile = keras.ops.slice(padded, [0, top, left, 0], [batch, tile_size, tile_size, 3])
            loss, tile_gradient = gradient(tile, weights)
            kept = keras.ops.slice(tile_gradient, [0, margin, margin, 0], [batch, core, core, 3])
            return total + keras.ops.cast(loss, "float32"), keras.ops.slice_update(cores, [0, top, left, 0], kept)

        cores = keras.ops.zeros((batch, rows * core, cols * core, 3), image.dtype)
        total, cores = keras.ops.fori_loop(0, rows * cols, body, (keras.ops.zeros((), "float32"), cores))
        return total / keras.ops.cast(rows * cols, "float32"), cores[:, :height, :width]

    return tiled


def mirrored_indices(start, count, length):
    """Indices into an axis of `length` of positions `start..start+count` of that axis mirror-padded.

    Beyond the edges the axis is mirrored with the edge pixel repeated
    (`numpy.pad(mode="symmetric")`), repeatedly where the padding is wider
    than the axis, as `deepdream.tiling` gathers its tiles. The arguments may
    be Python integers or scalar integer tensors (an unknown side).
    """
    positions = keras.ops.mod(keras.ops.arange(start, start + count, dtype="int32"), 2 * length)
    return keras.ops.where(positions >= length, 2 * length - 1 - positions, positions)
