"""Dreaming a sequence of frames that stays coherent in time.

The first frame gets a full dream (octaves and steps, as a still). Each later
frame starts from the new input frame plus the previous dream's residual
(dream minus its input frame), carried along the optical flow of the *input*
frames and zeroed where the forward-backward check finds occlusion or the
point came from outside the frame. A short ascent at full size
(`frame_steps`) follows.

Where it runs: the optical flow is OpenCV's, on CPU threads
(`deepdream.flow`), computed ahead while earlier frames are dreamed
(`lookahead`). The residual stays on the backend's device between frames;
the warp, the occlusion check, the blend and the level hold run there in
`keras.ops` (`deepdream.flow_ops`), so with a GPU a frame sends its pixels
and two flow fields in and brings the dreamed uint8 frame back.

Drift: each frame's ascent adds to what was carried, so a residual carried
whole grows from frame to frame ("brighter and brighter"). Two controls keep
it level: `blend`, the share of the residual carried over, and the level
hold: the carried residual is scaled down, never up, to the root-mean-square
size of the first frame's residual. Without flow every frame is dreamed from
scratch (DeepDreamVideo's way), which flickers.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator

import numpy as np
from keras import ops

from deepdream import ascent, flow_ops
from deepdream.colors import keep_colors
from deepdream import flow as optical
from deepdream.options import DreamOptions, VideoOptions
from deepdream.pipelining import read_ahead

DEFAULT_FRAME_STEPS, DEFAULT_BLEND = VideoOptions.frame_steps, VideoOptions.blend
Flows = tuple[np.ndarray, np.ndarray]  # (backward, forward), as `deepdream.flow.flows_between` gives them


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
        self.dream_options = {**DreamOptions().engine_kwargs(), **(dream_options or {})}
        self.frame_steps = frame_steps
        self.blend = blend
        self.flow = flow
        self.flow_preset = flow_preset
        self.hold_level = hold_level
        self.previous_frame: np.ndarray | None = None
        # On the backend's device: the last dream minus its frame, and the first frame's RMS of it.
        self.residual = None
        self.level = None
        self._start = ascent.compiled(functools.partial(_carried_start, blend=blend, hold_level=hold_level))

    def dream(self, frame: np.ndarray, flows: Flows | None = None) -> np.ndarray:
        """Dreams the next frame, an `(H, W, 3)` uint8 array; returns the dream, uint8.

        `flows` from the previous input frame to this one
        (`deepdream.flow.flows_between(previous, frame)`) may be given when
        they were computed ahead (`dream_frames(..., lookahead=True)`).
        """
        frame = np.asarray(frame)
        if self.previous_frame is not None and frame.shape != self.previous_frame.shape:
            raise ValueError(f"Every frame must be of one size: {self.previous_frame.shape} then {frame.shape}.")
        pixels = ops.cast(ops.convert_to_tensor(frame), "float32")
        if not self.flow or self.previous_frame is None:
            dreamed = ops.convert_to_tensor(self.engine.dream(frame, **self.dream_options), "float32")
        else:
            if flows is None:
                flows = optical.flows_between(self.previous_frame, frame, self.flow_preset)
            backward, forward = (ops.convert_to_tensor(field) for field in flows)
            start = self._start(pixels, self.residual, self.level, backward, forward)
            options = self.dream_options
            # `refine` takes and returns a backend tensor (or NumPy, converted here): the one host boundary.
            refined = self.engine.refine(start, self.frame_steps, options["step_size"], options["jitter"],
                                         options["lapnorm"], options["seed"])
            dreamed = ops.clip(ops.convert_to_tensor(refined, "float32"), 0.0, 255.0)
        self._remember(frame, pixels, dreamed)
        return ops.convert_to_numpy(_rounded(dreamed))

    @classmethod
    def from_options(cls, engine, dream: DreamOptions, video: VideoOptions) -> FrameDreamer:
        """The frame dreamer a video job builds from its options (`deepdream.options`)."""
        return cls(engine, dream.engine_kwargs(), frame_steps=video.frame_steps, blend=video.blend, flow=video.flow,
                   flow_preset=video.flow_preset)

    def start_over(self) -> None:
        """Forgets the frames before: the next frame gets the full still dream, as a shot's first frame does."""
        self.previous_frame = self.residual = self.level = None

    def restore(self, frame: np.ndarray, dreamed: np.ndarray) -> None:
        """Continues from a frame dreamed earlier (a resumed job): as if `dream(frame)` had given `dreamed`."""
        frame = np.asarray(frame)
        self._remember(frame, ops.cast(ops.convert_to_tensor(frame), "float32"),
                       ops.convert_to_tensor(np.asarray(dreamed, np.float32)))

    def _remember(self, frame: np.ndarray, pixels, dreamed) -> None:
        self.previous_frame = frame
        self.residual = dreamed - pixels
        if self.level is None:
            self.level = _rms(self.residual)


