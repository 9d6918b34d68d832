"""Tiled gradients: fixed-size overlapping tiles whose cores cover every pixel.

A tile is `tile_size` pixels square; only its core, `margin` pixels in from
each edge, contributes to the gradient, so tile borders (where the network
sees padding) never show as seams. Cores are laid edge to edge over the
image, so every pixel gets a gradient from exactly one tile in every step.

The random roll of a step is an offset of the tile grid, not a copy of the
image: each tile is gathered from the unrolled image (mirrored beyond the
rolled image's edges, as a padded rolled image would be) and its core's
gradient is written where it lands in the unrolled gradient buffer. So a step
holds the image, one gradient buffer and one tile, whatever the image size.
"""

from __future__ import annotations

import math
from typing import Callable

import keras
import numpy as np


def core_origins(length: int, core: int) -> list[int]:
    """Start offsets of the cores along one axis: `ceil(length / core)` cores, edge to edge."""
    return [index * core for index in range(math.ceil(length / core))]


def tile_grid_gradient(image: np.ndarray, gradient_fn: Callable, tile_size: int, margin: int,
                       shift: tuple[int, int], out: np.ndarray) -> float:
    """Writes the gradient of `image` rolled by `shift` into `out`, rolled back; returns the mean tile loss.

    Equal to rolling the image, mirror-padding it, taking each tile's
    gradient, keeping the cores and rolling the result back, without any
    image-sized temporary.

    Args:
        image: `(H, W, 3)` float32.
        gradient_fn: compiled `tile -> (loss, gradient)` for `(1, T, T, 3)` tiles.
        tile_size: T, the tile side including both margins.
        margin: pixels dropped from each tile side; `tile_size - 2 * margin`
            is the core that contributes.
        shift: `(rows, cols)` of the roll, as `numpy.roll` takes it.
        out: `(H, W, 3)` float32 buffer for the gradient.
    """
    core = tile_size - 2 * margin
    if core <= 0:
        raise ValueError(f"`tile_size` ({tile_size}) must exceed twice the margin ({margin}).")
    height, width = image.shape[:2]
    losses = []
    for top in core_origins(height, core):
        source_rows = _source_indices(top - margin, tile_size, height, shift[0])
        rows = min(core, height - top)
        target_rows = (np.arange(top, top + rows) - shift[0]) % height
        for left in core_origins(width, core):
            source_cols = _source_indices(left - margin, tile_size, width, shift[1])
            cols = min(core, width - left)
            target_cols = (np.arange(left, left + cols) - shift[1]) % width
            loss, gradient = gradient_fn(image[np.ix_(source_rows, source_cols)][None])
            gradient = keras.ops.convert_to_numpy(gradient)[0, margin: margin + rows, margin: margin + cols]
            out[np.ix_(target_rows, target_cols)] = gradient
            losses.append(float(keras.ops.convert_to_numpy(loss)))
    return float(np.mean(losses))


def tiled_gradient(image, gradient_fn: Callable, tile_size: int, margin: int):
    """Returns `(mean loss over tiles, gradient)` of `image` `(1, H, W, 3)`, tile by tile (no roll).

    Args:
        image: the image, a tensor or array.
        gradient_fn: compiled `tile -> (loss, gradient)` for `(1, T, T, 3)` tiles.
        tile_size: T, the tile side including both margins.
        margin: pixels dropped from each tile side.
    """
    pixels = np.asarray(keras.ops.convert_to_numpy(image), np.float32)[0]
    out = np.empty_like(pixels)
    loss = tile_grid_gradient(pixels, gradient_fn, tile_size, margin, (0, 0), out)
    return np.float32(loss), out[None]


def _source_indices(start: int, count: int, length: int, shift: int) -> np.ndarray:
    """Indices into the unrolled axis of positions `start..start+count` of the rolled, mirrored axis.

    Beyond the edges the rolled axis is mirrored with the edge pixel repeated
    (`numpy.pad(mode="symmetric")`), repeatedly when a tile is wider than it.
    """
    positions = np.arange(start, start + count) % (2 * length)
    positions = np.where(positions >= length, 2 * length - 1 - positions, positions)
    return (positions - shift) % length
