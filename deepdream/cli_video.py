"""`python -m deepdream clip.mp4` and `--zoom-frames N`: videos and zoom animations.

A video is decoded, dreamed and encoded frame by frame (`deepdream.video_io`,
`deepdream.video_dream`); a zoom animation grows out of one still
(`deepdream.zoom`). Each finished frame is also kept in a work folder beside
the output (`deepdream.frame_store`), so an interrupted job continues with
`--resume`; the output appears, atomically, only when every frame is in it.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import signal
import sys
import threading
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from deepdream import cli_options
from inception_keras.cli_support import EXIT_OK

DEFAULT_ZOOM_FPS = 24


def add_arguments(parser) -> None:
    """Adds the video and zoom flags."""
    from deepdream.flow import DEFAULT_BLEND, DEFAULT_FRAME_STEPS
    from deepdream.video_io import DEFAULT_CRF
    from deepdream.zoom import DEFAULT_ZOOM

    group = parser.add_argument_group("video and zoom animations")
    group.add_argument("--frame-steps", type=int, default=DEFAULT_FRAME_STEPS,
                       help="ascent steps on each frame after the first (video and zoom)")
    group.add_argument("--blend", type=float, default=DEFAULT_BLEND,
                       help="share of the previous frame's dream carried into the next, 0 to 1")
    group.add_argument("--no-flow", action="store_true",
                       help="dream every frame from scratch with the still settings (flickers; for comparison)")
    group.add_argument("--flow-preset", choices=("ultrafast", "fast", "medium"), default="medium",
                       help="OpenCV DIS optical-flow preset: faster or more accurate motion")
    group.add_argument("--max-frames", type=int, metavar="N", help="dream only the first N frames (a preview)")
    group.add_argument("--crf", type=int, default=DEFAULT_CRF,
                       help="H.264 quality of .mp4/.mov/.mkv outputs: 0 lossless .. 51 worst")
    group.add_argument("--fps", type=float, help="output frame rate (default: the input's; 24 for a zoom)")
    group.add_argument("--zoom-frames", type=int, metavar="N", help="make an N-frame zoom animation from a still")
    group.add_argument("--zoom", type=float, default=DEFAULT_ZOOM, help="zoom factor from one frame to the next")
    group.add_argument("--rotate", type=float, default=0.0, metavar="DEG",
                       help="degrees turned from one frame to the next (zoom animation)")
    group.add_argument("--resume", action="store_true",
                       help="continue an interrupted video or zoom from the frames kept beside its output")


def applies(args) -> bool:
    """One video input, or a zoom animation."""
    from deepdream.video_io import VIDEO_SUFFIXES

    if args.zoom_frames is not None:
        return True
    return len(args.inputs) == 1 and Path(args.inputs[0]).suffix.lower() in VIDEO_SUFFIXES


def run(args) -> int:
    """Dreams a video (or makes a zoom animation) into `-o`, frame by frame; exit 0 when written."""
    if len(args.inputs) != 1:
        raise ValueError("give exactly one INPUT: a video, or a still with --zoom-frames")
    cli_options.check_numbers(args)
    check_video_numbers(args)
    if args.zoom_frames is not None:
        return _run_zoom(args)
    return _run_video(args)


def check_video_numbers(args) -> None:
    """Raises `ValueError` naming the flag when a video or zoom option is out of range."""
    from deepdream.zoom import check_zoom

    if args.frame_steps < 1:
        raise ValueError(f"--frame-steps must be at least 1. Received: {args.frame_steps}")
    if not 0.0 <= args.blend <= 1.0:
        raise ValueError(f"--blend must be between 0 and 1. Received: {args.blend}")
    for flag, value in {"--max-frames": args.max_frames, "--zoom-frames": args.zoom_frames}.items():
        if value is not None and value < 1:
            raise ValueError(f"{flag} must be at least 1. Received: {value}")
    if not 0 <= args.crf <= 51:
        raise ValueError(f"--crf must be between 0 and 51. Received: {args.crf}")
    if args.fps is not None and not (math.isfinite(args.fps) and 0 < args.fps <= 1000):
        raise ValueError(f"--fps must be above 0 and at most 1000. Received: {args.fps}")
    try:
        check_zoom(args.zoom, args.rotate)
    except ValueError as error:
        raise ValueError(str(error).replace("`zoom`", "--zoom").replace("`rotate`", "--rotate")) from None


def _run_video(args) -> int:
    from deepdream.pipelining import read_ahead
    from deepdream.video_dream import FrameDreamer, frames_with_flows
    from deepdream.video_io import probe_video, read_video

    source = Path(args.inputs[0])
    info = probe_video(source)
    output = _output_path(args, source, "_dream", source.suffix)
    count = min(info.frame_count, args.max_frames or info.frame_count)
    engine = cli_options.build_engine(args)
    dreamer = FrameDreamer(engine, cli_options.dream_options(args),
                           frame_steps=args.frame_steps, blend=args.blend, flow=not args.no_flow,
                           flow_preset=args.flow_preset)
    store, finished = _open_store(args, output, _settings(args, source, mode="video", frames=count))
    # Decoding, resizing and the optical flow of the next frames run on a reader thread, ahead of the dream.
    frames = _fitted(read_video(source, count), args.max_side)
    if not args.no_flow:
        frames = frames_with_flows(frames, args.flow_preset, first=max(1, finished))
    else:
        frames = ((frame, None) for frame in frames)

    def dream_or_load(index: int, entry: tuple) -> np.ndarray:
        frame, flows = entry
        if index >= finished:
            return dreamer.dream(frame, flows)
        dreamed = store.load(index)
        if index in (0, finished - 1):  # the first frame sets the level held, the last carries on
            dreamer.restore(frame, dreamed)
        return dreamed

    fps = Fraction(args.fps).limit_denominator(1001) if args.fps else info.fps
    with contextlib.closing(read_ahead(frames)) as ahead:
        _write(args, output, store, finished, count, fps, _indexed(dream_or_load, ahead),
               _recorded(args, "video", engine), audio_from=source if info.has_audio else None,
               trim_audio=count < info.frame_count)
    return EXIT_OK


def _run_zoom(args) -> int:
    from deepdream.zoom import zoom_frames

    source = Path(args.inputs[0])
    output = _output_path(args, source, "_zoom", ".mp4")
    image = cli_options.load_input_image(source, args.max_side)
    engine = cli_options.build_engine(args)
    store, finished = _open_store(args, output, _settings(args, source, mode="zoom", frames=args.zoom_frames))
    previous = store.load(finished - 1) if finished else None
    new_frames = zoom_frames(engine, image, args.zoom_frames - finished, args.zoom, args.rotate,
                             cli_options.dream_options(args), args.frame_steps, previous=previous)
    frames = itertools.chain((store.load(index) for index in range(finished)), new_frames)
    fps = Fraction(args.fps or DEFAULT_ZOOM_FPS).limit_denominator(1001)
    _write(args, output, store, finished, args.zoom_frames, fps, _indexed(lambda index, frame: frame, frames),
           _recorded(args, "zoom", engine))
    return EXIT_OK


def _recorded(args, mode: str, engine) -> dict:
    """The settings a video or zoom file carries (`deepdream.settings`)."""
    from deepdream import settings

    return settings.video_metadata(settings.build(args, mode, engine.precision))


def _write(args, output: Path, store, finished: int, count: int, fps: Fraction,
           frames: Iterable[tuple[int, np.ndarray]], metadata: dict, **audio) -> None:
    """Stores each newly dreamed frame, encodes all of them into `output` with `metadata`, then removes the work folder.

    The frames are dreamed here (the main thread, where Ctrl-C lands); storing
    and encoding run behind on a writer thread (`deepdream.pipelining`).
    """
    from deepdream.pipelining import write_behind
    from deepdream.video_io import write_video

    bar = None if args.quiet else _frame_bar(count, finished)

    def checked(interrupted) -> Iterator[tuple[int, np.ndarray]]:
        for index, frame in frames:
            if interrupted():
                raise KeyboardInterrupt
            yield index, frame

    def stored(indexed: Iterator[tuple[int, np.ndarray]]) -> Iterator[np.ndarray]:
        for index, frame in indexed:
            if index == 0:
                _note_odd_sides(args, output, frame.shape)
            if index >= finished:
                store.save(index, frame)
                if bar is not None:
                    bar.update(1)
            yield frame

    try:
        with _ctrl_c_noted() as interrupted:
            write_behind(lambda indexed: write_video(stored(indexed), output, fps=fps, crf=args.crf,
                                                     metadata=metadata, **audio),
                         checked(interrupted))
    finally:
        if bar is not None:
            bar.close()
    store.remove()
    if not args.quiet:
        print(f"deepdream: wrote {output}", file=sys.stderr)


def _note_odd_sides(args, output: Path, shape: tuple) -> None:
    from deepdream.video_io import H264_SUFFIXES

    height, width = shape[:2]
    if not args.quiet and output.suffix.lower() in H264_SUFFIXES and (width % 2 or height % 2):
        print(f"deepdream: {width}x{height} has an odd side, so {output.name} is H.264 4:4:4 (yuv444p, "
              "which some browsers and QuickTime do not play); .webp and .gif keep odd sides too", file=sys.stderr)


@contextlib.contextmanager
def _ctrl_c_noted():
    """Yields `interrupted() -> bool`; Ctrl-C both raises `KeyboardInterrupt` and is noted.

    Some native code in the frame loop swallows the `KeyboardInterrupt` a
    Ctrl-C raises while it runs (seen: the job then finished with exit 0), so
    the loop also checks the note between frames.
    """
    noted = []

    def on_ctrl_c(signum, stack):
        noted.append(signum)
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        yield lambda: bool(noted)
    finally:
        signal.signal(signal.SIGINT, previous)


def _output_path(args, source: Path, tag: str, default_suffix: str) -> Path:
    from deepdream.video_io import OUTPUT_SUFFIXES, check_output_suffix

    if not source.is_file():
        raise ValueError(f"Input not found: {source}")
    suffix = default_suffix if default_suffix.lower() in OUTPUT_SUFFIXES else ".mp4"
    output = Path(args.output) if args.output else Path(f"{source.stem}{tag}{suffix}")
    check_output_suffix(output)
    cli_options.refuse_overwriting_input(source, output)
    if not output.parent.is_dir():
        raise ValueError(f"Output folder does not exist: {output.parent} (create it first).")
    return output


def _open_store(args, output: Path, settings: dict):
    from deepdream.frame_store import FrameStore

    store = FrameStore(output, settings)
    finished = store.open(args.resume)
    if finished and not args.quiet:
        print(f"deepdream: resuming after {finished} finished frames in {store.folder}", file=sys.stderr)
    return store, finished


def _settings(args, source: Path, mode: str, frames: int) -> dict:
    """What must not change between a run and its `--resume`: the input and every option that shapes a frame."""
    stat = source.stat()
    options = ("layer", "channel", "guide", "octaves", "octave_scale", "steps", "step_size", "tile_size", "jitter",
               "lapnorm", "seed", "precision", "weights", "max_side", "frame_steps", "blend", "no_flow",
               "flow_preset", "zoom", "rotate")
    return dict(mode=mode, input=str(source.resolve()), input_bytes=stat.st_size, input_mtime=stat.st_mtime,
                frames=frames, **{name: getattr(args, name) for name in options})


def _frame_bar(total: int, finished: int):
    from tqdm import tqdm

    return tqdm(total=total, initial=finished, desc="frames", unit="frame", file=sys.stderr,
                bar_format="{desc}: {n}/{total} |{bar}| {rate_inv_fmt} ETA {remaining}")


def _indexed(function, frames: Iterable[np.ndarray]) -> Iterator[tuple[int, np.ndarray]]:
    for index, frame in enumerate(frames):
        yield index, function(index, frame)


def _fitted(frames: Iterable[np.ndarray], max_side: int | None) -> Iterator[np.ndarray]:
    """Downscales frames so no side exceeds `max_side`."""
    for frame in frames:
        yield cli_options.fit_max_side(frame, max_side)
