"""`predict` over files and folders: rows per image, the bounded read-ahead, and ONNX and LiteRT without TensorFlow.

The classifier is tiny (8x8 images, mean brightness to two classes, no
Inception trunk), so that saving it and exporting it to ONNX and LiteRT takes
seconds; `tests/test_export.py` exports a fine-tuned Inception-v3.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import brightness_classifier
from inception_keras.classifier import save_classifier
from inception_keras.cli import main
from inception_keras.export import export_model
from inception_keras.image_folders import ImageDecoder
from inception_keras.predict import decoded_batches

ROOT = Path(__file__).resolve().parents[1]
CLASSES = ["bright", "dark"]

# At exit, even through sys.exit: the names of every module the process imported, as JSON.
MODULES_AT_EXIT = """
import atexit, json, os, sys
atexit.register(lambda: open(os.environ["MODULES_AT_EXIT"], "w").write(json.dumps(sorted(sys.modules))))
"""


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    """The brightness classifier as `.keras` (with its class names) and exported to ONNX and LiteRT."""
    folder = tmp_path_factory.mktemp("tiny_models")
    model = brightness_classifier()
    paths = {"keras": save_classifier(model, CLASSES, folder / "tiny.keras")}
    for format, name in [("onnx", "tiny.onnx"), ("litert", "tiny.tflite")]:
        paths[format] = export_model(model, folder / name, format, class_names=CLASSES).path
    return paths


@pytest.fixture(scope="module")
def grey_levels(tmp_path_factory) -> Path:
    """Six 12x10 PNGs of uniform grey levels, from black to white."""
    folder = tmp_path_factory.mktemp("grey_levels")
    for level in (0, 40, 90, 160, 210, 255):
        Image.new("RGB", (12, 10), (level,) * 3).save(folder / f"grey_{level:03d}.png")
    return folder


@pytest.mark.parametrize("format", ["onnx", "litert"])
def test_predict_with_an_onnx_or_litert_model_imports_neither_tensorflow_nor_keras(
        format, tiny_models, grey_levels, tmp_path, capsys):
    (tmp_path / "sitecustomize.py").write_text(MODULES_AT_EXIT)
    modules, out = tmp_path / "modules.json", tmp_path / f"{format}.csv"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]), MODULES_AT_EXIT=str(modules))
    done = subprocess.run(
        [sys.executable, "-m", "inception_keras", "predict", str(grey_levels), "--model", str(tiny_models[format]),
         "--csv", str(out)], env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    imported = set(json.loads(modules.read_text()))
    assert {"inception_keras.predict", {"onnx": "onnxruntime", "litert": "ai_edge_litert"}[format]} <= imported
    assert "tensorflow" not in imported and "keras" not in imported
    assert not {name for name in imported if name.startswith(("tensorflow.", "keras.", "tf_keras"))}

    assert main(["predict", str(grey_levels), "--model", str(tiny_models["keras"]), "--csv",
                 str(tmp_path / "keras.csv")]) == 0
    capsys.readouterr()
    rows, keras_rows = list(csv.reader(out.open())), list(csv.reader((tmp_path / "keras.csv").open()))
    assert [row[:2] for row in rows] == [row[:2] for row in keras_rows]
    assert [row[1] for row in rows[1:]] == ["dark"] * 3 + ["bright"] * 3
    np.testing.assert_allclose(np.array([row[2::2] for row in rows[1:]], float),
                               np.array([row[2::2] for row in keras_rows[1:]], float), atol=1e-4)


@pytest.mark.slow  # ~12 s: 1000 images
def test_predict_writes_a_row_per_readable_image_and_names_the_broken_one(tiny_models, tmp_path, capsys):
    folder = tmp_path / "many"
    rng = np.random.RandomState(0)
    for index in range(1000):
        sub = folder / f"part{index % 4}"
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.randint(0, 256, (16, 16, 3), dtype=np.uint8)).save(sub / f"{index:04d}.png")
    broken = folder / "part2" / "0502.png"
    broken.write_bytes(broken.read_bytes()[:40])
    out = tmp_path / "predictions.csv"

    assert main(["predict", str(folder), "--model", str(tiny_models["keras"]), "--csv", str(out), "--top", "2",
                 "--batch-size", "64"]) == 2
    captured = capsys.readouterr()
    (error,) = captured.err.strip().splitlines()
    assert error.startswith("inception_keras: skipped: ") and str(broken) in error
    assert "wrote 999 rows" in captured.out
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["path", "class_1", "probability_1", "class_2", "probability_2"]
    assert len(rows) == 1000 and str(broken) not in {row[0] for row in rows}
    assert {row[1] for row in rows[1:]} <= set(CLASSES) and {row[3] for row in rows[1:]} <= set(CLASSES)
    assert all(float(row[2]) >= float(row[4]) and abs(float(row[2]) + float(row[4]) - 1) < 1e-4 for row in rows[1:])
    assert not [p for p in tmp_path.iterdir() if ".part" in p.name]


def test_decoded_batches_keep_the_order_and_decode_only_a_few_batches_ahead(grey_levels):
    paths = sorted(grey_levels.iterdir()) * 4  # 24 files, batches of 5: the last holds 4
    decoder = ImageDecoder(8)
    requested, lock = [], threading.Lock()

    def counting_decoder(path):
        with lock:
            requested.append(path)
        return decoder(path)

    batches = decoded_batches(paths, counting_decoder, 5, ahead=2)
    names, images, ok = next(batches)
    assert names == [str(path) for path in paths[:5]] and images.shape == (5, 8, 8, 3) and ok.all()
    assert len(requested) <= 3 * 5  # the batch given and two ahead, never the whole list
    rest = list(batches)
    assert [len(batch[0]) for batch in rest] == [5, 5, 5, 4]
    assert [name for batch in rest for name in batch[0]] == [str(path) for path in paths[5:]]
    levels = np.concatenate([images] + [batch[1] for batch in rest])[:, 0, 0, 0]
    assert levels.tolist() == [0, 40, 90, 160, 210, 255] * 4


def test_a_shell_glob_after_csv_never_writes_over_a_photo(tiny_models, grey_levels, tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    for path in sorted(grey_levels.iterdir()):
        (photos / path.name).write_bytes(path.read_bytes())
    before = {p.name: p.read_bytes() for p in photos.iterdir()}
    first, *rest = sorted(str(p) for p in photos.iterdir())  # `--csv photos/*.png`: the glob's first photo
    assert main(["predict", "--model", str(tiny_models["keras"]), "--csv", first, *rest]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "must name a .csv file" in error
    assert {p.name: p.read_bytes() for p in photos.iterdir()} == before

    folder = tmp_path / "rows.csv"
    folder.mkdir()
    assert main(["predict", str(photos), "--model", str(tiny_models["keras"]), "--csv", str(folder)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_csv_cells_a_spreadsheet_would_run_are_escaped(tiny_models, tmp_path, capsys, monkeypatch):
    from inception_keras.predict import csv_text

    Image.new("RGB", (12, 10), (250,) * 3).save(tmp_path / "=HYPERLINK(1).png")
    Image.new("RGB", (12, 10), (10,) * 3).save(tmp_path / "plain.png")
    monkeypatch.chdir(tmp_path)
    assert main(["predict", "=HYPERLINK(1).png", "plain.png", "--model", str(tiny_models["keras"]),
                 "--csv", "rows.csv"]) == 0
    rows = list(csv.reader(open("rows.csv")))
    assert [row[0] for row in rows[1:]] == ["'=HYPERLINK(1).png", "plain.png"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert [csv_text(t) for t in ("=1+2", "+1", "-1", "@A", "\tx", "ok")] == ["'=1+2", "'+1", "'-1", "'@A", "'\tx", "ok"]


def test_export_never_empties_a_folder_it_did_not_write(tiny_models, tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    model_copy = folder / "tiny.keras"
    model_copy.write_bytes(tiny_models["keras"].read_bytes())
    assert main(["export", str(model_copy), "--format", "savedmodel", "-o", str(folder)]) == 2
    assert "would replace the input" in capsys.readouterr().err  # the model itself is inside
    model_copy.unlink()
    assert main(["export", str(tiny_models["keras"]), "--format", "savedmodel", "-o", str(folder)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (folder / "notes.txt").read_text() == "keep me"

    export = tmp_path / "export"
    assert main(["export", str(tiny_models["keras"]), "--format", "savedmodel", "-o", str(export)]) == 0
    assert main(["export", str(tiny_models["keras"]), "--format", "savedmodel", "-o", str(export)]) == 0  # its own
    assert (export / "saved_model.pb").is_file()
