"""Tiled gradients: fixed-size overlapping tiles whose cores cover every pixel.

A tile is `tile_size` pixels square; only its core, `margin` pixels in from
each edge, contributes to the gradient, so tile borders (where the network
sees padding) never show as seams. Cores are laid edge to edge over the
image, so every pixel gets a gradient from exactly one tile in every step.
Peak memory follows the tile size, not the image size.
"""

from __future__ import annotations

import math
from typing import Callable

import keras


def core_origins(length: int, core: int) -> list[int]:
    """Start offsets of the cores along one axis: `ceil(length / core)` cores, edge to edge."""
    return [index * core for index in range(math.ceil(length / core))]


def tiled_gradient(image, gradient_fn: Callable, tile_size: int, margin: int):
    """Returns `(mean loss over tiles, gradient)` of `image` `(1, H, W, 3)`, tile by tile.

    Args:
        image: the (already rolled) image.
        gradient_fn: compiled `tile -> (loss, gradient)` for `(1, T, T, 3)` tiles.
        tile_size: T, the tile side including both margins.
        margin: pixels dropped from each tile side; `tile_size - 2 * margin`
            is the core that contributes.
    """
    core = tile_size - 2 * margin
    if core <= 0:
        raise ValueError(
            f"`tile_size` ({tile_size}) must exceed twice the margin ({margin})."
        )
    height, width = image.shape[1], image.shape[2]
    rows, cols = core_origins(height, core), core_origins(width, core)
    padded = _mirror_pad(
        image, margin, margin + rows[-1] + core - height, margin, margin + cols[-1] + core - width
    )
    losses, gradient_rows = [], []
    for top in rows:
        cores = []
        for left in cols:
            tile = padded[:, top: top + tile_size, left: left + tile_size, :]
            loss, gradient = gradient_fn(tile)
            losses.append(loss)
            cores.append(gradient[:, margin: margin + core, margin: margin + core, :])
        gradient_rows.append(keras.ops.concatenate(cores, axis=2))
    gradient = keras.ops.concatenate(gradient_rows, axis=1)[:, :height, :width, :]
    return keras.ops.mean(keras.ops.stack(losses)), gradient


def _mirror_pad(image, top, bottom, left, right):
    """Mirror-pads `image`, in rounds when a pad is wider than the image."""
    while top or bottom or left or right:
        height, width = image.shape[1], image.shape[2]
        step = [min(top, height), min(bottom, height), min(left, width), min(right, width)]
        image = keras.ops.pad(image, [[0, 0], step[:2], step[2:], [0, 0]], mode="symmetric")
        top, bottom, left, right = top - step[0], bottom - step[1], left - step[2], right - step[3]
    return image
