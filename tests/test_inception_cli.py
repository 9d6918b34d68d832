"""`python -m inception_keras`: in-process via main([...]) and once as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest

from inception_keras.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_layers_conv_json_matches_keras_applications_at_other_size(capsys):
    assert main(["layers", "--conv", "--format", "json", "--input-size", "512", "384"]) == 0
    rows = json.loads(capsys.readouterr().out)
    reference = keras.applications.InceptionV3(include_top=False, weights=None, input_shape=(512, 384, 3))
    shapes = [list(layer.output.shape[1:]) for layer in reference.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(rows) == 94
    assert [row["output_shape"] for row in rows] == shapes
    assert rows[0]["name"] == "stem_1a_conv"


def test_layers_mixed_table_and_csv(capsys):
    assert main(["layers", "--mixed"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["name", "channels", "stride", "receptive_field", "output_shape"]
    assert table[5].split()[:3] == ["mixed4", "768", "16"]
    assert main(["layers", "--format", "csv"]) == 0
    csv_lines = capsys.readouterr().out.splitlines()
    assert csv_lines[0] == "name,type,kernel_size,strides,padding,output_shape,params"
    assert any(line.startswith("mixed4,Concatenate,") for line in csv_lines)


def test_predict_prints_top_k(reference_top, grace_hopper_path, capsys):
    assert main(["predict", str(grace_hopper_path), "--weights", str(reference_top[1]), "--top", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == str(grace_hopper_path)
    assert [line.split(".")[0].strip() for line in lines[1:]] == ["1", "2", "3"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["layers", "--input-size", "10", "10"], "at least 75"),
        (["layers", "--format", "xml"], "invalid choice"),
        (["frobnicate"], "invalid choice"),
        (["predict", "/no/such.jpg", "--weights", "none"], "not found"),
        (["predict", "{text}", "--weights", "none"], "Not an image"),
        (["predict", "{photo}", "--weights", "/no/weights.h5"], "not found"),
        (["predict", "{photo}", "--weights", "{notop}"], "has no classifier"),
        (["predict", "{photo}", "--weights", "none", "--top", "0"], "--top"),
    ],
)
def test_user_errors_exit_2_with_one_line(argv, message, tmp_path, grace_hopper_path, reference_notop, capsys):
    text = tmp_path / "notes.jpg"
    text.write_text("hello")
    argv = [a.format(text=text, photo=grace_hopper_path, notop=reference_notop[1]) for a in argv]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert message in captured.err


def test_module_runs_from_another_directory_without_tracebacks(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "inception_keras", "layers", "--input-size", "9", "9"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "inception_keras: error: --input-size must be at least 75 75. Received: 9 9"
    ]


@pytest.mark.slow
def test_a_closed_pipe_ends_quietly():
    """`python -m inception_keras layers | head -1` once head has gone: status 141 (SIGPIPE), no traceback."""
    reader, writer = os.pipe()
    os.close(reader)  # the reader has gone before the first line is written
    try:
        result = subprocess.run([sys.executable, "-m", "inception_keras", "layers"], stdout=writer,
                                stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(writer)
    assert result.returncode == 141
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_examples_run(reference_top, grace_hopper_path, tmp_path):
    shapes = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "print_conv_shapes.py"), "Mixed_6b"],
        capture_output=True, text=True, timeout=120,
    )
    assert shapes.returncode == 2 and "not a Conv2D layer" in shapes.stderr
    shapes = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "print_conv_shapes.py")],
        capture_output=True, text=True, timeout=120,
    )
    assert shapes.returncode == 0 and len(shapes.stdout.splitlines()) == 94
    classified = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "classify.py"), str(grace_hopper_path),
         "--weights", str(reference_top[1])],
        capture_output=True, text=True, timeout=120,
    )
    assert classified.returncode == 0, classified.stderr
    assert len(classified.stdout.splitlines()) == 6
