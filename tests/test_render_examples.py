"""The render examples run end to end (random weights, one step: this checks the wiring, not the look).

examples/render_gallery.py is the CLI's gallery (tests/test_render_cli.py) in a few lines.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from inception_keras.images import load_image, resize_image

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.slow
@pytest.mark.parametrize(
    "script, arguments",
    [
        ("render_from_noise.py", ["--size", "80"]),
        ("render_photo_pixel_vs_fft.py", ["{photo}", "--size", "80"]),
    ],
)
def test_render_example_writes_a_grid(script, arguments, tmp_path, grace_hopper):
    photo = tmp_path / "photo.png"
    Image.fromarray(resize_image(grace_hopper, 120, 100)).save(photo)
    output = tmp_path / "out.jpg"
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *[a.format(photo=photo) for a in arguments],
         "--weights", "none", "--steps", "1", "--output", str(output)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert load_image(output).ndim == 3
