"""`python -m deepdream ... --ray`: the batch mode on a local 2-CPU Ray cluster writes what the local batch writes."""

from __future__ import annotations

import sys

import pytest
from PIL import Image

from deepdream.cli import main
from inception_keras.images import resize_image

# Random but fixed weights (a file): with --weights none every process would draw its own.
FAST = ["--octaves", "2", "--steps", "2", "--tile-size", "160", "--layer", "mixed3", "--quiet"]


@pytest.fixture()
def inputs(tmp_path, grace_hopper):
    folder = tmp_path / "inputs"
    folder.mkdir()
    for index, (height, width) in enumerate([(90, 110), (100, 80), (80, 96)]):
        Image.fromarray(resize_image(grace_hopper[index * 60:], height, width)).save(folder / f"photo{index}.jpg")
    Image.fromarray(resize_image(grace_hopper, 96, 96)).convert("L").save(folder / "gray.png")
    (folder / "broken.jpg").write_text("not a picture")
    return folder


@pytest.mark.slow
def test_ray_batch_writes_the_local_batch_files_and_names_the_broken_one(inputs, reference_notop, tmp_path, capsys):
    ray = pytest.importorskip("ray")
    weights = ["--weights", str(reference_notop[1])]
    local, distributed = tmp_path / "local", tmp_path / "ray"
    local.mkdir()
    distributed.mkdir()
    assert main([str(inputs), "--output-dir", str(local), *weights, *FAST]) == 2
    capsys.readouterr()

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        status = main([str(inputs), "--output-dir", str(distributed), "--ray", "local", "--workers", "2",
                       *weights, *FAST])
    finally:
        ray.shutdown()
    assert status == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("deepdream: ")]
    assert len(errors) == 2 and "broken.jpg" in errors[0] and errors[1] == "deepdream: 4 written, 1 failed"

    expected = ["gray_dream.png", "photo0_dream.jpg", "photo1_dream.jpg", "photo2_dream.jpg"]
    assert sorted(p.name for p in local.iterdir()) == sorted(p.name for p in distributed.iterdir()) == expected
    for name in expected:
        assert (distributed / name).read_bytes() == (local / name).read_bytes(), name
    from deepdream import settings

    assert settings.read(distributed / "photo0_dream.jpg")["steps"] == settings.read(local / "photo0_dream.jpg")["steps"]


def test_ray_flag_without_ray_says_how_to_install_it(inputs, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed: `import ray` raises ImportError
    assert main([str(inputs), "--output-dir", str(tmp_path), "--ray", "local", "--weights", "none", *FAST]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and 'pip install -e ".[ray]"' in error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inputs"]


def test_ray_worker_counts_are_checked_first(inputs, tmp_path, capsys):
    pytest.importorskip("ray")
    for flag, value, message in [("--workers", "0", "--workers must be at least 1"),
                                 ("--gpus-per-worker", "-1", "--gpus-per-worker must be 0 or more")]:
        argv = [str(inputs), "--output-dir", str(tmp_path), "--ray", "local", flag, value, "--weights", "none", *FAST]
        assert main(argv) == 2
        assert message in capsys.readouterr().err
