"""The dream examples run end to end (random weights, one step: this checks the wiring, not the look)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from inception_keras.images import load_image, resize_image

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.slow
@pytest.mark.parametrize("script", ["dream_basic.py", "dream_laplacian.py", "dream_guided.py", "dream_channel.py"])
def test_dream_example_writes_a_same_size_image(script, tmp_path, grace_hopper):
    source = tmp_path / "photo.png"
    Image.fromarray(resize_image(grace_hopper, 180, 150)).save(source)
    output = tmp_path / "out.png"
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), str(source), "--weights", "none", "--output", str(output),
         "--steps", "1"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert load_image(output).shape == (180, 150, 3)


@pytest.mark.slow
def test_large_tiled_example_writes_a_4k_dream(tmp_path, grace_hopper):
    source = tmp_path / "wide.png"
    Image.fromarray(resize_image(grace_hopper, 180, 320)).save(source)
    output = tmp_path / "dream_4k.jpg"
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "dream_large_tiled.py"), str(source), "--weights", "none",
         "--output", str(output), "--steps", "1"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert load_image(output).shape == (2160, 3840, 3)