def _carried_start(pixels, residual, level, backward, forward, blend: float, hold_level: bool):
    """Where a later frame's ascent starts: the frame plus the held share `blend` of the carried residual."""
    carried = blend * flow_ops.carry(residual, backward, forward)
    if hold_level:
        # Scale down, never up; a first residual of zero holds nothing.
        scale = ops.minimum(1.0, level / ops.maximum(_rms(carried), 1e-6))
        carried = carried * ops.where(level > 0.0, scale, 1.0)
    return pixels + carried


def dream_frames(engine, frames: Iterable[np.ndarray], dream_options: dict | None = None,
                 frame_steps: int = DEFAULT_FRAME_STEPS, blend: float = DEFAULT_BLEND, flow: bool = True,
                 flow_preset: str = optical.DEFAULT_PRESET, hold_level: bool = True,
                 lookahead: bool = False) -> Iterator[np.ndarray]:
    """Dreams any iterable of `(H, W, 3)` uint8 frames; yields the dreamed frames one by one.

    Frames are pulled one at a time, so a generator (`read_video`, a camera)
    is not read ahead unless `lookahead` is set: then a reader thread pulls
    the next frames and computes the optical flow to them on CPU threads
    (`frames_with_flows`) while the current frame is dreamed (worth it when
    the dream runs on a GPU). The other arguments are those of `FrameDreamer`.

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
    with contextlib.closing(read_ahead(frames_with_flows(frames, flow_preset))) as ahead:
        for frame, flows in ahead:
            yield dreamer.dream(frame, flows)


def dream_shot(dreamer: FrameDreamer, frames: Iterable[np.ndarray], start: int, done: int = 0,
               load: Callable[[int], np.ndarray] | None = None,
               original_colors: bool = False) -> Iterator[tuple[int, np.ndarray | None]]:
    """Dreams one shot from its first frame; yields `(index, dream)` per frame, `(index, None)` for finished ones.

    The unit of a video job, called alike by the local job
    (`deepdream.jobs.dream_video`) and by each Ray actor
    (`deepdream.video_ray`), so both dream the same frames. The dreamer
    starts over at the shot's first frame (the full still dream); a shot
    whose first `done` frames are finished continues after them, the level
    and the carried residual restored from their stored dreams (`load`).
    Frames are read, and their optical flows computed, on a reader thread
    ahead of the dream.

    Args:
        dreamer: the `FrameDreamer` (reused from shot to shot).
        frames: the shot's `(H, W, 3)` uint8 input frames, in order.
        start: the clip's index of the shot's first frame.
        done: frames of the shot already finished (in a row from its
            first). Defaults to 0.
        load: `load(index)` -> the stored dream of a finished frame; needed
            for the first and last of the `done` frames. Defaults to `None`.
        original_colors: keep each input frame's colours. Defaults to `False`.
    """
    dreamer.start_over()
    if dreamer.flow:
        entries = frames_with_flows(frames, dreamer.flow_preset, first=max(1, done))
    else:
        entries = ((frame, None) for frame in frames)
    with contextlib.closing(read_ahead(entries)) as ahead:
        for position, (frame, flows) in enumerate(ahead):
            if position < done:
                if position in (0, done - 1):  # the first sets the level held, the last carries on
                    dreamer.restore(frame, load(start + position))
                yield start + position, None
                continue
            dreamed = dreamer.dream(frame, flows)
            yield start + position, keep_colors(dreamed, frame) if original_colors else dreamed


def frames_with_flows(frames: Iterable[np.ndarray], preset: str = optical.DEFAULT_PRESET, first: int = 1,
                      workers: int | None = None) -> Iterator[tuple[np.ndarray, Flows | None]]:
    """Yields `(frame, flows)`: each frame with `flows_between(previous frame, frame)`, `None` before `first`.

    The flows of up to `workers` frames are computed at once on a thread
    pool (OpenCV lets go of the GIL), in order, so a fast device is not kept
    waiting by one CPU core's DIS. Frames before `first` (those a resumed
    job reloads) get no flow.

    Args:
        frames: `(H, W, 3)` uint8 frames.
        preset: DIS preset. Defaults to "medium".
        first: index of the first frame that needs its flows. Defaults to 1.
        workers: flows computed at once. Defaults to half the CPU cores, 1 to 8.
    """
    workers = workers or max(1, min(8, (os.cpu_count() or 2) // 2))
    pending: collections.deque = collections.deque()
    previous = None
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deepdream-flow") as pool:
        for index, frame in enumerate(frames):
            needed = previous is not None and index >= first
            pending.append((frame, pool.submit(optical.flows_between, previous, frame, preset) if needed else None))
            previous = frame
            if len(pending) > workers:
                yield _finished(pending.popleft())
        while pending:
            yield _finished(pending.popleft())


def _finished(entry: tuple) -> tuple[np.ndarray, Flows | None]:
    frame, future = entry
    return frame, None if future is None else future.result()


def _rms(image):
    return ops.sqrt(ops.mean(ops.square(image)))


def _rounded(image):
    """A float 0..255 tensor rounded to uint8 on its device (a quarter of the bytes to bring back)."""
    return ops.cast(ops.clip(image + 0.5, 0.0, 255.0), "uint8")


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Rounds a float 0..255 image to uint8."""
    return np.clip(np.asarray(image) + 0.5, 0, 255).astype(np.uint8)
