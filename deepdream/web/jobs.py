"""What the page runs: the CLI's own flags, checks and mode calls, on a worker thread that reports as it goes.

Each job turns the page's values into the command line's flags and parses
them with `deepdream.cli.build_parser()`, so a page dream and a CLI dream are
the same call with the same settings (and the same file). The work runs on a
`Job` thread; the page's generator reads its progress and previews, and a
closed tab stops it between two steps.
"""

from __future__ import annotations

import dataclasses
import shutil
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

# The page shows a new preview at most this often, and at least once per octave.
PREVIEW_INTERVAL_S = 0.5
# Decompression bombs: far above a phone photo (48 MP), far below what exhausts a small server.
DEFAULT_MAX_PIXELS = 64_000_000


class Cancelled(Exception):
    """Raised inside a job's work when its visitor has gone."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """What a visitor may ask of the server."""

    max_side: int = 768
    max_steps: int = 50
    max_frames: int = 48
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_upload_bytes: int = 20 * 1024 * 1024

    def check(self, args) -> None:
        """Raises `ValueError` with a message for the visitor when the flags ask for more than the limits."""
        if args.max_side is not None and args.max_side > self.max_side:
            raise ValueError(f"This server dreams images of at most {self.max_side} pixels a side; "
                             f"{args.max_side} was asked for.")
        if args.steps > self.max_steps:
            raise ValueError(f"This server takes at most {self.max_steps} steps per octave; "
                             f"{args.steps} was asked for.")
        frames = getattr(args, "max_frames", None) or getattr(args, "zoom_frames", None)
        if frames is not None and frames > self.max_frames:
            raise ValueError(f"This server dreams at most {self.max_frames} video frames; {frames} was asked for.")

    def check_upload(self, path) -> None:
        """Raises `ValueError` when an upload is missing or over the size limit."""
        if path is None:
            raise ValueError("Upload a file first.")
        size = Path(path).stat().st_size
        if size > self.max_upload_bytes:
            raise ValueError(f"The upload is {size / 2**20:.1f} MB; this server takes at most "
                             f"{self.max_upload_bytes / 2**20:.0f} MB.")


@dataclasses.dataclass
class Progress:
    """A snapshot of a job: steps (or frames) done of total, and the latest preview, if any."""

    done: int = 0
    total: int = 1
    preview: np.ndarray | None = None
    started: float = dataclasses.field(default_factory=time.monotonic)

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the pace so far; `None` before the first step."""
        if self.done == 0:
            return None
        return (time.monotonic() - self.started) / self.done * (self.total - self.done)


class Job:
    """Runs `work(job)` on a thread; `work` reports with `job.step(done, total, preview)`.

    `step` raises `Cancelled` once `cancel()` was called, so a job stops
    within one step of its visitor leaving. `on_end(outcome)` is called
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

    def cancel(self) -> None:
        """Asks the work to stop at its next step."""
        self._stop.set()

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
                snapshot = dataclasses.replace(self._progress)
            yield snapshot
            time.sleep(interval)

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


def dream_reporters(job: Job) -> dict[str, Callable]:
    """`on_step` and `on_image` callbacks of `DeepDream.dream` that report to `job`.

    Steps are counted as they come; the dream so far becomes the preview at
    the end of each octave and otherwise at most every `PREVIEW_INTERVAL_S`
    seconds (the engine hands it over about once a second).
    """
    counts = [0, 1]
    last = [0.0]

    def on_step(done: int, total: int, loss: float) -> None:
        counts[:] = [done, total]
        job.step(done, total)

    def on_image(image: np.ndarray) -> None:
        now = time.monotonic()
        if now - last[0] >= PREVIEW_INTERVAL_S or counts[0] == counts[1]:
            last[0] = now
            job.step(*counts, preview=image)

    return dict(on_step=on_step, on_image=on_image)


def parse_flags(argv: list[str]):
    """Parses `argv` with the command line's own parser; raises `ValueError` with its one-line message."""
    from deepdream.cli import build_parser
    from inception_keras.cli_support import UsageError

    try:
        return build_parser().parse_args(argv)
    except UsageError as error:
        raise ValueError(str(error).replace("deepdream: ", "").replace(" (see --help)", "")) from None


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
