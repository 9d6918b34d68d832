"""A user's files are sacred: no output replaces an input, every fault is one line and exit 2, nothing partial stays.

Each test here failed on 42bd0c1 (0.1.0): run it with that tree first on the path to see it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from video_clips import write_clip

from deepdream.cli import main

FAST = ["--weights", "none", "--layer", "mixed2", "--octaves", "1", "--steps", "1", "--quiet"]
ROOT = Path(__file__).resolve().parent.parent


def _photo(path: Path, grace_hopper, size=(96, 80)) -> Path:
    Image.fromarray(grace_hopper).resize(size).save(path)
    return path


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _one_error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("deepdream: error:"), lines
    return lines[0]


def test_a_batch_into_its_own_folder_never_replaces_an_input(tmp_path, grace_hopper, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    _photo(photos / "a.jpg", grace_hopper)
    _photo(photos / "a_dream.jpg", grace_hopper, (64, 90))  # an input whose name a.jpg's output would take
    before = _digests(photos)
    assert main([str(photos), "--output-dir", str(photos), *FAST]) == 2
    assert "would replace the input" in _one_error_line(capsys)
    assert _digests(photos) == before


def test_a_still_into_a_read_only_folder_fails_before_the_dream(tmp_path, grace_hopper, capsys, monkeypatch):
    source = _photo(tmp_path / "a.png", grace_hopper)
    real_statvfs = os.statvfs

    def read_only(path):  # what a read-only mount reports (root ignores permission bits, so no chmod here)
        status = real_statvfs(path)
        return os.statvfs_result((*status[:8], status.f_flag | os.ST_RDONLY, status.f_namemax))

    monkeypatch.setattr(os, "statvfs", read_only)
    dreamed = []
    monkeypatch.setattr("deepdream.engine.DeepDream.dream", lambda *a, **k: dreamed.append(1))
    assert main([str(source), "-o", str(tmp_path / "out.png"), *FAST]) == 2
    assert "read-only" in _one_error_line(capsys) and not dreamed


def test_a_full_disk_during_the_write_is_one_line_and_leaves_nothing(tmp_path, grace_hopper, capsys, monkeypatch):
    source = _photo(tmp_path / "a.png", grace_hopper)
    real_save = Image.Image.save

    def disk_full(self, fp, *args, **kwargs):
        real_save(self, fp, *args, **kwargs)
        raise OSError(errno.ENOSPC, "No space left on device", str(fp))

    monkeypatch.setattr(Image.Image, "save", disk_full)
    assert main([str(source), "-o", str(tmp_path / "out.png"), *FAST]) == 2
    assert "disk is full" in _one_error_line(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


def test_files_take_the_umask_and_a_replaced_file_keeps_its_mode(tmp_path, grace_hopper):
    source = _photo(tmp_path / "a.png", grace_hopper)
    output = tmp_path / "out.png"
    previous = os.umask(0o077)
    try:
        assert main([str(source), "-o", str(output), *FAST]) == 0
        assert output.stat().st_mode & 0o777 == 0o600
        output.chmod(0o640)
        assert main([str(source), "-o", str(output), *FAST]) == 0
        assert output.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(previous)


@pytest.mark.parametrize("recorded, message", [
    (dict(mode="video", frame_steps=2, blend=0.9, no_flow=False, flow_preset="medium", max_frames=None),
     "video's settings"),
    (dict(mode="still", layers="mixed4:1e39"), "Bad layer term"),
    (dict(mode="still", lapnorm="false"), "`lapnorm` must be true or false"),
    (dict(mode="still", steps="20"), "`steps` must be a whole number"),
])
def test_settings_from_a_crafted_file_are_refused_in_one_line(recorded, message, tmp_path, grace_hopper, capsys):
    source = _photo(tmp_path / "a.png", grace_hopper)
    crafted = tmp_path / "crafted.png"
    settings = {"version": "0.1.0", "mode": "still", "layers": "mixed3", "channel": None, "octaves": 1,
                "steps": 1, "weights": "none", **recorded}
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(crafted, pnginfo=_png_text("deepdream", json.dumps(settings)))
    output = tmp_path / "out.png"
    assert main([str(source), "--settings-from", str(crafted), "-o", str(output), "--weights", "none",
                 "--quiet"]) == 2
    assert message in _one_error_line(capsys)
    assert not output.exists()


def _png_text(key: str, value: str):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text(key, value)
    return info


@pytest.mark.slow
def test_sigterm_ends_a_video_like_ctrl_c_and_the_next_run_clears_stale_parts(tmp_path):
    source = write_clip(tmp_path / "clip.mp4", frames=12, audio=True)
    output = tmp_path / "out.mp4"
    command = [sys.executable, "-m", "deepdream", str(source), "-o", str(output), *FAST, "--frame-steps", "1"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    work = tmp_path / "out.mp4.frames"
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not (work / "frame_000001.png").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, error = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, error
    assert len(error.strip().splitlines()) == 1 and "SIGTERM" in error
    assert not output.exists() and not [p for p in tmp_path.iterdir() if ".part" in p.name]
    assert 2 <= len(list(work.glob("frame_*.png"))) < 12  # the resume store is kept

    stale = tmp_path / ".out.k1ll3d00.part.mp4"  # what a SIGKILL leaves
    stale.write_bytes(b"\0" * 4096)
    resumed = subprocess.run([*command, "--resume"], env=env, capture_output=True, text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "out.mp4"]


def test_an_input_without_a_suffix_gets_a_png_dream(tmp_path, grace_hopper, monkeypatch):
    source = tmp_path / "photo"
    Image.fromarray(grace_hopper).resize((96, 80)).save(source, format="JPEG")
    monkeypatch.chdir(tmp_path)
    assert main([str(source), *FAST]) == 0
    assert Image.open(tmp_path / "photo_dream.png").size == (96, 80)


def test_interrupted_is_its_own_line_after_the_progress_bar(tmp_path, grace_hopper, capsys, monkeypatch):
    source = _photo(tmp_path / "a.png", grace_hopper)

    def stopped(self, image, on_step=None, **options):
        on_step(1, 4, 0.5)  # the bar is drawn, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr("deepdream.engine.DeepDream.dream", stopped)
    assert main([str(source), "-o", str(tmp_path / "out.png"), *FAST[:-1]]) == 130
    assert capsys.readouterr().err.splitlines()[-1] == "deepdream: interrupted"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]
