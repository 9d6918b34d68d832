"""Many stills in one run: files and folders in, one output per good file, broken files named and skipped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deepdream.batch import collect_inputs, output_path_for
from deepdream.jobs import dream_batch
from deepdream.options import DreamOptions, EngineOptions
from deepdream.cli import main
from inception_keras.images import load_image

FAST = ["--weights", "none", "--layer", "mixed2", "--octaves", "1", "--steps", "1", "--quiet"]


def _photo(path: Path, grace_hopper, size=(96, 80)) -> Path:
    Image.fromarray(grace_hopper).resize(size).save(path)
    return path


def test_files_and_a_folder_with_a_broken_file(tmp_path, grace_hopper, capsys):
    a = _photo(tmp_path / "a.jpg", grace_hopper)
    b = _photo(tmp_path / "b.png", grace_hopper, (80, 90))
    folder = tmp_path / "photos"
    folder.mkdir()
    c = _photo(folder / "c.webp", grace_hopper)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (folder / "notes.txt").write_text("not an image: a folder gives only its images")
    dreams = tmp_path / "dreams"
    dreams.mkdir()
    status = main([str(a), str(b), str(folder), "--output-dir", str(dreams), *FAST])
    assert status == 2
    written = sorted(p.name for p in dreams.iterdir())
    assert written == ["a_dream.jpg", "b_dream.png", "c_dream.webp"]
    for source in (a, b, c):
        assert load_image(dreams / f"{source.stem}_dream{source.suffix}").shape == load_image(source).shape
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line for line in lines if "broken.jpg" in line] == [lines[0]]
    assert lines[-1] == "deepdream: 3 written, 1 failed"
    assert len(lines) == 2


def test_a_clean_batch_exits_0(tmp_path, grace_hopper, monkeypatch):
    for name in ("x.png", "y.png"):
        _photo(tmp_path / name, grace_hopper)
    monkeypatch.chdir(tmp_path)
    assert main(["x.png", "y.png", *FAST]) == 0  # several inputs, no --output-dir: beside here
    assert (tmp_path / "x_dream.png").is_file() and (tmp_path / "y_dream.png").is_file()


@pytest.mark.parametrize("flags, message", [
    (["-o", "one.png"], "--output-dir"),
    (["--output-dir", "missing"], "does not exist"),
])
def test_bad_batch_flags_exit_2_and_write_nothing(tmp_path, grace_hopper, capsys, monkeypatch, flags, message):
    _photo(tmp_path / "a.png", grace_hopper)
    _photo(tmp_path / "b.png", grace_hopper)
    monkeypatch.chdir(tmp_path)
    assert main(["a.png", "b.png", *FAST, *flags]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png"]


def test_two_inputs_that_would_share_an_output_are_refused_before_dreaming(tmp_path, grace_hopper, capsys):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first = _photo(tmp_path / "one" / "same.png", grace_hopper)
    second = _photo(tmp_path / "two" / "same.png", grace_hopper)
    assert main([str(first), str(second), "--output-dir", str(tmp_path), *FAST]) == 2
    assert "would both be written" in capsys.readouterr().err
    assert not (tmp_path / "same_dream.png").exists()


def test_collect_inputs_expands_folders_in_order_and_once(tmp_path, grace_hopper):
    for name in ("b.jpg", "a.png", "c.tif"):
        _photo(tmp_path / name, grace_hopper)
    (tmp_path / "skip.txt").write_text("x")
    named = tmp_path / "a.png"
    assert collect_inputs([tmp_path, named]) == [tmp_path / "a.png", tmp_path / "b.jpg", tmp_path / "c.tif"]
    with pytest.raises(ValueError, match="not found"):
        collect_inputs([tmp_path / "nope.jpg"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="holds no images"):
        collect_inputs([empty])


def test_output_names_keep_writable_formats():
    assert output_path_for(Path("x/photo.JPG"), Path("out")) == Path("out/photo_dream.JPG")
    assert output_path_for(Path("x/anim.gif"), Path("out")) == Path("out/anim_dream.png")


def test_one_engine_serves_every_file(tmp_path, grace_hopper):
    import keras

    from deepdream import DeepDream

    engine = DeepDream("mixed2", weights=None)
    sources = [_photo(tmp_path / f"{i}.png", grace_hopper, size) for i, size in enumerate([(96, 80), (120, 90)])]
    tiny = tmp_path / "tiny.png"
    Image.fromarray(np.zeros((30, 30, 3), np.uint8)).save(tiny)  # below the network's minimum size
    seen = []
    out = tmp_path / "out"
    out.mkdir()
    report = dream_batch([*sources, tiny], out, EngineOptions(), DreamOptions(octaves=1, steps=1), dreamer=engine,
                         on_file=lambda source, error: seen.append((source.name, error is None)))
    assert seen == [("0.png", True), ("1.png", True), ("tiny.png", False)]
    assert report.written == [out / "0_dream.png", out / "1_dream.png"]
    assert str(tiny) in report.failed[0][1]  # the error names the file even when the engine raised it
    if keras.backend.backend() == "tensorflow":
        assert engine.trace_count == 1  # one compiled gradient for images of every size
