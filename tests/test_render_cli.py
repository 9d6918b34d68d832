"""`python -m deepdream --noise`: renders, galleries and their errors (random weights: wiring, not looks)."""

from __future__ import annotations

import numpy as np
import pytest

from deepdream.cli import main
from deepdream.gallery import grid_image
from inception_keras.images import load_image

QUICK = ["--octaves", "1", "--steps", "1", "--weights", "none", "--quiet"]


def test_a_render_from_noise_gets_a_default_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["--noise", "96x80", "--layer", "mixed4", "--channel", "3", *QUICK]) == 0
    image = load_image(tmp_path / "render_mixed4_c3.png")
    assert image.shape == (80, 96, 3) and image.std() > 1


def test_an_fft_render_runs(tmp_path):
    output = tmp_path / "fft.png"
    assert main(["--noise", "80x80", "--channel", "3", "--param", "fft", "-o", str(output), *QUICK]) == 0
    assert load_image(output).shape == (80, 80, 3)


@pytest.mark.slow
@pytest.mark.parametrize("channels, count", [("0-15", 16)])
def test_a_channel_range_writes_one_grid_of_labelled_renders(channels, count, tmp_path):
    output = tmp_path / "grid.png"
    assert main(["--noise", "80x80", "--layer", "mixed4", "--channel", channels, "-o", str(output), *QUICK]) == 0
    expected = grid_image([np.zeros((80, 80, 3), np.uint8)] * count, [f"mixed4:{c}" for c in range(count)])
    assert load_image(output).shape == expected.shape


def test_the_grid_holds_each_render_once_under_its_label():
    colours = [np.full((40, 40, 3), (16 * i, 255 - 16 * i, 100), np.uint8) for i in range(16)]
    grid = grid_image(colours, [f"mixed4:{c}" for c in range(16)])
    for colour in colours:
        assert np.all(grid == colour[0, 0], axis=-1).sum() > 0.5 * 40 * 40
    blank = grid_image(colours, [""] * 16)
    # The labels are drawn above the renders: text pixels differ between the two grids.
    assert np.any(grid != blank)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--noise", "12x12"], "--noise must be WIDTHxHEIGHT"),
        (["--noise", "large"], "--noise must be WIDTHxHEIGHT"),
        (["--noise", "128x128", "--channel", "760-770"], "Channel 768 does not exist in mixed4"),
        (["--noise", "128x128", "--channel", "0-99"], "at most 64"),
        (["--noise", "128x128", "{photo}"], "takes no INPUT"),
        (["--noise", "128x128", "--channel", "a-b"], "--channel takes"),
        (["--noise", "128x128", "--param", "fft", "--lapnorm"], "--lapnorm"),
        (["{photo}", "--channel", "0-3"], "add --noise"),
        (["{photo}", "--channel", "x"], "--channel takes"),
        (["--list-layers", "--all-units", "--channel", "5-2"], "--channel takes"),
    ],
)
def test_bad_values_exit_2_with_one_line(argv, message, tmp_path, capsys, monkeypatch, grace_hopper_path):
    monkeypatch.chdir(tmp_path)
    argv = [a.format(photo=grace_hopper_path) for a in argv] + ["--weights", "none"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err, err
    assert list(tmp_path.iterdir()) == []


def test_list_layers_shows_every_unit_with_its_channels(capsys):
    assert main(["--list-layers", "--all-units"]) == 0
    rows = dict(line.split() for line in capsys.readouterr().out.splitlines() if "_relu" in line)
    assert rows["mixed4_branch7x7_3_pre_relu"] == rows["mixed4_branch7x7_3_relu"] == "192"
    assert rows["stem_1a_pre_relu"] == "32" and len(rows) == 2 * 94
