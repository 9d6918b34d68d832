"""A clip's shots on a local Ray cluster: the local run's frames, a killed worker, a cancel and a resume."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest
from video_clips import audio_seconds, panning_shots, write_frames_clip

from deepdream.cli import main
from deepdream.video_io import probe_video, read_video

pytestmark = pytest.mark.slow
FAST = ["--octaves", "1", "--steps", "1", "--frame-steps", "1", "--layer", "mixed3", "--tile-size", "160", "--quiet"]


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    import skimage.data

    photos = [skimage.data.rocket(), skimage.data.immunohistochemistry(), skimage.data.stereo_motorcycle()[0],
              skimage.data.cat()]
    return write_frames_clip(tmp_path_factory.mktemp("clip") / "shots.mp4", panning_shots(photos, 5, 96, 80))


@pytest.fixture(scope="module")
def local_run(clip, reference_notop):
    """The local run's output (random but fixed weights: with --weights none every process draws its own)."""
    output = clip.with_name("local.mp4")
    assert main([str(clip), "-o", str(output), "--weights", str(reference_notop[1]), *FAST]) == 0
    return output


def _options(weights):
    from deepdream.options import DreamOptions, EngineOptions, VideoOptions

    return (EngineOptions(layers="mixed3", weights=str(weights), tile_size=160),
            DreamOptions(octaves=1, steps=1), VideoOptions(frame_steps=1))


def _assert_same_dream(output, local):
    ours, theirs = list(read_video(output)), list(read_video(local))
    assert len(ours) == len(theirs) == 20
    differences = [np.mean(np.abs(a.astype(float) - b)) for a, b in zip(ours, theirs)]
    assert np.mean(differences) < 2.5 and max(differences) < 5, differences


def test_ray_workers_dream_the_local_runs_frames_with_its_rate_and_audio(ray_cluster, clip, local_run,
                                                                         reference_notop):
    output = clip.with_name("ray.mp4")
    assert main([str(clip), "-o", str(output), "--ray", "local", "--workers", "2",
                 "--weights", str(reference_notop[1]), *FAST]) == 0
    _assert_same_dream(output, local_run)
    source, ours = probe_video(clip), probe_video(output)
    assert (ours.width, ours.height, ours.fps, ours.frame_count) == (source.width, source.height, source.fps, 20)
    assert audio_seconds(output) == pytest.approx(audio_seconds(clip)) == pytest.approx(audio_seconds(local_run))
    assert not output.with_name("ray.mp4.frames").exists()


def test_a_killed_worker_is_replaced_and_every_frame_is_dreamed(ray_cluster, clip, local_run, reference_notop):
    from deepdream.jobs import Hooks
    from deepdream.video_ray import dream_video_on_ray

    killed = []

    def kill_a_worker(progress):
        if progress.done >= 2 and not killed:
            actors = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
                      and b"ray::ShotActor" in (p / "cmdline").read_bytes()]
            os.kill(actors[0], signal.SIGKILL)
            killed.append(actors[0])

    if not Path("/proc").is_dir():
        pytest.skip("finds the worker processes in /proc")
    output = clip.with_name("killed.mp4")
    dream_video_on_ray(clip, output, *_options(reference_notop[1]), workers=2, hooks=Hooks(on_progress=kill_a_worker))
    assert killed
    _assert_same_dream(output, local_run)


def test_cancel_then_resume_dreams_no_shot_twice(ray_cluster, clip, reference_notop):
    from deepdream.jobs import Cancelled, Hooks
    from deepdream.options import VideoOptions
    from deepdream.video_ray import dream_video_on_ray

    output = clip.with_name("resumed.mp4")
    engine, dream, video = _options(reference_notop[1])
    stored = []
    with pytest.raises(Cancelled):
        dream_video_on_ray(clip, output, engine, dream, video, workers=2,
                           hooks=Hooks(on_progress=lambda p: stored.append(p.done), should_stop=lambda: len(stored) >= 8))
    work = output.with_name("resumed.mp4.frames")
    finished = {int(p.stem.split("_")[1]) for p in work.glob("frame_*.png")}
    assert 8 <= len(finished) < 20 and not output.exists()

    started = []
    dream_video_on_ray(clip, output, engine, dream, VideoOptions(frame_steps=1, resume=True), workers=2,
                       on_shot=lambda start, frame, done: started.append((start, frame)) if not done else None)
    for start, first in started:  # a shot goes on from its first unfinished frame; a finished one is not sent
        assert first not in finished and all(index in finished for index in range(start, first))
    shots = [(0, 4), (5, 9), (10, 14), (15, 19)]
    dreamed_again = sum(end - first + 1 for start, first in started for s, end in shots if s == start)
    assert dreamed_again == 20 - len(finished)  # every frame dreamed once, over both runs
    assert probe_video(output).frame_count == 20 and not work.exists()
