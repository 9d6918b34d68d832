"""The jobs: one public function per mode, called alike by the command line, the web page and Ray workers.

Each job takes options objects (`deepdream.options`), checks its paths
before any work, writes its output atomically with the settings inside
(`deepdream.settings`), reports progress through `Hooks` and stops when
`Hooks.should_stop` says so (`Cancelled`). An engine (or renderer) may be
passed in to reuse one already built (a batch, a web server's cache, a Ray
actor); otherwise the job builds its own from the options.

- `dream_still`: one image file; `dream_image` the same on an array.
- `dream_batch`: many image files into a folder.
- `dream_video`: a clip, frame by frame, resumable (`deepdream.frame_store`).
- `dream_zoom`: a zoom animation grown out of a still, resumable.
- `render`, `render_gallery`: renders from noise, one channel or a grid.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import signal
import threading
from fractions import Fraction
from pathlib import Path
from typing import Callable, Container, Iterable, Iterator

import numpy as np

from deepdream import settings
from deepdream.batch import BatchReport, collect_inputs, output_paths
from deepdream.colors import keep_colors
from deepdream.options import DreamOptions, EngineOptions, RenderOptions, VideoOptions, ZoomOptions
from inception_keras.files import check_output, check_writable


class Cancelled(Exception):
    """Raised inside a job when `Hooks.should_stop()` turned true."""


@dataclasses.dataclass
class Progress:
    """Where a job is: `done` of `total` units ("step", "image", "frame"), the latest preview and loss, if any."""

    done: int
    total: int
    unit: str
    preview: np.ndarray | None = None
    loss: float | None = None


@dataclasses.dataclass(frozen=True)
class Hooks:
    """How a job reports and how it is stopped; every hook is optional.

    Args:
        on_progress: called with a `Progress` after each step, image or frame.
        on_message: called with one line a person should read (resuming,
            an odd frame size).
        should_stop: polled at each report; when it returns true the job
            raises `Cancelled`, leaving nothing partial (a video's finished
            frames stay for a resume).
        previews: hand the dream so far to `on_progress` as it grows (each
            chunk of steps: a copy from the device each time). Defaults to `False`.
    """

    on_progress: Callable[[Progress], None] | None = None
    on_message: Callable[[str], None] | None = None
    should_stop: Callable[[], bool] | None = None
    previews: bool = False

    def progress(self, done: int, total: int, unit: str, preview: np.ndarray | None = None,
                 loss: float | None = None) -> None:
        """Reports progress; raises `Cancelled` when the job should stop."""
        if self.should_stop is not None and self.should_stop():
            raise Cancelled
        if self.on_progress is not None:
            self.on_progress(Progress(done, total, unit, preview, loss))

    def message(self, text: str) -> None:
        if self.on_message is not None:
            self.on_message(text)


NO_HOOKS = Hooks()


def build_engine(engine: EngineOptions, **overrides):
    """The `DeepDream` these options describe (the guide image read from its file)."""
    from deepdream.engine import DeepDream
    from inception_keras.images import load_image

    return DeepDream(engine.layers, weights=engine.weights, channel=engine.channel,
                     guide=load_image(engine.guide) if engine.guide else None, tile_size=engine.tile_size,
                     precision=engine.precision, **overrides)


def build_renderer(engine: EngineOptions):
    """The `Renderer` of these options: the layer to render (`mixed4` unless the options name others)."""
    from deepdream.options import DEFAULT_LAYERS, RENDER_LAYER
    from deepdream.render import Renderer

    layers = RENDER_LAYER if engine.layers == DEFAULT_LAYERS else engine.layers
    return Renderer(layers, weights=engine.weights, tile_size=engine.tile_size, precision=engine.precision)


def load_photo(path, max_side: int | None = None) -> np.ndarray:
    """Reads an input image, downscaled so no side exceeds `max_side` when given."""
    from inception_keras.images import load_image

    return fit_max_side(load_image(path), max_side)


def fit_max_side(image: np.ndarray, max_side: int | None) -> np.ndarray:
    """Downscales an `(H, W, 3)` uint8 image so no side exceeds `max_side`; unchanged when it fits or is `None`."""
    from inception_keras.images import resize_image

    height, width = fitted_size(*image.shape[:2], max_side)
    return image if (height, width) == image.shape[:2] else resize_image(image, height, width)


def fitted_size(height: int, width: int, max_side: int | None) -> tuple[int, int]:
    """`(height, width)` of an image of this size after `fit_max_side`."""
    if not max_side or max(height, width) <= max_side:
        return height, width
    scale = max_side / max(height, width)
    return max(2, round(height * scale)), max(2, round(width * scale))


def dream_image(dreamer, image: np.ndarray, dream: DreamOptions, hooks: Hooks = NO_HOOKS) -> np.ndarray:
    """Dreams an `(H, W, 3)` uint8 array with the engine `dreamer`; the photo's colours kept when asked.

    Progress comes as steps of all octaves, with the dream so far as the
    preview after each chunk of steps and each octave.
    """
    state = dict(done=0, total=1)

    def on_step(done: int, total: int, loss: float) -> None:
        state.update(done=done, total=total)
        hooks.progress(done, total, "step", loss=loss)

    def on_image(preview: np.ndarray) -> None:
        hooks.progress(state["done"], state["total"], "step", preview)

    watched = hooks.on_progress is not None or hooks.should_stop is not None  # else the octaves run unchunked
    result = dreamer.dream(image, **dream.engine_kwargs(), on_step=on_step if watched else None,
                           on_image=on_image if hooks.previews else None)
    return keep_colors(result, image) if dream.original_colors else result


def dream_still(source, output, engine: EngineOptions, dream: DreamOptions, *, dreamer=None,
                hooks: Hooks = NO_HOOKS) -> Path:
    """Dreams the image file `source` into `output` (atomically, the settings inside); returns `output`.

    Raises:
        ValueError: the output is the input, its folder does not exist or
            its format is unknown (before any work), or the input cannot be read.
    """
    from inception_keras.images import save_image

    source, output = Path(source), Path(output)
    check_still_output(source, output, engine.guide)
    image = load_photo(source, engine.max_side)
    dreamer = dreamer or build_engine(engine)
    result = dream_image(dreamer, image, dream, hooks)
    recorded = settings.build("still", engine, dream, dreamer.precision)
    return save_image(result, output, metadata=settings.image_metadata(recorded))


def dream_batch(sources: Iterable, output_dir, engine: EngineOptions, dream: DreamOptions, *, dreamer=None,
                hooks: Hooks = NO_HOOKS, on_file: Callable[[Path, str | None], None] | None = None) -> BatchReport:
    """Dreams every image of `sources` (files and folders) into `output_dir` with one engine.

    A file that fails is reported in the `BatchReport`, not raised, so one
    broken file does not stop the others. Progress counts images.

    Raises:
        ValueError: an input is missing, a folder holds no images, two
            inputs share an output, or `output_dir` does not exist (before any work).
    """
    output_dir = Path(output_dir)
    check_writable(output_dir)
    sources = collect_inputs(sources)
    outputs = output_paths(sources, output_dir)
    for output in outputs:
        check_output(output, [*sources, engine.guide], flag="--output-dir")
    dreamer = dreamer or build_engine(engine)
    metadata = settings.image_metadata(settings.build("still", engine, dream, dreamer.precision))
    report = BatchReport()
    for index, (source, output) in enumerate(zip(sources, outputs)):
        error = dream_file(dreamer, source, output, dream, engine.max_side, metadata)
        if error is None:
            report.written.append(output)
        else:
            report.failed.append((source, error))
        if on_file is not None:
            on_file(source, error)
        hooks.progress(index + 1, len(sources), "image")
    return report


def dream_file(dreamer, source: Path, output: Path, dream: DreamOptions, max_side: int | None = None,
               metadata: dict[str, str] | None = None) -> str | None:
    """Reads `source`, dreams it and writes `output` atomically with `metadata`; the unit of every batch.

    Returns:
        `None` when written, else one line saying why `source` failed (it
        names the file): a broken input is reported, not raised.
    """
    from inception_keras.images import save_image

    try:
        save_image(dream_image(dreamer, load_photo(source, max_side), dream), output, metadata=metadata)
    except ValueError as failure:
        error = " ".join(str(failure).split())
        return error if str(source) in error else f"{source}: {error}"
    return None


def dream_video(source, output, engine: EngineOptions, dream: DreamOptions, video: VideoOptions, *,
                dreamer=None, hooks: Hooks = NO_HOOKS, even_sides: bool = False,
                on_shot: Callable[[int, int, int], None] | None = None) -> Path:
    """Dreams the clip `source` into `output` shot by shot, frame by frame, resumably; returns `output`.

    The dream restarts at each hard cut (`deepdream.shots`, found on the
    frames as they are decoded), unless `video.shots` is off; each shot is
    dreamed by `deepdream.video_dream.dream_shot`, the function each Ray
    actor calls (`dream_video_on_ray`). Decoding, cut finding and the optical
    flow of the next frames run on a reader thread ahead of the dream;
    storing and encoding on a writer thread behind it. Each finished frame is
    kept in `<output>.frames/`, so an interrupted job continues with
    `video.resume`; the output appears, atomically, only when every frame is
    in it, and the work folder is then removed. The audio is copied, never
    re-encoded.

    Args:
        even_sides: crop an odd last row or column (what a browser's player
            needs). Defaults to `False`.
        on_shot: called as `on_shot(start, first, False)` when the shot
            that starts at frame `start` is dreamed from frame `first` on
            (its first unfinished one), and as `on_shot(start, end, True)`
            when it is finished. Defaults to `None`.
    """
    from deepdream.video_dream import FrameDreamer, dream_shot

    source, output = Path(source), Path(output)
    check_video_output(source, output, engine.guide)
    info, count = probe_clip(source, video)
    dreamer = dreamer or build_engine(engine)
    frames_dreamer = FrameDreamer.from_options(dreamer, dream, video)
    store, finished = open_video_store(output, source, count, engine, dream, video, hooks)

    def shots_dreamed(tagged) -> Iterator[tuple[int, np.ndarray]]:
        for start, group in itertools.groupby(tagged, key=lambda item: item[0]):
            done = finished_in_a_row(finished, start, count)
            last = start
            for last, dreamed in dream_shot(frames_dreamer, (frame for _, frame in group), start, done,
                                            store.load, dream.original_colors):
                if last == start + done and on_shot is not None:
                    on_shot(start, last, False)
                yield last, store.load(last) if dreamed is None else dreamed
            if on_shot is not None and last >= start + done:
                on_shot(start, last, True)

    fps, times = output_timing(source, output, info, video, count, hooks)
    recorded = settings.build("video", engine, dream, dreamer.precision, video)
    with contextlib.closing(tagged_frames(source, count, engine, video, even_sides)) as tagged:
        write_frames(output, store, finished, count, fps, shots_dreamed(tagged), recorded, video.crf, hooks,
                      audio_from=source if info.has_audio else None, trim_audio=count < info.frame_count,
                      times=times)
    return output


def list_shots(source, engine: EngineOptions, video: VideoOptions) -> list[tuple[int, int]]:
    """The shots of the clip `source` a video job dreams, `(start, end)` frame numbers (0-based, inclusive).

    The frames are decoded once and nothing is dreamed; `video.max_frames`,
    `video.max_shot_frames` and `engine.max_side` apply as in the job.

    Raises:
        ValueError: the clip is missing, not a video or broken.
    """
    from deepdream.shots import shot_ranges

    source = Path(source)
    _, count = probe_clip(source, video)
    with contextlib.closing(tagged_frames(source, count, engine, video)) as tagged:
        starts = [start for start, _ in tagged]
    return shot_ranges(starts, len(starts))


def dream_zoom(source, output, engine: EngineOptions, dream: DreamOptions, zoom: ZoomOptions, *, dreamer=None,
               hooks: Hooks = NO_HOOKS, even_sides: bool = False) -> Path:
    """Makes a zoom animation of `zoom.frames` frames out of the still `source`, resumably; returns `output`."""
    from deepdream.zoom import zoom_frames

    source, output = Path(source), Path(output)
    check_video_output(source, output, engine.guide)
    image = load_photo(source, engine.max_side)
    if even_sides:
        image = image[: image.shape[0] // 2 * 2, : image.shape[1] // 2 * 2]
    dreamer = dreamer or build_engine(engine)
    store, finished = _open_store(output, _resume_key(source, "zoom", zoom.frames, engine, dream, zoom),
                                  zoom.resume, hooks)
    previous = store.load(finished - 1) if finished else None
    new_frames = zoom_frames(dreamer, image, zoom.frames - finished, zoom.zoom, zoom.rotate, dream,
                             zoom.frame_steps, previous=previous)
    frames = itertools.chain((store.load(index) for index in range(finished)), new_frames)
    recorded = settings.build("zoom", engine, dream, dreamer.precision, zoom)
    write_frames(output, store, range(finished), zoom.frames, Fraction(zoom.fps).limit_denominator(1001),
                  _indexed(lambda index, frame: frame, frames), recorded, zoom.crf, hooks)
    return output


def render(output, engine: EngineOptions, dream: DreamOptions, render_options: RenderOptions, *, renderer=None,
           hooks: Hooks = NO_HOOKS) -> Path:
    """Renders `engine.channel` (or the layer's energy) from noise into `output`; returns `output`."""
    from inception_keras.images import check_output_path, save_image

    output = Path(output)
    check_output_path(output)
    _check_render(dream, render_options)
    renderer = renderer or build_renderer(engine)
    resolved = render_options.dream_for(dream)
    image = renderer.render(engine.channel, render_options.size, param=render_options.param,
                            **resolved.engine_kwargs())
    hooks.progress(1, 1, "render", image)
    recorded = settings.build("render", engine, resolved, renderer.engine.precision, render_options)
    return save_image(image, output, metadata=settings.image_metadata(recorded))


def render_gallery(output, engine: EngineOptions, dream: DreamOptions, render_options: RenderOptions, *,
                   renderer=None, hooks: Hooks = NO_HOOKS,
                   on_cell: Callable[[int, np.ndarray], None] | None = None) -> Path:
    """Renders each of `render_options.channels` from noise into one labelled grid at `output`; returns `output`.

    Args:
        on_cell: called as `on_cell(channel, render)` as each render is
            finished. Defaults to `None`.
    """
    from deepdream.gallery import gallery
    from inception_keras.images import check_output_path, save_image

    output = Path(output)
    check_output_path(output)
    _check_render(dream, render_options)
    if not render_options.channels:
        raise ValueError("A gallery needs a channel list or range, e.g. --channel 0-15.")
    renderer = renderer or build_renderer(engine)
    resolved = render_options.dream_for(dream)
    count = len(render_options.channels)
    done = []

    def on_render(channel: int, image: np.ndarray) -> None:
        done.append(channel)
        if on_cell is not None:
            on_cell(channel, image)
        hooks.progress(len(done), count, "channel", image)

    grid = gallery(renderer.layers[0], list(render_options.channels), render_options.size, renderer=renderer,
                   on_render=on_render, param=render_options.param, **resolved.engine_kwargs())
    recorded = settings.build("render", engine, resolved, renderer.engine.precision, render_options)
    return save_image(grid, output, metadata=settings.image_metadata(recorded))


def check_still_output(source: Path, output: Path, guide=None) -> None:
    """Checks a still job's paths before any work; raises `ValueError` saying what is wrong."""
    from inception_keras.images import check_output_path

    check_output(output, [source, guide])
    check_output_path(output)


def check_video_output(source: Path, output: Path, guide=None) -> None:
    """Checks a video or zoom job's paths before any work; raises `ValueError` saying what is wrong."""
    from deepdream.video_io import check_output_suffix

    if not source.is_file():
        raise ValueError(f"Input not found: {source}")
    check_output_suffix(output)
    check_output(output, [source, guide])


def _check_render(dream: DreamOptions, render_options: RenderOptions) -> None:
    if dream.lapnorm and render_options.param == "fft":
        raise ValueError("--lapnorm applies to --param pixel only; drop one of them.")
    if dream.original_colors:
        raise ValueError("--original-colors keeps a photo's colours; a render from noise has none. Drop it.")


def _resume_key(source: Path, mode: str, frames: int, engine: EngineOptions, dream: DreamOptions, extra) -> dict:
    """What must not change between a run and its resume: the input and every option that shapes a frame."""
    stat = source.stat()
    return {**engine.as_dict(), **dream.as_dict(), **extra.as_dict(recorded_only=True),
            **dict(mode=mode, input=str(source.resolve()), input_bytes=stat.st_size, input_mtime=stat.st_mtime,
                   frames=frames)}


def probe_clip(source: Path, video: VideoOptions):
    """`(info, count)`: the clip's `VideoInfo` and how many of its frames the job takes."""
    from deepdream.video_io import probe_video

    info = probe_video(source)
    return info, min(info.frame_count, video.max_frames or info.frame_count)


def tagged_frames(source: Path, count: int, engine: EngineOptions, video: VideoOptions,
                   even_sides: bool = False) -> Iterator[tuple[int, np.ndarray]]:
    """`(shot_start, frame)` of the first `count` frames, sized as the job dreams them (`deepdream.shots.tag_shots`)."""
    from deepdream.shots import tag_shots
    from deepdream.video_io import read_video

    decoded = read_video(source, count)
    try:
        frames = (fit_max_side(frame, engine.max_side) for frame in decoded)
        if even_sides:
            frames = (frame[: frame.shape[0] // 2 * 2, : frame.shape[1] // 2 * 2] for frame in frames)
        yield from tag_shots(frames, video.shot_threshold, video.max_shot_frames, enabled=video.shots)
    finally:
        decoded.close()


def output_timing(source: Path, output: Path, info, video: VideoOptions, count: int, hooks: Hooks):
    """`(fps, times)` of the output: the input's rate (or `video.fps`), and each frame's time for a variable rate."""
    from deepdream.video_io import H264_SUFFIXES

    fps = Fraction(video.fps).limit_denominator(1001) if video.fps else info.fps
    times = None
    if info.variable_rate(count):
        if video.fps is None and output.suffix.lower() in H264_SUFFIXES:
            times = info.frame_times[:count]  # each frame keeps its time stamp, so the audio stays in sync
        else:
            hooks.message(f"{source.name} has a variable frame rate; {output.name} re-times it to a constant "
                          f"{float(fps):g} fps, moving frames by up to {info.retiming_error(fps, count):.3f} s")
    return fps, times


def open_video_store(output: Path, source: Path, count: int, engine: EngineOptions, dream: DreamOptions,
                      video: VideoOptions, hooks: Hooks):
    """`(store, finished)`: a video's frame store and the indices of its finished frames."""
    from deepdream.frame_store import FrameStore

    store = FrameStore(output, _resume_key(source, "video", count, engine, dream, video))
    store.open(video.resume)
    finished = store.finished_frames()
    if finished:
        hooks.message(f"resuming with {len(finished)} of {count} frames finished in {store.folder}")
    return store, finished


def finished_in_a_row(finished: Container[int], start: int, count: int) -> int:
    """How many frames from `start` on are in `finished`, in a row (at most up to frame `count - 1`)."""
    done = 0
    while start + done < count and start + done in finished:
        done += 1
    return done


def _open_store(output: Path, key: dict, resume: bool, hooks: Hooks):
    from deepdream.frame_store import FrameStore

    store = FrameStore(output, key)
    finished = store.open(resume)
    if finished:
        hooks.message(f"resuming after {finished} finished frames in {store.folder}")
    return store, finished


def write_frames(output: Path, store, finished: Container[int], count: int, fps: Fraction,
                  frames: Iterable[tuple[int, np.ndarray]], recorded: dict, crf: int, hooks: Hooks,
                  **audio) -> None:
    """Stores each newly dreamed frame, encodes all of them into `output` with the settings, then removes the store.

    The frames are dreamed here (the calling thread, where Ctrl-C lands);
    storing and encoding run behind on a writer thread (`deepdream.pipelining`).
    """
    from deepdream.pipelining import write_behind
    from deepdream.video_io import H264_SUFFIXES, write_video

    def checked(interrupted) -> Iterator[tuple[int, np.ndarray]]:
        for index, frame in frames:
            if interrupted():
                raise KeyboardInterrupt
            yield index, frame

    def stored(indexed: Iterator[tuple[int, np.ndarray]]) -> Iterator[np.ndarray]:
        for index, frame in indexed:
            height, width = frame.shape[:2]
            if index == 0 and output.suffix.lower() in H264_SUFFIXES and (width % 2 or height % 2):
                hooks.message(f"{width}x{height} has an odd side, so {output.name} is H.264 4:4:4 (yuv444p, which "
                              "some browsers and QuickTime do not play); .webp and .gif keep odd sides too")
            if index not in finished:
                store.save(index, frame)
            hooks.progress(index + 1, count, "frame", frame)
            yield frame

    with _ctrl_c_noted() as interrupted:
        write_behind(lambda indexed: write_video(stored(indexed), output, fps=fps, crf=crf,
                                                 metadata=settings.video_metadata(recorded), **audio),
                     checked(interrupted))
    store.remove()


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


def _indexed(function, frames: Iterable) -> Iterator[tuple[int, np.ndarray]]:
    for index, frame in enumerate(frames):
        yield index, function(index, frame)
