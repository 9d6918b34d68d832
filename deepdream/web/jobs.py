"""How the page runs a job: on a worker thread that reports as it goes, within the server's limits.

The page builds the options of `deepdream.options` from its controls and
calls the jobs of `deepdream.jobs`, so a page dream and a command-line dream
are the same call with the same settings (and the same file). The work runs
on a `Job` thread whose `hooks()` the job reports to; the page's generator
reads its progress and previews, and a closed tab stops it at the job's next
report (`deepdream.jobs.Cancelled`).

Every image a visitor sends (photo, guide, camera frame, a clip's frames)
passes `Limits` from its header before it is decoded, and the device is
taken in `DeviceTurns`: a queued job for its whole run, a camera frame for
one frame, never while a job waits.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from deepdream.jobs import Cancelled, Hooks
from deepdream.options import ServeOptions

# The page shows a new preview at most this often.
PREVIEW_INTERVAL_S = 0.5
# Decompression bombs: far above a phone photo (48 MP), far below what exhausts a small server.
DEFAULT_MAX_PIXELS = 64_000_000

@dataclasses.dataclass(frozen=True)
class Limits:
    """What a visitor may ask of the server: the limits of its `ServeOptions`, and the pixels an upload may hold.

    Args:
        serve: the server's options (`max_side`, `max_steps`, `max_frames`,
            `max_upload_mb`). Defaults to `ServeOptions()`.
        max_pixels: largest upload, in decoded pixels. Defaults to 64 million.
    """

    serve: ServeOptions = dataclasses.field(default_factory=ServeOptions)
    max_pixels: int = DEFAULT_MAX_PIXELS

    def check(self, side: int | None, steps: int, frames: int | None = None, most_steps: int | None = None) -> None:
        """Raises `ValueError` with a message for the visitor when a job asks for more than the limits.

        Args:
            side: the largest image side asked for (`None`: not given).
            steps: the steps per octave (or per later frame) asked for.
            frames: the video or zoom frames asked for. Defaults to `None`.
            most_steps: the steps allowed, where a mode allows more than
                `serve.max_steps`. Defaults to `serve.max_steps`.
        """
        serve = self.serve
        most_steps = most_steps or serve.max_steps
        if side is not None and side > serve.max_side:
            raise ValueError(f"This server dreams images of at most {serve.max_side} pixels a side; "
                             f"{side} was asked for.")
        if steps > most_steps:
            raise ValueError(f"This server takes at most {most_steps} steps per octave; {steps} was asked for.")
        if frames is not None and frames > serve.max_frames:
            raise ValueError(f"This server dreams at most {serve.max_frames} video frames; {frames} was asked for.")

    def check_upload(self, path) -> None:
        """Raises `ValueError` when an upload is missing or over the size limit."""
        if path is None:
            raise ValueError("Upload a file first.")
        size = Path(path).stat().st_size
        if size > self.serve.max_upload_bytes:
            raise ValueError(f"The upload is {size / 2**20:.1f} MB; this server takes at most "
                             f"{self.serve.max_upload_mb:g} MB.")

    def image_size(self, path) -> tuple[int, int]:
        """An uploaded image's `(width, height)` from its header, refused over the limits; decodes nothing."""
        from inception_keras.images import image_size

        self.check_upload(path)
        return image_size(path, self.max_pixels)

    def read_image(self, path, side: int | None = None) -> np.ndarray:
        """An uploaded image, decoded once the header passed the limits (`image_size`).

        Args:
            side: shrink it to at most this side, a JPEG decoded at 1/2 to
                1/8 scale on the way (a preview, a camera frame). Defaults
                to `None`: full size, as the command line reads it.
        """
        from deepdream.jobs import fit_max_side
        from inception_keras.images import load_image

        self.check_upload(path)
        return fit_max_side(load_image(path, self.max_pixels, draft_size=side), side)

    def probe_video(self, path):
        """An uploaded clip's `VideoInfo` (demuxed, not decoded), refused when a frame has more pixels than a photo may."""
        from deepdream.video_io import probe_video

        self.check_upload(path)
        info = probe_video(path)
        if info.width * info.height > self.max_pixels:
            raise ValueError(f"Input video is too large: {path} has frames of {info.width}x{info.height} "
                             f"({info.width * info.height} pixels, limit {self.max_pixels}); downscale it first.")
        return info


class DeviceTurns:
    """Who runs on the device: one queued job at a time, camera frames only in between.

    A job waits for its turn (`job()`) and keeps it for its whole run; a
    camera frame takes a turn only when no job runs or waits (`frame()`
    yields `False` otherwise, at once), so a live stream never holds the
    device for more than one frame and never makes a job wait longer than one.
    """

    def __init__(self):
        self._device = threading.Lock()
        self._count = threading.Lock()
        self._waiting = 0

    @contextlib.contextmanager
    def job(self) -> Iterator[None]:
        """Holds the device for a job, after the frame running now (if any)."""
        with self._count:
            self._waiting += 1
        try:
            self._device.acquire()
        finally:
            with self._count:
                self._waiting -= 1
        try:
            yield
        finally:
            self._device.release()

    @contextlib.contextmanager
    def frame(self) -> Iterator[bool]:
        """Yields whether a camera frame may use the device now (no job runs or waits); holds it while it does."""
        with self._count:
            free = self._waiting == 0 and self._device.acquire(blocking=False)
        try:
            yield free
        finally:
            if free:
                self._device.release()


