"""Zoom animations from a still: Google's loop of dream, zoom into the centre, dream again.

Each frame is the previous dream, zoomed (and optionally turned) about the
centre, then dreamed for a few steps at full size, so detail keeps growing out
of the middle. The first frame is a full dream of the still.
"""

from __future__ import annotations

from typing import Iterator

import cv2
import numpy as np

from deepdream.colors import keep_colors
from deepdream.options import DreamOptions, ZoomOptions

DEFAULT_ZOOM = ZoomOptions.zoom
DEFAULT_ZOOM_STEPS = ZoomOptions.frame_steps


def zoom_image(image: np.ndarray, zoom: float = DEFAULT_ZOOM, rotate: float = 0.0) -> np.ndarray:
    """Scales `image` by `zoom` and turns it by `rotate` degrees (counter-clockwise) about its centre.

    The frame keeps its size: a zoom above 1 crops the border away, edges are
    mirrored where a rotation or a zoom below 1 uncovers them. Returns float32.
    """
    check_zoom(zoom, rotate)
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), rotate, zoom)
    return cv2.warpAffine(np.asarray(image, np.float32), matrix, (width, height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)


def zoom_frames(engine, image: np.ndarray, frames: int, zoom: float = DEFAULT_ZOOM, rotate: float = 0.0,
                dream: DreamOptions | None = None, frame_steps: int = DEFAULT_ZOOM_STEPS,
                previous: np.ndarray | None = None) -> Iterator[np.ndarray]:
    """Yields the `frames` uint8 frames of a zoom animation into `image`.

    Args:
        engine: the `DeepDream` to use.
        image: the `(H, W, 3)` uint8 still.
        frames: number of frames to yield.
        zoom: scale from one frame to the next. Defaults to 1.05.
        rotate: degrees turned from one frame to the next. Defaults to 0.
        dream: the dream of the first frame; its `step_size`, `jitter`,
            `lapnorm` and `seed` also drive the later frames, and
            `original_colors` keeps the still's colours in every frame.
            Defaults to `DreamOptions()`.
        frame_steps: ascent steps on each later frame. Defaults to 5.
        previous: a frame yielded earlier: continue after it (a resumed job)
            instead of starting with a full dream of `image`. Defaults to `None`.
    """
    from deepdream.video_dream import to_uint8  # Keras loads with the dream, not the parser

    dream = dream or DreamOptions()
    options = dream.engine_kwargs()
    if frame_steps < 1:
        raise ValueError(f"`frame_steps` must be at least 1. Received: frame_steps={frame_steps}")
    check_zoom(zoom, rotate)
    current = None if previous is None else np.asarray(previous, np.float32)
    for _ in range(frames):
        if current is None:
            start = image
            current = engine.dream(image, **options).astype(np.float32)
        else:
            start = zoom_image(current, zoom, rotate)
            current = np.clip(engine.refine(start, frame_steps, options["step_size"], options["jitter"],
                                            options["lapnorm"], options["seed"]), 0.0, 255.0)
        if dream.original_colors:
            current = keep_colors(to_uint8(current), to_uint8(start)).astype(np.float32)
        yield to_uint8(current)


def check_zoom(zoom: float, rotate: float) -> None:
    """Raises `ValueError` for a zoom outside 0.5..2 or a rotation that is not a finite number."""
    if not 0.5 <= zoom <= 2.0:
        raise ValueError(f"`zoom` must be between 0.5 and 2. Received: zoom={zoom}")
    if not np.isfinite(rotate):
        raise ValueError(f"`rotate` must be a finite number of degrees. Received: rotate={rotate}")
