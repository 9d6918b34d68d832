"""The command line's progress: one bar over the steps of all octaves, silenced by --quiet."""

from __future__ import annotations

import numpy as np
from PIL import Image

from deepdream.cli import main


def _tiny_photo(tmp_path, grace_hopper):
    from inception_keras.images import resize_image

    path = tmp_path / "tiny.png"
    Image.fromarray(resize_image(grace_hopper, 150, 130)).save(path)
    return path


def test_bar_counts_steps_of_all_octaves_with_loss_and_rate(tmp_path, grace_hopper, capsys):
    source = _tiny_photo(tmp_path, grace_hopper)
    argv = [str(source), "-o", str(tmp_path / "out.png"), "--weights", "none", "--layer", "mixed2",
            "--octaves", "2", "--steps", "3", "--precision", "float32"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "6/6" in err and "step" in err and "loss=" in err
    assert "/step" in err or "step/s" in err  # tqdm's rate, seconds per step when slow


def test_quiet_prints_nothing(tmp_path, grace_hopper, capsys):
    source = _tiny_photo(tmp_path, grace_hopper)
    output = tmp_path / "out.png"
    argv = [str(source), "-o", str(output), "--weights", "none", "--layer", "mixed2",
            "--octaves", "1", "--steps", "1", "--precision", "float32", "--quiet"]
    assert main(argv) == 0
    assert capsys.readouterr().err == ""
    assert np.asarray(Image.open(output)).shape == (150, 130, 3)
