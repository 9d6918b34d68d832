"""A clip's shots dreamed in parallel on a Ray cluster: one actor per worker, one engine each.

Shots are independent (the dream restarts at each cut, `deepdream.shots`),
so each goes whole to one actor (`ShotActor`), which dreams it with
`deepdream.video_dream.dream_shot`, the function the local video job calls,
and streams the frames back as they are finished (a streaming generator
task): the driver keeps them (`dream_video_on_ray`), so the
workers need no shared file system. An actor that dies (SIGKILL, a lost
node) is restarted by Ray (`max_restarts`); its shot is sent again, to
continue after its last frame that came back. Ray comes with the optional
extra: `pip install -e ".[ray]"`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from deepdream import jobs, settings
from deepdream.options import DreamOptions, EngineOptions, VideoOptions

# How often the driver, waiting for frames, checks whether it should stop.
WAIT_SECONDS = 0.5
# Restarts of one actor before the run gives up (each one a dead worker process or node).
MAX_RESTARTS = 8


@dataclasses.dataclass
class ShotWork:
    """One shot to dream: its first frame's index, its input frames `(N, H, W, 3)`, and what is finished.

    `done` frames from the first are finished already; `restored` holds the
    stored dreams of the first and the last of them (`dream_shot`'s `load`).
    """

    start: int
    frames: np.ndarray
    done: int = 0
    restored: dict[int, np.ndarray] = dataclasses.field(default_factory=dict)

    @property
    def end(self) -> int:
        return self.start + len(self.frames) - 1


class ShotActor:
    """A Ray actor's body: builds one engine, then dreams whole shots with `dream_shot`."""

    def __init__(self, engine: EngineOptions, dream: DreamOptions, video: VideoOptions):
        from deepdream.video_dream import FrameDreamer

        self.engine = jobs.build_engine(engine)
        self.frames_dreamer = FrameDreamer.from_options(self.engine, dream, video)
        self.original_colors = dream.original_colors

    def precision(self) -> str:
        """The precision this worker's engine resolved ("auto" may differ from machine to machine)."""
        return self.engine.precision

    def dream_shot(self, work: ShotWork):
        """Yields `(index, dream)` for each frame of the shot after its finished ones."""
        from deepdream.video_dream import dream_shot

        for index, dreamed in dream_shot(self.frames_dreamer, work.frames, work.start, work.done,
                                         work.restored.__getitem__, self.original_colors):
            if dreamed is not None:
                yield index, dreamed


def dream_video_on_ray(source, output, engine: EngineOptions, dream: DreamOptions, video: VideoOptions, *,
                       address: str = "local", workers: int = 2, gpus_per_worker: float = 0.0,
                       hooks: jobs.Hooks = jobs.NO_HOOKS,
                       on_shot: Callable[[int, int, bool], None] | None = None) -> Path:
    """Dreams the clip `source` into `output` as `deepdream.jobs.dream_video` does, its shots in parallel on Ray.

    The clip is decoded once, here; each shot's frames go to one of
    `workers` actors (`ShotActor`, one engine each), which dreams
    it with `deepdream.video_dream.dream_shot` and streams the frames back.
    They are kept in `<output>.frames/` as they come, so a run stopped here
    continues with `video.resume` (finished shots are not sent again) and
    the workers need no shared file system. A worker that dies mid-shot is
    restarted by Ray and its shot redone from its last finished frame. Once
    every frame is in, they are encoded in order into `output` with the
    input's audio packets copied.

    Args:
        address: `ray.init`'s address, or `"local"` to start a cluster
            here. Defaults to `"local"`.
        workers: actors, each with its own engine. Defaults to 2.
        gpus_per_worker: GPUs Ray reserves per actor. Defaults to 0.
        on_shot: as `deepdream.jobs.dream_video`'s. Defaults to `None`.

    Raises:
        ValueError: the paths, the clip (checked before any worker starts),
            the worker counts, or Ray missing.
    """
    source, output = Path(source), Path(output)
    jobs.check_video_output(source, output, engine.guide)
    check_workers(workers, gpus_per_worker)
    info, count = jobs.probe_clip(source, video)  # a broken clip: one line, before Ray or any worker starts
    store, finished = jobs.open_video_store(output, source, count, engine, dream, video, hooks)
    fps, times = jobs.output_timing(source, output, info, video, count, hooks)
    done = set(finished)

    def shots(tagged) -> Iterator[ShotWork]:
        for start, group in itertools.groupby(tagged, key=lambda item: item[0]):
            frames = np.stack([frame for _, frame in group])
            finished_here = min(jobs.finished_in_a_row(finished, start, count), len(frames))
            if finished_here < len(frames):
                restored = {index: store.load(index) for index in {start, start + finished_here - 1}
                            if finished_here and index >= start}
                yield ShotWork(start, frames, finished_here, restored)

    def on_frame(index: int, frame: np.ndarray) -> None:
        store.save(index, frame)
        done.add(index)
        hooks.progress(len(done), count, "frame", frame)

    if done:
        hooks.progress(len(done), count, "frame")
    with contextlib.closing(jobs.tagged_frames(source, count, engine, video)) as tagged:
        precision = dream_shots_on_ray(shots(tagged), engine, dream, video, on_frame, address=address,
                                       workers=workers, gpus_per_worker=gpus_per_worker, hooks=hooks,
                                       on_shot=on_shot)
    missing = sorted(set(range(count)) - store.finished_frames())
    if missing:
        raise ValueError(f"The Ray workers left {len(missing)} frames undone (first: {missing[0]}); "
                         "run again with --resume.")
    recorded = settings.build("video", engine, dream, precision, video)
    joined = jobs.Hooks(should_stop=hooks.should_stop)
    jobs.write_frames(output, store, range(count), count, fps, ((i, store.load(i)) for i in range(count)),
                      recorded, video.crf, joined, audio_from=source if info.has_audio else None,
                      trim_audio=count < info.frame_count, times=times)
    return output


def check_workers(workers: int, gpus_per_worker: float) -> None:
    """Raises `ValueError` naming the flag when the worker counts are out of range."""
    if workers < 1:
        raise ValueError(f"--workers must be at least 1. Received: {workers}")
    if gpus_per_worker < 0:
        raise ValueError(f"--gpus-per-worker must be 0 or more. Received: {gpus_per_worker}")


def dream_shots_on_ray(shots: Iterable[ShotWork], engine: EngineOptions, dream: DreamOptions, video: VideoOptions,
                       on_frame: Callable[[int, np.ndarray], None], *, address: str = "local", workers: int = 2,
                       gpus_per_worker: float = 0.0, hooks=None,
                       on_shot: Callable[[int, int, bool], None] | None = None) -> str:
    """Dreams each shot on one of `workers` Ray actors; calls `on_frame(index, dream)` here as frames come.

    Shots are pulled from `shots` only as actors fall idle, so the driver
    holds the frames of about `workers` shots. A shot whose actor died is
    sent again (to the restarted actor) after the frames that came back.

    Args:
        shots: the shots to dream (those with frames left), in order.
        engine, dream, video: the options each actor builds its engine and
            frame dreamer from.
        on_frame: called on this thread with each finished frame.
        address: `ray.init`'s address, or `"local"` to start a cluster
            here. Defaults to `"local"`.
        workers: actors. Defaults to 2.
        gpus_per_worker: GPUs Ray reserves per actor. Defaults to 0.
        hooks: the job's `deepdream.jobs.Hooks`, polled (`should_stop`) while
            waiting. Defaults to `None`.
        on_shot: as `deepdream.jobs.dream_video`'s. Defaults to `None`.

    Returns:
        The precision the actors' engines resolved.
    """
    from deepdream.distributed import import_ray

    ray = import_ray()
    if not ray.is_initialized():
        ray.init(address=None if address == "local" else address, log_to_driver=False,
                 include_dashboard=False, configure_logging=False)
    actor_class = ray.remote(num_cpus=1, num_gpus=gpus_per_worker, max_restarts=MAX_RESTARTS)(ShotActor)
    actors = [actor_class.remote(engine, dream, video) for _ in range(workers)]
    try:
        precision = ray.get(actors[0].precision.remote())  # a bad option: the engine's own error, here
        _run(ray, actors, iter(shots), on_frame, hooks, on_shot)
    except ray.exceptions.RayTaskError as error:  # a worker's ValueError (a frame too small): its one line
        if isinstance(error.cause, ValueError):
            raise ValueError(str(error.cause)) from None
        raise
    finally:
        for actor in actors:
            ray.kill(actor)
    return precision


def _run(ray, actors: list, shots, on_frame, hooks, on_shot) -> None:
    """Keeps every actor busy with a shot until `shots` is spent and every frame is back."""
    dead = (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError)
    idle, running = list(actors), {}  # running: generator -> (actor, work)

    def submit(actor, work: ShotWork) -> None:
        if on_shot is not None:
            on_shot(work.start, work.start + work.done, False)
        generator = actor.dream_shot.options(num_returns="streaming").remote(work)
        running[generator] = (actor, work)

    while True:
        while idle:
            work = next(shots, None)
            if work is None:
                break
            submit(idle.pop(), work)
        if not running:
            return
        if hooks is not None and hooks.should_stop is not None and hooks.should_stop():
            raise jobs.Cancelled
        ready, _ = ray.wait(list(running), num_returns=1, timeout=WAIT_SECONDS)
        for generator in ready:
            actor, work = running.pop(generator)
            try:
                index, dreamed = ray.get(next(generator))
            except StopIteration:
                if on_shot is not None:
                    on_shot(work.start, work.end, True)
                idle.append(actor)
                continue
            except dead:
                if hooks is not None:
                    hooks.message(f"a worker was lost in shot {work.start}-{work.end}; Ray restarts it and the "
                                  f"shot goes on from frame {work.start + work.done}")
                submit(actor, work)
                continue
            on_frame(index, dreamed)
            work.restored = {i: frame for i, frame in work.restored.items() if i == work.start}
            work.restored[index] = dreamed
            work.done = index - work.start + 1
            running[generator] = (actor, work)
