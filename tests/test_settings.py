"""Reproducible settings: written into every output, printed by --show-settings, repeated by --settings-from."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deepdream import settings
from deepdream.cli import main
from inception_keras.images import read_image_metadata, save_image


@pytest.fixture(scope="module")
def small_photo(tmp_path_factory, grace_hopper):
    path = tmp_path_factory.mktemp("photo") / "hopper.jpg"
    Image.fromarray(grace_hopper[::6, ::6]).save(path, quality=90)
    return path


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".tif"])
def test_save_image_metadata_round_trips(tmp_path, suffix):
    image = np.random.RandomState(0).randint(0, 256, (20, 30, 3)).astype(np.uint8)
    fields = {"deepdream": json.dumps({"layers": "mixed4", "note": "é"})}
    path = save_image(image, tmp_path / f"x{suffix}", metadata=fields)
    assert read_image_metadata(path) == fields
    assert read_image_metadata(save_image(image, tmp_path / f"plain{suffix}")) == {}


def test_video_carries_settings(tmp_path):
    from deepdream.video_io import write_video

    recorded = {"mode": "video", "layers": "mixed4", "seed": 3}
    frames = [np.full((32, 48, 3), 40 * i, np.uint8) for i in range(3)]
    path = write_video(frames, tmp_path / "clip.mp4", metadata=settings.video_metadata(recorded))
    assert settings.read(path) == recorded


def test_settings_from_repeats_the_dream_byte_for_byte(tmp_path, small_photo, reference_notop, capsys):
    _, weights = reference_notop
    first = tmp_path / "first.png"
    flags = ["--weights", str(weights), "--quiet", "--precision", "float32"]
    assert main([str(small_photo), "-o", str(first), "--layer", "mixed4:1.5", "--channel", "7", "--octaves", "2",
                 "--octave-scale", "1.3", "--steps", "2", "--step-size", "0.02", "--jitter", "9", "--lapnorm",
                 "--seed", "11", *flags]) == 0
    recorded = settings.read(first)
    assert recorded["layers"] == "mixed4:1.5" and recorded["channel"] == 7 and recorded["lapnorm"] is True
    assert (recorded["octaves"], recorded["octave_scale"], recorded["steps"]) == (2, 1.3, 2)
    assert (recorded["step_size"], recorded["jitter"], recorded["seed"]) == (0.02, 9, 11)
    assert recorded["precision"] == "float32" and recorded["weights_sha256"] == settings.file_sha256(weights)
    assert recorded["version"]

    again = tmp_path / "again.png"
    assert main([str(small_photo), "--settings-from", str(first), "-o", str(again), *flags]) == 0
    assert again.read_bytes() == first.read_bytes()
    capsys.readouterr()

    assert main(["--show-settings", str(first)]) == 0
    shown = capsys.readouterr().out
    assert "mixed4:1.5" in shown and "--channel 7" in shown and settings.file_sha256(weights) in shown


@pytest.mark.parametrize("content", [b"", b"not an image at all", None])
def test_bad_settings_files_give_one_line(tmp_path, content, small_photo, capsys):
    path = tmp_path / "bad.png"
    if content is None:
        path = small_photo  # an image with no settings
    else:
        path.write_bytes(content)
    assert main(["--show-settings", str(path)]) == 2
    assert main([str(small_photo), "--settings-from", str(path), "--weights", "none"]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2 and all(line.startswith("deepdream: error:") for line in errors)


def test_a_guided_dream_needs_its_guide(small_photo):
    recorded = {"mode": "still", "layers": "mixed4", "guide_sha256": "ab" * 32}
    with pytest.raises(ValueError, match="--guide"):
        settings.check_sources(recorded, guide=None, weights=None)
    with pytest.raises(ValueError, match="not the recorded guide"):
        settings.check_sources(recorded, guide=str(small_photo), weights=None)


def test_renders_and_batches_record_their_settings(tmp_path, small_photo):
    render = tmp_path / "render.png"
    assert main(["--noise", "80x80", "--channel", "2", "--octaves", "1", "--steps", "1", "--weights", "none",
                 "--quiet", "-o", str(render)]) == 0
    recorded = settings.read(render)
    assert (recorded["mode"], recorded["layers"], recorded["channel"], recorded["noise"]) == ("render", "mixed4", 2,
                                                                                            "80x80")
    assert recorded["weights"] == "none" and recorded["weights_sha256"] is None

    second = tmp_path / "second.jpg"
    second.write_bytes(small_photo.read_bytes())
    out = tmp_path / "out"
    out.mkdir()
    assert main([str(small_photo), str(second), "--output-dir", str(out), "--octaves", "1", "--steps", "1",
                 "--seed", "5", "--weights", "none", "--quiet"]) == 0
    for written in sorted(out.iterdir()):
        assert written.suffix == ".jpg" and settings.read(written)["seed"] == 5


def test_a_dream_written_by_0_1_0_repeats_within_one_level(trained_weights_path, tmp_path, capsys):
    # tests/data/hopper_dream_0.1.0.png was dreamed by 0.1.0 (42bd0c1) from hopper_100x120.png with the
    # trained weights: --layer mixed4:1.0 --octaves 2 --octave-scale 1.3 --steps 3 --step-size 0.02 --jitter 8
    # --lapnorm --seed 5 --precision float32.
    data = Path(__file__).parent / "data"
    again = tmp_path / "again.png"
    assert main([str(data / "hopper_100x120.png"), "--settings-from", str(data / "hopper_dream_0.1.0.png"),
                 "--weights", str(trained_weights_path), "-o", str(again), "--quiet"]) == 0
    assert "recorded by version 0.1.0" in capsys.readouterr().err  # the one warning: another version
    old = np.asarray(Image.open(data / "hopper_dream_0.1.0.png"), np.float64)
    new = np.asarray(Image.open(again), np.float64)
    assert np.abs(new - old).max() <= 1.0, np.abs(new - old).max()
    recorded = settings.read(again)
    assert recorded["format"] == settings.FORMAT and recorded["original_colors"] is False
    assert (recorded["layers"], recorded["seed"], recorded["lapnorm"]) == ("mixed4:1.0", 5, True)
