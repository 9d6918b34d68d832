"""Options as data: one place for defaults and checks, read back strictly from settings files anyone can send."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from deepdream import cli_options, settings
from deepdream.cli import build_parser
from deepdream.options import DreamOptions, EngineOptions, RenderOptions, ServeOptions, VideoOptions, ZoomOptions

DATA = Path(__file__).parent / "data"
ALL_OPTIONS = (DreamOptions, EngineOptions, VideoOptions, ZoomOptions, RenderOptions, ServeOptions)


def _still_settings(**changes) -> dict:
    recorded = settings.build("still", EngineOptions(weights=None), DreamOptions(), "float32")
    return {**recorded, **changes}


@pytest.mark.parametrize("cls", ALL_OPTIONS)
def test_every_default_passes_its_own_checks_and_every_field_has_help(cls):
    options = cls()
    for field in dataclasses.fields(cls):
        assert field.metadata["help"], field.name
        assert getattr(options, field.name) == field.default


@pytest.mark.parametrize("changes, message", [
    (dict(steps=0), "`steps` must be at least 1"),
    (dict(steps="3"), "`steps` must be a whole number"),
    (dict(steps=True), "`steps` must be a whole number"),
    (dict(lapnorm="false"), "`lapnorm` must be true or false"),
    (dict(seed=1.5), "`seed` must be a whole number"),
    (dict(seed=2**40), "at most"),
    (dict(octave_scale=1.0), "above 1"),
    (dict(step_size=float("nan")), "finite"),
    (dict(step_size=1e39), "below 10"),
    (dict(jitter=-1), "at least 0"),
])
def test_dream_options_refuse_bad_values_naming_the_field(changes, message):
    with pytest.raises(ValueError, match=message) as error:
        DreamOptions(**changes)
    assert "Received:" in str(error.value)


def test_the_parser_takes_its_defaults_and_choices_from_the_options():
    args = build_parser().parse_args(["photo.jpg"])
    assert cli_options.dream_options(args) == DreamOptions()
    assert cli_options.engine_options(args) == EngineOptions()
    assert cli_options.video_options(args) == VideoOptions()
    assert cli_options.zoom_options(build_parser().parse_args(["a.jpg", "--zoom-frames", "48"])) == ZoomOptions()
    args = build_parser().parse_args(["a.jpg", "--original-colors", "--no-flow", "--layer", "mixed4",
                                      "--layer", "mixed5:2"])
    assert cli_options.dream_options(args).original_colors is True
    assert cli_options.video_options(args).flow is False
    assert cli_options.engine_options(args).layers == "mixed4,mixed5:2"


def test_a_flag_out_of_range_is_named_as_typed():
    args = build_parser().parse_args(["photo.jpg", "--octave-scale", "9"])
    with pytest.raises(ValueError, match="--octave-scale must be above 1 and at most 4"):
        cli_options.dream_options(args)


def test_settings_round_trip_through_the_options():
    engine = EngineOptions(layers="mixed4:1.5", channel=7, weights=None, precision="float32", max_side=300)
    dream = DreamOptions(octaves=2, steps=3, lapnorm=True, seed=9, original_colors=True)
    video = VideoOptions(frame_steps=2, flow=False, max_frames=5)
    recorded = settings.options_of(json.loads(json.dumps(settings.build("video", engine, dream, "float32", video))))
    assert recorded.dream == dream
    assert recorded.engine == dataclasses.replace(engine, weights="imagenet")  # the file holds the weights' name
    assert recorded.extra == video


@pytest.mark.parametrize("mode", ["zoom", "video"])
def test_settings_written_by_0_1_0_still_load(mode):
    old = json.loads((DATA / f"settings_0.1.0_{mode}.json").read_text())
    recorded = settings.options_of(old)
    if mode == "zoom":
        assert (recorded.extra.frames, recorded.extra.zoom, recorded.extra.fps) == (2, 1.1, 24.0)
    else:
        assert recorded.extra.flow is False and recorded.extra.frame_steps == 2  # 0.1.0's no_flow: true
        assert recorded.extra.shots is False  # before shots, the dream ran across cuts
        today = settings.build("video", recorded.engine, recorded.dream, "float32", recorded.extra.replace(shots=True))
        assert settings.options_of(today).extra.shots is True
    assert recorded.dream.original_colors is False
    assert settings.command_line(old).startswith("python -m deepdream photo.jpg --layer mixed3:1.0,mixed5:1.5")


@pytest.mark.parametrize("changes, message", [
    (dict(steps="20"), "`steps` must be a whole number"),
    (dict(seed=0.5), "`seed` must be a whole number"),
    (dict(channel=[1, 2]), "`channel` must be"),
    (dict(lapnorm="false"), "`lapnorm` must be true or false"),
    (dict(frames=10), "`frames` is not a field of still settings"),
    (dict(zoom_frames=10, format=2), "`zoom_frames` is not a field of still settings"),
    (dict(step_size=1e300), "below 10"),
    (dict(octave_scale=1e39), "at most 4"),
    (dict(surprise=1), "`surprise` is not a field"),
    (dict(weights_sha256="x"), "SHA-256"),
    (dict(format=99), "`format` must be 1 or 2"),
])
def test_the_settings_reader_refuses_in_one_line(changes, message):
    with pytest.raises(ValueError, match=message) as error:
        settings.parse(json.dumps(_still_settings(**changes)))
    assert "\n" not in str(error.value)


def test_deep_or_huge_settings_are_refused():
    deep = {"mode": "still", "layers": "mixed4", "x": json.loads("[" * 50 + "]" * 50)}
    with pytest.raises(ValueError, match="nested too deeply"):
        settings.parse(json.dumps(deep))
    with pytest.raises(ValueError, match="damaged"):
        settings.parse("[" * 20_000 + "]" * 20_000)  # deeper than json's recursion
    with pytest.raises(ValueError, match="at most 65536"):
        settings.parse(json.dumps(_still_settings(layers="mixed4" * 20_000)))
    with pytest.raises(ValueError, match="damaged"):
        settings.parse(json.dumps(_still_settings()).replace("0.01", "NaN"))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8)


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(sorted(_still_settings())), value=JSON_VALUES)
def test_any_value_in_any_field_is_either_valid_options_or_one_clear_line(field, value):
    text = json.dumps(_still_settings(**{field: value}))
    try:
        recorded = settings.options_of(settings.parse(text))
    except ValueError as error:
        message = str(error)
        assert "\n" not in message and message.strip()
        return
    # Whatever passed is options the engine can take: typed and in range.
    assert isinstance(recorded.dream, DreamOptions) and isinstance(recorded.engine, EngineOptions)
    assert 1 <= recorded.dream.steps <= 10_000 and 0 <= recorded.dream.seed < 2**32
    assert isinstance(recorded.dream.lapnorm, bool)


@hypothesis_settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_any_text_is_settings_or_one_clear_line(text):
    try:
        settings.parse(text)
    except ValueError as error:
        assert "\n" not in str(error)
