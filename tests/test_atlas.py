"""The channel atlas and a photo's top channels: files, resume, settings, page, crops, CLI (random weights: wiring)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from deepdream import settings
from deepdream.atlas import (
    CROP_SIDE,
    LAYER_TABLE,
    atlas_work,
    channel_path,
    photo_top_channels,
    receptive_crop,
    render_atlas,
)
from deepdream.atlas_page import read_page_data
from deepdream.cli import main
from deepdream.options import AtlasOptions, DreamOptions, EngineOptions
from deepdream.render import Renderer
from inception_keras.images import load_image, save_image

QUICK_DREAM = DreamOptions(octaves=1, steps=1)
RANDOM = EngineOptions(weights=None, precision="float32")


class CountingRenderer(Renderer):
    """A `Renderer` that counts the channels it renders."""

    rendered: list[int]

    def render_batch(self, channels, *args, **kwargs):
        self.rendered += list(channels)
        return super().render_batch(channels, *args, **kwargs)

    def render(self, channel, *args, **kwargs):
        self.rendered.append(channel)
        return super().render(channel, *args, **kwargs)


@pytest.fixture(scope="module")
def renderer():
    renderer = CountingRenderer("mixed4", weights=None, precision="float32")
    renderer.rendered = []
    return renderer


def test_the_layer_table_is_the_network_s():
    from inception_keras.introspection import build_for_size, tap_points

    points = tap_points(build_for_size(299, 299))
    assert {p.name: (p.channels, p.stride, p.receptive_field) for p in points} == {
        name: (row.channels, row.stride, row.receptive_field) for name, row in LAYER_TABLE.items()}
    assert sum(row.channels for row in LAYER_TABLE.values()) == 10_048


def test_an_atlas_writes_each_channel_with_its_settings_and_a_second_run_renders_only_the_missing(
        renderer, tmp_path):
    out = tmp_path / "atlas"
    first = AtlasOptions(layers="mixed4", channels="0-2", size=75, batch=2)
    renderer.rendered.clear()
    report = render_atlas(out, RANDOM, QUICK_DREAM, first, renderers=lambda layer: renderer)
    assert sorted(renderer.rendered) == [0, 1, 2]
    assert sorted(p.name for p in (out / "mixed4").glob("*.png")) == ["0000.png", "0001.png", "0002.png"]
    recorded = settings.options_of(settings.read(channel_path(out, "mixed4", 1)))
    assert (recorded.mode, recorded.engine.layers, recorded.engine.channel) == ("render", "mixed4", 1)
    assert (recorded.extra.noise, recorded.dream.steps) == ("75x75", 1)
    assert load_image(channel_path(out, "mixed4", 2)).shape == (75, 75, 3)
    before = channel_path(out, "mixed4", 0).stat().st_mtime_ns

    second = first.replace(channels="0-4")
    assert atlas_work(out, second) == {"mixed4": [[3, 4]]}
    renderer.rendered.clear()
    report = render_atlas(out, RANDOM, QUICK_DREAM, second, renderers=lambda layer: renderer)
    assert sorted(renderer.rendered) == [3, 4] and report.kept == 3 and len(report.written) == 2
    assert channel_path(out, "mixed4", 0).stat().st_mtime_ns == before
    data = read_page_data(report.page)
    assert data["mixed4"]["channels"] == [0, 1, 2, 3, 4] and data["mixed4"]["count"] == 768
    assert "http" not in report.page.read_text().replace("http-equiv", "")  # nothing fetched from a network


def test_batched_atlas_renders_are_the_one_by_one_renders(renderer, tmp_path):
    batched = render_atlas(tmp_path / "a", RANDOM, QUICK_DREAM, AtlasOptions(channels="5,6", size=75, batch=2),
                           renderers=lambda layer: renderer)
    single = render_atlas(tmp_path / "b", RANDOM, QUICK_DREAM, AtlasOptions(channels="5,6", size=75, batch=1),
                          renderers=lambda layer: renderer)
    for a, b in zip(sorted(batched.written), sorted(single.written)):
        assert np.abs(load_image(a).astype(int) - load_image(b).astype(int)).max() <= 2


def test_photos_give_each_channel_its_strongest_crops(renderer, tmp_path, grace_hopper_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(grace_hopper_path, photos / "hopper.jpg")
    rng = np.random.RandomState(0)
    save_image(rng.randint(0, 255, (90, 140, 3)).astype(np.uint8), photos / "noise.png")
    (photos / "broken.jpg").write_bytes(b"not an image")
    atlas = AtlasOptions(channels="0-1", size=75, photos=str(photos), top_photos=2)
    report = render_atlas(tmp_path / "atlas", RANDOM, QUICK_DREAM, atlas, renderers=lambda layer: renderer)
    found = read_page_data(report.page)["mixed4"]["photos"]
    assert sorted(found) == ["0", "1"]
    for entries in found.values():
        assert sorted(e["photo"] for e in entries) == ["hopper.jpg", "noise.png"]
        assert entries[0]["mean"] >= entries[1]["mean"]
        assert load_image(tmp_path / "atlas" / entries[0]["file"]).shape == (CROP_SIDE, CROP_SIDE, 3)


def test_a_crop_is_the_receptive_field_around_the_strongest_position():
    image = np.arange(400 * 600 * 3, dtype=np.uint32).reshape(400, 600, 3).astype(np.uint8)
    activation = np.zeros((10, 15, 4), np.float32)
    activation[2, 12, 3] = 5.0  # cell centre: (2.5 * 40, 12.5 * 40) = (100, 500)
    crop = receptive_crop(image, activation, 3, "mixed0")  # 63 px
    side = LAYER_TABLE["mixed0"].receptive_field
    assert crop.shape == (side, side, 3)
    np.testing.assert_array_equal(crop, image[100 - 32: 100 - 32 + side, 500 - 32: 500 - 32 + side])
    assert receptive_crop(image, activation, 3, "mixed10").shape == (400, 400, 3)  # clipped to the image


def test_top_channels_are_the_highest_mean_activations(renderer, grace_hopper):
    import keras

    image = grace_hopper[:200, :180]
    top = photo_top_channels(image, "mixed4", 8, renderer=renderer)
    features = renderer.engine.extractor(keras.ops.convert_to_tensor(image[None] / 127.5 - 1.0))["mixed4"]
    means = keras.ops.convert_to_numpy(keras.ops.mean(features, axis=(0, 1, 2)))
    assert [c for c, _ in top] == list(np.argsort(-means)[:8])
    assert [m for _, m in top] == sorted((m for _, m in top), reverse=True)


def test_top_channels_match_keras_applications_on_the_same_weights(trained_weights_path, grace_hopper):
    import keras

    reference = keras.applications.InceptionV3(include_top=False, weights=None)
    reference.load_weights(trained_weights_path)
    mixed4 = keras.Model(reference.input, reference.get_layer("mixed4").output)
    image = grace_hopper[:299, :299]
    direct = np.asarray(mixed4(keras.applications.inception_v3.preprocess_input(image[None].astype("float32"))))
    expected = set(np.argsort(-direct.mean(axis=(0, 1, 2)))[:8])
    ours = Renderer("mixed4", weights=str(trained_weights_path), precision="float32")
    found = {c for c, _ in photo_top_channels(image, "mixed4", 8, renderer=ours)}
    assert len(found - expected) <= 2


def test_top_channels_cli_prints_lines_and_json(grace_hopper_path, capsys):
    import keras

    base = [str(grace_hopper_path), "--top-channels", "mixed2", "--top", "3", "--weights", "none", "--max-side", "96"]
    keras.utils.set_random_seed(3)  # the same random weights for both runs
    assert main(base) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    rows = [(int(c), float(m)) for c, m in (line.split() for line in lines)]
    assert [m for _, m in rows] == sorted((m for _, m in rows), reverse=True)
    keras.utils.set_random_seed(3)
    assert main([*base, "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [row["channel"] for row in listed] == [c for c, _ in rows]


@pytest.mark.parametrize("argv, message", [
    (["{photo}", "--top-channels", "mixed4", "--top", "0"], "--top must be at least 1"),
    (["{photo}", "{photo}", "--top-channels", "mixed4"], "takes one INPUT"),
    (["atlas", "--layer", "mixed11"], "--layer must be a comma list of mixed0..mixed10"),
    (["atlas", "--channels", "9-3"], "--channels must be"),
    (["atlas", "--layer", "mixed0", "--channels", "250-260"], "channel 256 does not exist in mixed0"),
    (["atlas", "--size", "20"], "--size must be at least 75"),
    (["atlas", "--channel", "3"], "drop --channel"),
    (["atlas", "--photos", "{missing}"], "is not a folder"),
])
def test_bad_atlas_and_top_channels_input_is_one_line_and_exit_2(argv, message, grace_hopper_path, tmp_path,
                                                                  capsys):
    argv = [a.format(photo=grace_hopper_path, missing=tmp_path / "none") for a in argv]
    assert main([*argv, "-o", str(tmp_path / "out"), "--weights", "none", "--quiet"]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and len(captured.err.strip().splitlines()) == 1 and captured.out == ""
    assert not (tmp_path / "out").exists()


def test_an_atlas_refuses_a_folder_it_did_not_write(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["atlas", "-o", str(tmp_path), "--weights", "none", "--quiet"]) == 2
    assert "which no atlas writes" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine"
