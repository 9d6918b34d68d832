"""Channel galleries: one render per channel, laid out in one labelled grid with matplotlib."""

from __future__ import annotations

import math
import warnings
from typing import Callable, Sequence

import numpy as np

from deepdream.channels import MAX_GALLERY_CHANNELS, check_channels
from deepdream.render import Renderer

# Channels rendered as one batch (benchmarks/bench_gallery.py: what pays on a 2-core CPU).
DEFAULT_GALLERY_BATCH = 8


def gallery(layer: str, channels: Sequence[int], size: tuple[int, int] = (128, 128), weights="imagenet",
            columns: int | None = None, renderer: Renderer | None = None,
            batch_size: int = DEFAULT_GALLERY_BATCH,
            on_render: Callable[[int, np.ndarray], None] | None = None, **render_options) -> np.ndarray:
    """Renders each of `channels` of `layer` from noise and returns one labelled grid image.

    Pixel renders run `batch_size` channels at a time as one batch
    (`Renderer.render_batch`); Fourier renders one channel at a time.

    Args:
        layer: the layer, e.g. `"mixed4"`.
        channels: channel numbers, at most `MAX_GALLERY_CHANNELS` (64).
        size: `(height, width)` of each render. Defaults to `(128, 128)`.
        weights: as in `Renderer` (ignored when `renderer` is given). Defaults to `"imagenet"`.
        columns: renders per row. Defaults to a near-square grid.
        renderer: a `Renderer` of `layer` to reuse. Defaults to a new one.
        batch_size: channels rendered together; 1 renders one by one.
            Defaults to `DEFAULT_GALLERY_BATCH`.
        on_render: called as `on_render(channel, image)` as each render is
            finished. Defaults to `None`.
        **render_options: keyword arguments of `Renderer.render` (`param`,
            `octaves`, `lapnorm`, `steps`, `seed`, ...).

    Returns:
        The grid, an `(H, W, 3)` uint8 image with `layer:channel` above each render.
    """
    channels = list(channels)
    if not channels:
        raise ValueError("`channels` is empty: give at least one channel.")
    renderer = renderer or Renderer(layer, weights=weights)
    check_channels(channels, layer, renderer.channels(), MAX_GALLERY_CHANNELS)
    if batch_size < 1:
        raise ValueError(f"`batch_size` must be at least 1. Received: batch_size={batch_size}")
    if render_options.get("param", "pixel") != "pixel":
        batch_size = 1
    options = {k: v for k, v in render_options.items() if k != "param"} if batch_size > 1 else render_options
    groups = [channels[i: i + batch_size] for i in range(0, len(channels), batch_size)]
    renders = []
    for index, group in enumerate(groups):
        with warnings.catch_warnings():
            if index:
                warnings.simplefilter("ignore")  # the first group gave any warning (a capped octave count) once
            if batch_size == 1:
                images = [renderer.render(group[0], size, **options)]
            else:
                images = renderer.render_batch(group, size, **options)
        for channel, image in zip(group, images):
            if on_render is not None:
                on_render(channel, image)
        renders += images
    return grid_image(renders, [f"{layer}:{channel}" for channel in channels], columns)


def grid_image(images: Sequence[np.ndarray], labels: Sequence[str], columns: int | None = None,
               tile_inches: float = 1.6, dpi: int = 100) -> np.ndarray:
    """Lays `images` out in a grid with `labels` as titles; returns the figure as `(H, W, 3)` uint8."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    columns = columns or math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / columns)
    figure = Figure(figsize=(columns * tile_inches, rows * (tile_inches + 0.2)), dpi=dpi)
    canvas = FigureCanvasAgg(figure)
    axes = figure.subplots(rows, columns, squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.set_axis_off()
        if index < len(images):
            axis.imshow(images[index])
            axis.set_title(labels[index], fontsize=8, pad=2)
    figure.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - 0.3 / (rows * (tile_inches + 0.2)),
                           wspace=0.04, hspace=0.18)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()
