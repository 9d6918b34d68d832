"""Dreaming a sequence of frames that stays coherent in time.

The first frame gets a full dream (octaves and steps, as a still). Each later
frame starts from the new input frame plus the previous dream's residual
(dream minus its input frame), carried along the optical flow of the *input*
frames and zeroed where the forward-backward check finds occlusion or the
point came from outside the frame (`deepdream.flow`). A short ascent at full
size (`frame_steps`) follows.

Drift: each frame's ascent adds to what was carried, so a residual carried
whole grows from frame to frame ("brighter and brighter"). Two controls keep
it level: `blend`, the share of the residual carried over, and the level
hold: the carried residual is scaled down, never up, to the root-mean-square
size of the first frame's residual. Without flow every frame is dreamed from
scratch (DeepDreamVideo's way), which flickers.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np

from deepdream import flow as optical

DEFAULT_FRAME_STEPS = 5
DEFAULT_BLEND = 0.9
DREAM_OPTIONS = dict(octaves=4, octave_scale=1.4, steps=20, step_size=0.01, jitter=32, lapnorm=False, seed=0)


class FrameDreamer:
    """Dreams frames one after the other, each continuing the dream of the one before.

    Args:
        engine: the `DeepDream` to use.
        dream_options: keyword arguments of `DeepDream.dream` for the first
            frame (and every frame without flow); `step_size`, `jitter`,
            `lapnorm` and `seed` also drive the later frames' short ascent.
            Defaults to the still-image settings.
        frame_steps: ascent steps on each frame after the first. Defaults to 5.
        blend: share of the warped residual carried into the next frame,
            0 to 1. Defaults to 0.9.
        flow: carry the dream along the motion; `False` dreams every frame
            from scratch. Defaults to `True`.
        flow_preset: DIS preset, "ultrafast", "fast" or "medium". Defaults to
            "medium".
        hold_level: scale the carried residual down to the size of the first
            frame's residual when it has grown past it. Defaults to `True`.
    """

    def __init__(self, engine, dream_options: dict | None = None, frame_steps: int = DEFAULT_FRAME_STEPS,
                 blend: float = DEFAULT_BLEND, flow: bool = True, flow_preset: str = optical.DEFAULT_PRESET,
                 hold_level: bool = True):
        if frame_steps < 1:
            raise ValueError(f"`frame_steps` must be at least 1. Received: frame_steps={frame_steps}")
        if not 0.0 <= blend <= 1.0:
            raise ValueError(f"`blend` must be between 0 and 1. Received: blend={blend}")
        if flow_preset not in optical.DIS_PRESETS:
            raise ValueError(
                f"`flow_preset` must be one of {', '.join(optical.DIS_PRESETS)}. Received: {flow_preset!r}"
            )
        self.engine = engine
        self.dream_options = {**DREAM_OPTIONS, **(dream_options or {})}
        self.frame_steps = frame_steps
        self.blend = blend
        self.flow = flow
        self.flow_preset = flow_preset
        self.hold_level = hold_level
        self.level: float | None = None
        self.previous_frame: np.ndarray | None = None
        self.residual: np.ndarray | None = None

    def dream(self, frame: np.ndarray, motion: optical.Motion | None = None) -> np.ndarray:
        """Dreams the next frame, an `(H, W, 3)` uint8 array; returns the dream, uint8.

        `motion` from the previous input frame to this one may be given when
        it was computed ahead (`dream_frames(..., lookahead=True)`).
        """
        frame = np.asarray(frame)
        if self.previous_frame is not None and frame.shape != self.previous_frame.shape:
            raise ValueError(f"Every frame must be of one size: {self.previous_frame.shape} then {frame.shape}.")
        if not self.flow or self.previous_frame is None:
            dreamed = self.engine.dream(frame, **self.dream_options).astype(np.float32)
        else:
            if motion is None:
                motion = optical.motion_between(self.previous_frame, frame, self.flow_preset)
            start = frame + self._held(self.blend * motion.carry(self.residual))
            options = self.dream_options
            dreamed = np.clip(self.engine.refine(
                start, self.frame_steps, options["step_size"], options["jitter"], options["lapnorm"],
                options["seed"]), 0.0, 255.0)
        self._remember(frame, dreamed)
        return to_uint8(dreamed)

    def restore(self, frame: np.ndarray, dreamed: np.ndarray) -> None:
        """Continues from a frame dreamed earlier (a resumed job): as if `dream(frame)` had given `dreamed`."""
        self._remember(np.asarray(frame), np.asarray(dreamed, np.float32))

    def _remember(self, frame: np.ndarray, dreamed: np.ndarray) -> None:
        self.previous_frame = frame
        self.residual = dreamed - frame.astype(np.float32)
        if self.level is None:
            self.level = _rms(self.residual)

    def _held(self, carried: np.ndarray) -> np.ndarray:
        if not self.hold_level or not self.level:
            return carried
        return carried * min(1.0, self.level / max(_rms(carried), 1e-6))


def dream_frames(engine, frames: Iterable[np.ndarray], dream_options: dict | None = None,
                 frame_steps: int = DEFAULT_FRAME_STEPS, blend: float = DEFAULT_BLEND, flow: bool = True,
                 flow_preset: str = optical.DEFAULT_PRESET, hold_level: bool = True,
                 lookahead: bool = False) -> Iterator[np.ndarray]:
    """Dreams any iterable of `(H, W, 3)` uint8 frames; yields the dreamed frames one by one.

    Frames are pulled one at a time, so a generator (`read_video`, a camera)
    is not read ahead unless `lookahead` is set: then the next frame is read
    and the optical flow to it computed on a CPU thread while the current
    frame is dreamed (worth it when the dream runs on a GPU). The other
    arguments are those of `FrameDreamer`.

    Example:
        >>> from deepdream import DeepDream
        >>> from deepdream.video_io import read_video, write_video
        >>> engine = DeepDream("mixed4")
        >>> write_video(dream_frames(engine, read_video("clip.mp4")), "clip_dream.mp4", fps=25)
    """
    dreamer = FrameDreamer(engine, dream_options, frame_steps, blend, flow, flow_preset, hold_level)
    if not (lookahead and flow):
        for frame in frames:
            yield dreamer.dream(frame)
        return
    from concurrent.futures import ThreadPoolExecutor

    iterator = iter(frames)
    current = next(iterator, None)
    motion = None
    with ThreadPoolExecutor(max_workers=1) as pool:
        while current is not None:
            following = next(iterator, None)
            future = None if following is None else pool.submit(optical.motion_between, current, following,
                                                                 flow_preset)
            yield dreamer.dream(current, motion)
            motion = None if future is None else future.result()
            current = following


def _rms(image: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(image))))


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Rounds a float 0..255 image to uint8."""
    return np.clip(np.asarray(image) + 0.5, 0, 255).astype(np.uint8)
