"""The video, zoom and batch examples run end to end (random weights, one step: the wiring, not the look)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from video_clips import audio_packets, write_clip

from deepdream.video_io import probe_video
from inception_keras.images import resize_image

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(*arguments):
    result = subprocess.run([sys.executable, *map(str, arguments)], capture_output=True, text=True, timeout=600)
    assert result.returncode in (0, 2), result.stderr[-2000:]
    return result


@pytest.mark.slow
def test_video_example_keeps_frames_and_audio(tmp_path):
    source = write_clip(tmp_path / "clip.mp4", frames=6, audio=True)
    output = tmp_path / "out.mp4"
    assert _run(EXAMPLES / "dream_video.py", source, "--weights", "none", "--output", output,
                "--steps", "1").returncode == 0
    assert probe_video(output).frame_count == 6
    assert audio_packets(output) == audio_packets(source)


@pytest.mark.slow
def test_zoom_example_writes_an_animated_gif(tmp_path, grace_hopper):
    source = tmp_path / "photo.png"
    Image.fromarray(resize_image(grace_hopper, 100, 90)).save(source)
    output = tmp_path / "zoom.gif"
    assert _run(EXAMPLES / "dream_zoom.py", source, "--weights", "none", "--output", output,
                "--steps", "1").returncode == 0
    with Image.open(output) as image:
        assert image.n_frames == 24 and image.size == (90, 100)


@pytest.mark.slow
def test_batch_example_skips_a_broken_file(tmp_path, grace_hopper):
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(resize_image(grace_hopper, 90, 80)).save(folder / "good.png")
    (folder / "bad.png").write_bytes(b"no")
    result = _run(EXAMPLES / "dream_batch.py", folder, tmp_path / "dreams", "--weights", "none", "--steps", "1")
    assert result.returncode == 2
    assert [p.name for p in (tmp_path / "dreams").iterdir()] == ["good_dream.png"]
    assert "bad.png" in result.stdout
