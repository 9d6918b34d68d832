"""A clip's shots: the hard cuts found with PySceneDetect's content detector, on frames already decoded.

A shot is a run of frames between two hard cuts, `(start, end)`, 0-based and
inclusive. The dream of a video restarts at each shot's first frame (the full
still dream, nothing carried over the cut), so shots are independent: a
cluster dreams them in parallel (`deepdream.video_ray`) and gets the frames
a local run gets.

The detector is fed the frames the video reader decodes anyway
(`tag_shots` wraps any iterable of frames), so finding the cuts costs no
second decode. It is PySceneDetect's `ContentDetector` (a weighted change
of hue, saturation, luminance and edges between frames, 0..255), with its
flash filter in "suppress" mode, so a cut is known at the frame it happens,
never later. PySceneDetect comes with `pip install scenedetect-headless`.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np

# Two cuts closer than this are one cut and a flash: the second is ignored.
MIN_SHOT_FRAMES = 3
DETECTOR_FPS = 24.0  # the detector's clock; with MIN_SHOT_FRAMES in frames it changes nothing

Shot = tuple[int, int]


def tag_shots(frames: Iterable[np.ndarray], threshold: float, max_shot_frames: int | None = None,
              enabled: bool = True) -> Iterator[tuple[int, np.ndarray]]:
    """Yields `(shot_start, frame)` for each `(H, W, 3)` uint8 RGB frame: the index of the first frame of its shot.

    Args:
        frames: the clip's frames, in order.
        threshold: the content detector's threshold (0..255); lower finds
            more cuts.
        max_shot_frames: split longer shots into pieces of this many
            frames. Defaults to `None`: no limit.
        enabled: find cuts; `False` makes the whole clip one shot (still
            split by `max_shot_frames`). Defaults to `True`.
    """
    detector = _detector(threshold) if enabled else None
    start = 0
    for index, frame in enumerate(frames):
        cut = detector is not None and bool(detector.process_frame(_timecode(index), _bgr(frame)))
        if cut or (max_shot_frames and index - start >= max_shot_frames):
            start = index
        yield start, frame


def shot_ranges(starts: Iterable[int], count: int) -> list[Shot]:
    """`(start, end)` of each shot of a `count`-frame clip from the shots' first frames (`tag_shots`)."""
    starts = sorted(set(starts) | {0})
    return [(start, end - 1) for start, end in zip(starts, [*starts[1:], count])]


def find_shots(frames: Iterable[np.ndarray], threshold: float, max_shot_frames: int | None = None,
               enabled: bool = True) -> list[Shot]:
    """The shots of a clip, `(start, end)` frame numbers, 0-based and inclusive; the arguments are `tag_shots`'s."""
    starts = [start for start, _ in tag_shots(frames, threshold, max_shot_frames, enabled)]
    return shot_ranges(starts, len(starts))


def _detector(threshold: float):
    try:
        from scenedetect import ContentDetector
        from scenedetect.detector import FlashFilter
    except ImportError:
        raise ValueError("Finding a clip's cuts needs PySceneDetect: pip install scenedetect-headless "
                         "(or add --no-shots)") from None
    return ContentDetector(threshold=threshold, min_scene_len=MIN_SHOT_FRAMES,
                           filter_mode=FlashFilter.Mode.SUPPRESS)


def _timecode(index: int):
    from scenedetect import FrameTimecode

    return FrameTimecode(index, fps=DETECTOR_FPS)


def _bgr(frame: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(frame)[..., ::-1])
