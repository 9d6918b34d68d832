"""`deepdream.plan` and `--plan`: the octaves and tiles the engine really dreams, the JSON, the memory guard, the cache."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from PIL import Image

from deepdream import plan
from deepdream.cli import main
from deepdream.engine import DeepDream
from deepdream.options import DreamOptions, EngineOptions

JSON_KEYS = {"octaves", "tiles", "device", "precision", "peak_memory_bytes", "seconds"}


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(np.random.RandomState(0).randint(0, 256, (120, 160, 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture(autouse=True)
def cache_home(tmp_path, monkeypatch):
    """The calibration is cached in a temporary Keras home."""
    home = tmp_path / "keras_home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


def test_octaves_and_tiles_are_what_the_engine_dreams():
    # The host loop (above the whole-image limit): the first octave whole, the second in 139-pixel tiles (75 cores).
    engine = DeepDream("mixed2", weights=None, tile_size=139, whole_image_pixels=20_000, precision="float32")
    sizes, calls = [], []
    gradient_into, compiled_gradient = engine.ascent.gradient_into, engine.ascent.compiled_gradient

    def recorded_step(image, shift, out):
        sizes.append(image.shape[:2])
        calls.append(0)
        return gradient_into(image, shift, out)

    def recorded_gradient(image):
        calls[-1] += 1
        return compiled_gradient(image)

    engine.ascent.gradient_into, engine.ascent.compiled_gradient = recorded_step, recorded_gradient
    dream = DreamOptions(octaves=2, steps=1, jitter=0)
    engine.dream(np.zeros((160, 200, 3), np.uint8), **dream.engine_kwargs())
    planned = plan.plan_dream(EngineOptions(layers="mixed2", weights=None, tile_size=139), dream, 160, 200,
                              dreamer=engine, timed=False)
    assert list(planned.octaves) == [(width, height) for height, width in sizes] == [(143, 114), (200, 160)]
    assert list(planned.tiles) == calls == [1, 9]
    assert planned.tiled == (False, True) and planned.loop == "host" and planned.seconds is None
    assert planned.peak_memory_bytes > plan.resident_bytes()


def test_plan_prints_json_writes_nothing_and_calibrates_once(photo, tmp_path, cache_home, capsys, monkeypatch):
    output = tmp_path / "out.png"
    flags = [str(photo), "--weights", "none", "--precision", "float32", "--layer", "mixed2", "--octaves", "2",
             "--steps", "1", "-o", str(output), "--plan"]
    assert main([*flags, "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert set(shown) == JSON_KEYS
    assert shown["octaves"] == [[114, 86], [160, 120]] and shown["tiles"] == [1, 1]
    assert shown["precision"] == "float32" and shown["peak_memory_bytes"] > 0 and shown["seconds"] > 0
    assert not output.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["keras_home", "photo.png"]
    assert list((cache_home / "deepdream").iterdir()) == [cache_home / "deepdream" / plan.CALIBRATION_FILE]

    def no_second_calibration(dreamer):
        raise AssertionError("calibrated again")

    monkeypatch.setattr(plan, "measure_gradient_cost", no_second_calibration)
    assert main(flags) == 0
    text = capsys.readouterr().out
    assert "octaves: 114x86, 160x120" in text and "estimated time" in text and "estimated peak memory" in text


def test_memory_guard_stops_in_one_line_and_force_goes_ahead(photo, tmp_path, capsys, monkeypatch):
    output = tmp_path / "out.png"
    flags = [str(photo), "--weights", "none", "--precision", "float32", "--layer", "mixed2", "--octaves", "1",
             "--steps", "1", "-o", str(output), "--quiet"]
    monkeypatch.setattr(plan, "available_memory_bytes", lambda: 50 * 2**20)
    assert main(flags) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "50 MiB is available" in error and "--force" in error
    assert not output.exists()
    assert not (tmp_path / "keras_home" / "deepdream").exists()  # the guard does not calibrate
    assert main([*flags, "--force"]) == 0
    assert output.is_file()


def test_the_page_shows_the_estimate(photo, tmp_path):
    pytest.importorskip("gradio")
    from deepdream.web.app import Dreams, ServerConfig
    from deepdream.web.estimates import photo_estimate

    dreams = Dreams(ServerConfig(weights=None, precision="float32", output_dir=str(tmp_path / "outputs")))
    controls = (["mixed2"], "1.0", "", None, False, 2, 1, 0.01, 8, 0, 150, False)
    text = photo_estimate(dreams, str(photo), *controls)
    assert re.fullmatch(r"Estimate: about \d+ s, peak memory [\d.]+ (MiB|GiB) \(2 octaves up to 150x112, whole; .+\)",
                        text)
    assert photo_estimate(dreams, None, *controls) == ""
    assert "not available" in photo_estimate(dreams, str(photo), *controls[:5], 2, 0, *controls[7:])


@pytest.mark.slow
def test_an_atlas_plan_counts_only_the_missing_channels_and_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(plan, "process_age_seconds", lambda: 0.0)  # this test process's age is no start-up
    out = tmp_path / "atlas"
    flags = ["atlas", "--weights", "none", "--precision", "float32", "--layer", "mixed0", "--size", "75",
             "--steps", "1", "--batch", "2", "-o", str(out), "--plan"]

    def planned(*extra) -> str:
        assert main([*flags, *extra]) == 0
        return capsys.readouterr().out

    shown = json.loads(planned("--channels", "0-63", "--format", "json"))
    assert set(shown) == JSON_KEYS and shown["octaves"][-1] == [75, 75] and not out.exists()
    on_ray = json.loads(planned("--channels", "0-63", "--format", "json", "--ray", "local", "--workers", "4"))
    assert on_ray["seconds"] < shown["seconds"]  # planned only: no Ray started
    assert "renders: 5" in planned("--channels", "0-4")
    assert main([*flags[:-1], "--channels", "0-1", "--quiet"]) == 0  # renders two channels
    capsys.readouterr()
    assert "renders: 3" in planned("--channels", "0-4")
    assert "renders: " not in planned("--channels", "0-1")  # nothing left to render
