"""`python -m deepdream`: dreams that raise the layer's energy, and bad input that changes nothing."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from deepdream.cli import main
from inception_keras.images import load_image, resize_image

FAST = ["--octaves", "2", "--steps", "4", "--quiet"]


@pytest.fixture()
def photo_path(tmp_path, grace_hopper):
    path = tmp_path / "photo.jpg"
    Image.fromarray(resize_image(grace_hopper, 240, 200)).save(path)
    return path


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _mixed4_energy(weights, images):
    import inception_keras as ik

    base = ik.InceptionV3(include_top=False, weights=weights, input_shape=(None, None, 3))
    extractor = ik.feature_extractor(base, "mixed4")
    return [float(np.mean(np.square(extractor.predict(ik.preprocess_input(i[None]), verbose=0)["mixed4"])))
            for i in images]


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA"])
def test_dream_raises_mixed4_energy(trained_weights_path, photo_path, tmp_path, mode, monkeypatch):
    source = tmp_path / f"input_{mode}.png"
    Image.open(photo_path).convert(mode).save(source)
    monkeypatch.chdir(tmp_path)
    assert main([str(source), "--layer", "mixed4", "--weights", str(trained_weights_path), *FAST]) == 0
    output = tmp_path / f"input_{mode}_dream.png"
    before, after = load_image(source), load_image(output)
    assert after.shape == before.shape
    energy_before, energy_after = _mixed4_energy(trained_weights_path, [before, after])
    assert energy_after > 1.25 * energy_before


@pytest.mark.slow
def test_jax_backend_dreams_too(trained_weights_path, photo_path, tmp_path):
    output = tmp_path / "jax.png"
    env = dict(os.environ, KERAS_BACKEND="jax")
    result = subprocess.run(
        [sys.executable, "-m", "deepdream", str(photo_path), "--layer", "mixed4", "-o", str(output),
         "--weights", str(trained_weights_path), "--tile-size", "256", *FAST],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    before, after = load_image(photo_path), load_image(output)
    assert after.shape == before.shape
    energy_before, energy_after = _mixed4_energy(trained_weights_path, [before, after])
    assert energy_after > 1.25 * energy_before


@pytest.mark.slow
def test_jax_backend_runs_without_trained_weights(photo_path, tmp_path):
    output = tmp_path / "jax.png"
    env = dict(os.environ, KERAS_BACKEND="jax")
    result = subprocess.run(
        [sys.executable, "-m", "deepdream", str(photo_path), "--layer", "mixed3", "-o", str(output),
         "--weights", "none", "--tile-size", "200", "--octaves", "2", "--steps", "1"],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert load_image(output).shape == load_image(photo_path).shape
    assert "octaves" in result.stderr  # the progress bar


@pytest.mark.parametrize(
    "argv, message",
    [
        (["{missing}"], "not found"),
        (["{empty}"], "empty"),
        (["{text}"], "Not an image"),
        (["{photo}", "--layer", "mixd4"], "Closest valid names: mixed4"),
        (["{photo}", "--layer", "mixed4:x"], "Bad layer term"),
        (["{photo}", "--steps", "0"], "--steps"),
        (["{photo}", "--octave-scale", "0.5"], "--octave-scale"),
        (["{photo}", "--step-size", "-1"], "--step-size"),
        (["{photo}", "--channel", "5000", "--layer", "mixed3"], "Channel 5000"),
        (["{photo}", "-o", "{photo}"], "would replace the input"),
        (["{photo}", "-o", "{tmp}/no/dir/out.png"], "folder does not exist"),
        (["{photo}", "-o", "{tmp}/out.xyz"], "output format"),
        (["{photo}", "--weights", "{tmp}/nothing.h5"], "not found"),
        (["{photo}", "--guide", "{text}"], "Not an image"),
        (["{photo}", "--precision", "int8"], "invalid choice"),
        ([], "no INPUT"),
    ],
)
def test_bad_input_exits_2_writes_nothing_and_keeps_the_input(argv, message, photo_path, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("hello")
    names = dict(missing=tmp_path / "missing.jpg", empty=tmp_path / "empty.jpg", text=tmp_path / "text.jpg",
                 photo=photo_path, tmp=tmp_path)
    argv = [a.format(**names) for a in argv] + ["--weights", "none"] * ("--weights" not in argv)
    before = {p.name: _digest(p) for p in tmp_path.iterdir() if p.is_file()}
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err, err
    assert {p.name: _digest(p) for p in tmp_path.iterdir() if p.is_file()} == before


def test_list_layers(capsys):
    assert main(["--list-layers"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[5].split() == ["mixed4", "768", "16", "351"]


def test_help_and_the_parser_load_no_backend():
    # The backend's C++ start-up lines are kept off stderr only when Keras loads after parsing.
    code = ("import sys; from deepdream.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('keras', 'tensorflow', 'jax', 'torch') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr[-1000:]
