"""Dense optical flow between frames, warping by it, and where a warp can be trusted.

Convention: `flow = optical_flow(a, b)` gives, for each pixel `x` of `a`, the
displacement to the same point in `b`: `a(x) ~ b(x + flow(x))`, with
`flow[..., 0]` along x (columns) and `flow[..., 1]` along y (rows), in pixels.
So `warp(b, optical_flow(a, b))` looks like `a`. Flow comes from OpenCV's DIS
(dense inverse search) on the grayscale frames.

The forward-backward check of Ruder, Dosovitskiy and Brox, "Artistic style
transfer for videos" (2016, arXiv:1604.08610) marks a pixel occluded when
following the flow there and back does not return to it:
`|w~ + w^|^2 > 0.01 (|w~|^2 + |w^|^2) + 0.5`.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from deepdream.options import VideoOptions

DIS_PRESETS = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
               "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}
DEFAULT_PRESET = VideoOptions.flow_preset
# Ruder et al.'s thresholds: relative (of the squared flow lengths) and absolute (pixels squared).
RELATIVE_TOLERANCE = 0.01
ABSOLUTE_TOLERANCE = 0.5


@dataclasses.dataclass(frozen=True)
class Motion:
    """How to bring the previous frame onto the current one.

    Attributes:
        flow: `(H, W, 2)` float32, from each current pixel to where it was in
            the previous frame (`optical_flow(current, previous)`).
        valid: `(H, W)` bool, False where the point was occluded in the
            previous frame or came from outside it.
    """

    flow: np.ndarray
    valid: np.ndarray

    def carry(self, image: np.ndarray) -> np.ndarray:
        """Warps an image (or residual) of the previous frame onto the current one, zero where not valid."""
        return warp(image, self.flow) * self.valid[..., None]


def optical_flow(source: np.ndarray, target: np.ndarray, preset: str = DEFAULT_PRESET) -> np.ndarray:
    """Dense flow from `source` to `target` (`(H, W, 3)` RGB or `(H, W)` gray uint8 frames).

    Returns:
        `(H, W, 2)` float32 such that `source(x) ~ target(x + flow(x))`.
    """
    if source.shape[:2] != target.shape[:2]:
        raise ValueError(f"Frames differ in size: {source.shape[:2]} and {target.shape[:2]}.")
    if preset not in DIS_PRESETS:
        raise ValueError(f"`preset` must be one of {', '.join(DIS_PRESETS)}. Received: preset={preset!r}")
    estimator = cv2.DISOpticalFlow_create(DIS_PRESETS[preset])
    return estimator.calc(_gray(source), _gray(target), None)


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Samples `image` at `x + flow(x)` (bilinear; edges repeated): `warp(b, optical_flow(a, b)) ~ a`."""
    height, width = flow.shape[:2]
    columns, rows = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    image = np.asarray(image)
    source = image.astype(np.float32) if image.dtype == np.float64 else image
    return cv2.remap(source, columns + flow[..., 0], rows + flow[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def consistent(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """Ruder et al.'s forward-backward check, in the coordinates of the second frame.

    Args:
        forward: flow from the first frame to the second.
        backward: flow from the second frame to the first.

    Returns:
        `(H, W)` bool: True where going back (`backward`) then forward
        (`forward`, sampled there) returns to the pixel, within tolerance.
    """
    forward_there = warp(forward, backward)
    mismatch = np.sum(np.square(forward_there + backward), axis=2)
    lengths = np.sum(np.square(forward_there), axis=2) + np.sum(np.square(backward), axis=2)
    return mismatch <= RELATIVE_TOLERANCE * lengths + ABSOLUTE_TOLERANCE


def inside(flow: np.ndarray) -> np.ndarray:
    """`(H, W)` bool: True where `x + flow(x)` lands inside the frame."""
    height, width = flow.shape[:2]
    columns, rows = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    x, y = columns + flow[..., 0], rows + flow[..., 1]
    return (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)


def flows_between(previous: np.ndarray, current: np.ndarray,
                  preset: str = DEFAULT_PRESET) -> tuple[np.ndarray, np.ndarray]:
    """The two flows the forward-backward check needs: `(backward, forward)`.

    `backward` is `optical_flow(current, previous)` (from each current pixel
    to where it was), `forward` is `optical_flow(previous, current)`.
    """
    return optical_flow(current, previous, preset), optical_flow(previous, current, preset)


def motion_between(previous: np.ndarray, current: np.ndarray, preset: str = DEFAULT_PRESET) -> Motion:
    """The `Motion` that carries content of `previous` onto `current` (two flows and the checks)."""
    backward, forward = flows_between(previous, current, preset)
    return Motion(backward, consistent(forward, backward) & inside(backward))


def _gray(frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        raise ValueError(f"Flow needs uint8 frames. Received: dtype={frame.dtype}")
    if frame.ndim == 2:
        return frame
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