@dataclasses.dataclass
class Progress:
    """A snapshot of a job: steps (or frames) done of total, the latest preview and message, if any."""

    done: int = 0
    total: int = 1
    preview: np.ndarray | None = None
    message: str | None = None
    started: float = dataclasses.field(default_factory=time.monotonic)

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the pace so far; `None` before the first step."""
        if self.done == 0:
            return None
        return (time.monotonic() - self.started) / self.done * (self.total - self.done)


class Job:
    """Runs `work(job)` on a thread; `work` reports with `job.step(done, total, preview)` or through `job.hooks()`.

    Both raise `Cancelled` once `cancel()` was called, so a job stops
    within one report of its visitor leaving. `on_end(outcome)` is called
    with "done", "cancelled" or "failed" when the work ends.
    """

    def __init__(self, work: Callable[["Job"], object], on_end: Callable[[str], None] | None = None):
        self._progress = Progress()
        self._version = 0
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._result = None
        self._error: BaseException | None = None
        self._finished = False
        self._on_end = on_end
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True, name="deepdream-job")
        self._thread.start()

    def step(self, done: int, total: int, preview: np.ndarray | None = None) -> None:
        """Records progress (and a preview); raises `Cancelled` when the job was cancelled."""
        if self._stop.is_set():
            raise Cancelled
        with self._lock:
            self._progress.done, self._progress.total = done, max(1, total)
            if preview is not None:
                self._progress.preview = preview
            self._version += 1
            self._lock.notify_all()

    def note(self, message: str) -> None:
        """Records a line for the visitor (a resumed video), shown with the progress."""
        with self._lock:
            self._progress.message = message
            self._version += 1
            self._lock.notify_all()

    def hooks(self, previews: bool = False) -> Hooks:
        """The `Hooks` of a `deepdream.jobs` job that report to this one and stop it once cancelled.

        Args:
            previews: hand over the dream so far as it grows. Defaults to `False`.
        """
        return Hooks(on_progress=lambda progress: self.step(progress.done, progress.total, progress.preview),
                     on_message=self.note, should_stop=self._stop.is_set, previews=previews)

    def cancel(self) -> None:
        """Asks the work to stop at its next step."""
        self._stop.set()

    def snapshot(self) -> Progress:
        """The progress as last reported."""
        with self._lock:
            return dataclasses.replace(self._progress)

    def updates(self, interval: float = PREVIEW_INTERVAL_S) -> Iterator[Progress]:
        """Yields a snapshot whenever the job reported, at most every `interval` seconds, until it ends."""
        seen = -1
        while True:
            with self._lock:
                self._lock.wait_for(lambda seen=seen: self._finished or self._version != seen, timeout=interval)
                if self._finished:
                    return
                if self._version == seen:
                    continue
                seen = self._version
            yield self.snapshot()
            time.sleep(interval)

    def wait(self, timeout_s: float | None = None) -> bool:
        """Waits up to `timeout_s` for the work to end; returns whether it did."""
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def result(self):
        """The work's return value once `updates()` ended; re-raises what the work raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result

    def _run(self, work) -> None:
        outcome = "done"
        try:
            self._result = work(self)
        except BaseException as error:  # handed to the page's thread by result()
            self._error = error
            outcome = "cancelled" if isinstance(error, Cancelled) else "failed"
        finally:
            with self._lock:
                self._finished = True
                self._lock.notify_all()
            if self._on_end is not None:
                self._on_end(outcome)


def layer_spec(layers: list[str] | str, weights: str = "") -> str:
    """`"mixed3:1.0,mixed5:1.5"` from the chosen layers and a comma list of their weights (missing: 1.0)."""
    if isinstance(layers, str):
        layers = [layers]
    layers = [name for name in layers if name]
    if not layers:
        raise ValueError("Choose at least one layer.")
    values = [w.strip() for w in (weights or "").split(",") if w.strip()]
    if len(values) > len(layers):
        raise ValueError(f"{len(values)} layer weights for {len(layers)} layers: give one weight per layer.")
    values += ["1.0"] * (len(layers) - len(values))
    for value in values:
        try:
            float(value)
        except ValueError:
            raise ValueError(f"A layer weight must be a number. Received: {value!r}") from None
    return ",".join(f"{name}:{value}" for name, value in zip(layers, values))


def prune_outputs(folder: Path, max_age_s: float) -> None:
    """Removes the files and folders in `folder` older than `max_age_s` seconds (bounded disk use)."""
    now = time.time()
    for path in folder.iterdir():
        try:
            if now - path.stat().st_mtime <= max_age_s:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink()
        except OSError:
            pass
