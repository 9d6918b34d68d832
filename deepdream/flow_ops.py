"""The warp and the occlusion check of `deepdream.flow`, in `keras.ops`, so they run where the backend runs.

`deepdream.flow` computes optical flow with OpenCV on CPU threads and holds
the NumPy reference of the warp and of Ruder et al.'s forward-backward check.
The frame loop of `deepdream.video_dream` keeps the dream residual on the
backend's device (a GPU when there is one): only the two flow fields go in
per frame, and these functions carry the residual along them there. Same
conventions as `deepdream.flow`: `flow[..., 0]` along x (columns),
`flow[..., 1]` along y (rows), in pixels; `warp(b, optical_flow(a, b)) ~ a`.
"""

from __future__ import annotations

from keras import ops

from deepdream.flow import ABSOLUTE_TOLERANCE, RELATIVE_TOLERANCE


def warp(image, flow):
    """Samples `image` `(H, W, C)` at `x + flow(x)`, bilinearly, edges repeated; returns float32 `(H, W, C)`.

    The twin of `deepdream.flow.warp` (OpenCV's `remap`), equal to it up to
    float rounding on float images.
    """
    image = ops.cast(image, "float32")
    flow = ops.cast(flow, "float32")
    height, width, channels = ops.shape(image)
    x = ops.clip(ops.arange(width, dtype="float32")[None, :] + flow[..., 0], 0.0, width - 1.0)
    y = ops.clip(ops.arange(height, dtype="float32")[:, None] + flow[..., 1], 0.0, height - 1.0)
    left, top = ops.floor(x), ops.floor(y)
    across, down = (x - left)[..., None], (y - top)[..., None]
    left, top = ops.cast(left, "int32"), ops.cast(top, "int32")
    right, bottom = ops.minimum(left + 1, width - 1), ops.minimum(top + 1, height - 1)
    pixels = ops.reshape(image, (height * width, channels))

    def at(rows, columns):
        return ops.reshape(ops.take(pixels, ops.reshape(rows * width + columns, (-1,)), axis=0),
                           (height, width, channels))

    upper = at(top, left) * (1.0 - across) + at(top, right) * across
    lower = at(bottom, left) * (1.0 - across) + at(bottom, right) * across
    return upper * (1.0 - down) + lower * down


def consistent(forward, backward):
    """Ruder et al.'s forward-backward check (`deepdream.flow.consistent`): `(H, W)` bool, True where trusted."""
    backward = ops.cast(backward, "float32")
    forward_there = warp(forward, backward)
    mismatch = ops.sum(ops.square(forward_there + backward), axis=-1)
    lengths = ops.sum(ops.square(forward_there), axis=-1) + ops.sum(ops.square(backward), axis=-1)
    return mismatch <= RELATIVE_TOLERANCE * lengths + ABSOLUTE_TOLERANCE


def inside(flow):
    """`(H, W)` bool: True where `x + flow(x)` lands inside the frame (`deepdream.flow.inside`)."""
    flow = ops.cast(flow, "float32")
    height, width = ops.shape(flow)[:2]
    x = ops.arange(width, dtype="float32")[None, :] + flow[..., 0]
    y = ops.arange(height, dtype="float32")[:, None] + flow[..., 1]
    return ops.logical_and(ops.logical_and(x >= 0.0, x <= width - 1.0), ops.logical_and(y >= 0.0, y <= height - 1.0))


def carry(image, backward, forward):
    """Warps `image` of the previous frame onto the current one, zero where the check fails.

    Args:
        image: `(H, W, C)` of the previous frame (the dream residual).
        backward: flow from the current frame to the previous one.
        forward: flow from the previous frame to the current one.

    Returns:
        float32 `(H, W, C)`: `deepdream.flow.Motion.carry` of the same flows.
    """
    valid = ops.logical_and(consistent(forward, backward), inside(backward))
    return warp(image, backward) * ops.cast(valid, "float32")[..., None]

