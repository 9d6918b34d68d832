"""Videos and zoom animations from the command line and from Python: frames, audio, resume, bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from video_clips import audio_packets, moving_square, write_clip

from deepdream.cli import main
from deepdream.frame_store import FrameStore
from deepdream.video_io import probe_video, read_video

FAST = ["--weights", "none", "--octaves", "1", "--steps", "1", "--frame-steps", "1", "--quiet"]


@pytest.fixture(scope="module")
def engine():
    from deepdream import DeepDream

    return DeepDream("mixed2", weights=None)


def test_video_keeps_frames_size_rate_and_audio(tmp_path, monkeypatch):
    source = write_clip(tmp_path / "clip.mp4", frames=8, audio=True)
    before = source.read_bytes()
    monkeypatch.chdir(tmp_path)
    assert main([str(source), *FAST]) == 0
    output = tmp_path / "clip_dream.mp4"
    original, dreamed = probe_video(source), probe_video(output)
    assert (dreamed.width, dreamed.height, dreamed.fps, dreamed.frame_count) == (96, 80, original.fps, 8)
    assert audio_packets(output) == audio_packets(source)
    assert source.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "clip_dream.mp4"]  # work folder gone
    from deepdream import settings

    recorded = settings.read(output)
    assert (recorded["mode"], recorded["frame_steps"], recorded["steps"], recorded["weights"]) == ("video", 1, 1, "none")


def test_max_frames_previews_the_start(tmp_path):
    source = write_clip(tmp_path / "clip.mkv", frames=10, audio=True)
    output = tmp_path / "preview.gif"
    assert main([str(source), "-o", str(output), "--max-frames", "3", "--no-flow", *FAST]) == 0
    with Image.open(output) as image:
        assert image.n_frames == 3 and image.size == (96, 80)


def test_zoom_animation_has_frames_of_the_still_size_each_close_to_the_last(tmp_path, grace_hopper):
    still = tmp_path / "still.png"
    Image.fromarray(grace_hopper[::4, ::4]).save(still)  # 150 x 128
    output = tmp_path / "z.gif"
    assert main([str(still), "--zoom-frames", "12", "--zoom", "1.05", "-o", str(output), *FAST]) == 0
    frames = list(read_video(output))
    assert len(frames) == 12 and all(f.shape == (150, 128, 3) for f in frames)
    steps = [np.mean(np.abs(a.astype(float) - b)) for a, b in zip(frames, frames[1:])]
    overall = np.mean(np.abs(frames[0].astype(float) - frames[-1]))
    assert max(steps) < 0.5 * overall  # each frame is near the one before; the animation moves


@pytest.mark.parametrize("name, make", [
    ("junk", lambda tmp: (tmp / "junk.mp4").write_bytes(bytes(range(256)) * 8)),
    ("empty", lambda tmp: (tmp / "empty.mp4").write_bytes(b"")),
    ("truncated", lambda tmp: (tmp / "cut.mp4").write_bytes(
        write_clip(tmp / "whole.mp4", faststart=True).read_bytes()[:1400])),
])
def test_bad_videos_exit_2_with_one_line(tmp_path, capsys, monkeypatch, name, make):
    make(tmp_path)
    source = next(p for p in tmp_path.iterdir() if p.name != "whole.mp4")
    monkeypatch.chdir(tmp_path)
    assert main([str(source), *FAST]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and str(source) in error
    assert not any(p.name.startswith(source.stem + "_dream") for p in tmp_path.iterdir())


@pytest.mark.parametrize("flags, message", [
    (["--frame-steps", "0"], "--frame-steps"),
    (["--blend", "1.5"], "--blend"),
    (["--max-frames", "0"], "--max-frames"),
    (["--crf", "99"], "--crf"),
    (["--fps", "0"], "--fps"),
    (["--zoom-frames", "4", "--zoom", "5"], "--zoom"),
    (["-o", "out.avi"], "Cannot write a video"),
])
def test_bad_video_flags_exit_2(tmp_path, capsys, flags, message):
    source = write_clip(tmp_path / "clip.mp4", frames=3)
    assert main([str(source), *FAST, *flags]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_ctrl_c_leaves_no_output_and_resume_finishes(tmp_path):
    source = write_clip(tmp_path / "clip.mp4", frames=12, audio=True)
    output = tmp_path / "out.mp4"
    command = [sys.executable, "-m", "deepdream", str(source), "-o", str(output), *FAST]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    work = tmp_path / "out.mp4.frames"
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not (work / "frame_000001.png").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, error = process.communicate(timeout=120)
    assert process.returncode == 130, error
    assert not output.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]  # no half-written temp file
    finished = len(list(work.glob("frame_*.png")))
    assert 2 <= finished < 12

    resumed = subprocess.run([*command, "--resume"], env=env, capture_output=True, text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stderr
    assert probe_video(output).frame_count == 12
    assert audio_packets(output) == audio_packets(source)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "out.mp4"]


def test_a_leftover_work_folder_needs_resume_and_the_same_settings(tmp_path):
    output = tmp_path / "out.mp4"
    FrameStore(output, {"steps": 5}).open(resume=False)
    with pytest.raises(ValueError, match="--resume"):
        FrameStore(output, {"steps": 5}).open(resume=False)
    with pytest.raises(ValueError, match=r"other settings \(steps\)"):
        FrameStore(output, {"steps": 6}).open(resume=True)
    store = FrameStore(output, {"steps": 5})
    assert store.open(resume=True) == 0
    frame = moving_square(3)
    store.save(0, frame)
    store.save(1, frame[::-1])
    assert store.finished() == 2
    assert np.array_equal(store.load(1), frame[::-1])
    store.remove()
    assert list(tmp_path.iterdir()) == []


def test_dream_frames_pulls_one_frame_at_a_time(engine):
    from deepdream.video_dream import dream_frames

    pulled = []

    def frames():
        for index in range(4):
            pulled.append(index)
            yield moving_square(index)

    dreams = dream_frames(engine, frames(), dict(octaves=1, steps=1), frame_steps=1)
    first = next(dreams)
    assert pulled == [0] and first.shape == (80, 96, 3) and first.dtype == np.uint8
    assert len(list(dreams)) == 3 and pulled == [0, 1, 2, 3]


def test_restore_continues_as_if_the_frame_had_just_been_dreamed(engine):
    from deepdream.video_dream import FrameDreamer

    options = dict(octaves=1, steps=2)
    straight = FrameDreamer(engine, options, frame_steps=2)
    first = straight.dream(moving_square(0))
    expected = straight.dream(moving_square(1))
    resumed = FrameDreamer(engine, options, frame_steps=2)
    resumed.restore(moving_square(0), first)
    # The resumed dreamer carries the uint8 frame, the straight one the float dream: equal within rounding.
    assert np.mean(np.abs(resumed.dream(moving_square(1)).astype(int) - expected)) < 1.0


def test_flow_guided_frames_are_steadier_than_dreams_from_scratch(trained_weights_path, grace_hopper):
    from deepdream import DeepDream
    from deepdream.video_dream import dream_frames

    engine = DeepDream("mixed4", weights=trained_weights_path)
    clip = [np.ascontiguousarray(grace_hopper[100 + 2 * i: 196 + 2 * i, 150 + 3 * i: 278 + 3 * i])
            for i in range(6)]  # 128 x 96, panning 3 right and 2 down per frame
    options = dict(octaves=2, steps=6)

    def flicker(frames):  # the camera moves, the content must follow: compare frame t+1 with frame t shifted
        return np.mean([np.mean(np.square(b[:-2, :-3].astype(float) - a[2:, 3:])) for a, b in zip(frames, frames[1:])])

    guided = list(dream_frames(engine, clip, options, frame_steps=3))
    scratch = list(dream_frames(engine, clip, options, flow=False))
    assert flicker(guided) < 0.5 * flicker(scratch)


def test_lookahead_computes_the_same_frames_reading_one_ahead(engine):
    from deepdream.video_dream import dream_frames

    pulled = []

    def frames():
        for index in range(4):
            pulled.append(index)
            yield moving_square(index)

    options = dict(octaves=1, steps=1)
    ahead = dream_frames(engine, frames(), options, frame_steps=1, lookahead=True)
    first = next(ahead)
    assert pulled[:2] == [0, 1]  # the next frames are read (and their flows started) while this one is dreamed
    rest = list(ahead)
    plain = list(dream_frames(engine, (moving_square(i) for i in range(4)), options, frame_steps=1))
    for a, b in zip([first, *rest], plain):
        assert np.max(np.abs(a.astype(int) - b)) <= 1


def test_a_variable_rate_clip_keeps_each_frames_time_and_its_audio(tmp_path, capsys):
    times = [0.0, 0.05, 0.1, 0.4, 0.45, 0.5, 0.55, 1.2, 1.25, 1.3]  # a pause, then a jump: as phones record
    source = write_clip(tmp_path / "vfr.mp4", frames=len(times), audio=True, times=times)
    assert probe_video(source).variable_rate()
    output = tmp_path / "out.mp4"
    assert main([str(source), "-o", str(output), *FAST]) == 0
    kept = probe_video(output)
    assert kept.frame_count == len(times)
    assert np.allclose(kept.frame_times, probe_video(source).frame_times, atol=1e-3)
    assert audio_packets(output) == audio_packets(source)

    constant = tmp_path / "constant.mp4"  # asked for a constant rate: the run says what that costs
    assert main([str(source), "-o", str(constant), *FAST[:-1], "--fps", "10"]) == 0
    most = max(abs(t - index / 10) for index, t in enumerate(times))  # 0.5 s: frame 7 at 1.2 s instead of 0.7 s
    assert f"re-times it to a constant 10 fps, moving frames by up to {most:.3f} s" in capsys.readouterr().err
