"""Reproducible settings: what made a dream, stored in the file it wrote and read back.

Every image or video a job writes carries one JSON object: the fields of the
run's options (`deepdream.options`: the dream's, the engine's and the mode's),
the precision the network ran in (resolved, never "auto"), the guide's and
the weights' SHA-256, the package version and the settings' `format`. Images hold it in a PNG text chunk named `deepdream`
(JPEG, WebP, TIFF: EXIF ImageDescription; JPEG also its comment), videos in
the container's `comment` tag.

`build` makes the object from the options, `image_metadata` and
`video_metadata` turn it into what `save_image` and `write_video` store,
`read` reads it from a file and checks every field through the options
(settings arrive inside images anyone can send), `options_of` gives the
options back (`--settings-from`), `describe` prints it (`--show-settings`)
and `command_line` writes the equivalent command.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
from pathlib import Path

from deepdream.options import (
    DEFAULT_LAYERS,
    RENDER_LAYER,
    DreamOptions,
    EngineOptions,
    RenderOptions,
    VideoOptions,
    ZoomOptions,
    flag_name,
)
from inception_keras.files import file_sha256, keras_home

SETTINGS_KEY = "deepdream"
VIDEO_TAG = "comment"
# 1: written by 0.1.0 (no `format` key); 2: the fields of `deepdream.options`, with `format`.
FORMAT = 2
MODE_OPTIONS = {"still": None, "render": RenderOptions, "video": VideoOptions, "zoom": ZoomOptions}
# What a settings object holds besides the options' fields.
IDENTITY_FIELDS = ("format", "version", "mode", "guide_sha256", "weights", "weights_sha256")
# A settings file is JSON of a dozen fields: anything far larger or deeper is not one.
MAX_SETTINGS_BYTES = 64 * 1024
MAX_NESTING = 4


@dataclasses.dataclass(frozen=True)
class Recorded:
    """The options a file's settings hold, checked: what `--settings-from` repeats.

    Attributes:
        mode: "still", "render", "video" or "zoom".
        engine: the engine's options (`guide` and `weights` are `None`: the
            file holds their names and hashes, not the files).
        dream: the dream's options.
        extra: the mode's own options (`RenderOptions`, `VideoOptions`,
            `ZoomOptions`), `None` for a still.
        channels: a gallery's channels, else `None`.
        settings: the settings as read.
    """

    mode: str
    engine: EngineOptions
    dream: DreamOptions
    extra: object
    channels: tuple[int, ...] | None
    settings: dict

    def repeated_fields(self):
        """Yields `(field, value)` of every recorded option a repeat sets, but the layers, channel, guide and weights."""
        for options in (self.dream, self.engine, self.extra):
            for field in dataclasses.fields(options) if options is not None else ():
                if field.metadata["recorded"] and field.name not in ("layers", "channel", "guide", "weights"):
                    yield field, getattr(options, field.name)


def build(mode: str, engine: EngineOptions, dream: DreamOptions, precision: str, extra=None) -> dict:
    """The settings of a run, from its options.

    Args:
        mode: `"still"`, `"render"`, `"video"` or `"zoom"`.
        engine: the engine's options.
        dream: the options the dream ran with (a Fourier render's own steps:
            `RenderOptions.dream_for`).
        precision: the precision the network ran in (`DeepDream.precision`).
        extra: the mode's own options (`RenderOptions`, `VideoOptions`,
            `ZoomOptions`). Defaults to `None`.

    Returns:
        A JSON-serialisable dict.
    """
    import inception_keras

    if mode not in MODE_OPTIONS:
        raise ValueError(f"`mode` must be one of {', '.join(MODE_OPTIONS)}. Received: mode={mode!r}")
    channels = getattr(extra, "channels", None)
    recorded_engine = engine.as_dict(recorded_only=True)
    recorded_engine.update(precision=precision, channel=channel_text(channels) if channels else engine.channel)
    if mode == "render" and engine.layers == DEFAULT_LAYERS:
        recorded_engine["layers"] = RENDER_LAYER
    settings = dict(format=FORMAT, version=inception_keras.__version__, mode=mode,
                    guide_sha256=file_sha256(engine.guide) if engine.guide else None, **recorded_engine,
                    **dream.as_dict(recorded_only=True),
                    weights=weights_name(engine.weights), weights_sha256=weights_sha256(engine.weights))
    if extra is not None:
        settings.update(extra.as_dict(recorded_only=True))
    return settings


def image_metadata(settings: dict) -> dict[str, str]:
    """The `metadata` of `save_image` that stores `settings`."""
    return {SETTINGS_KEY: json.dumps(settings)}


def video_metadata(settings: dict) -> dict[str, str]:
    """The `metadata` of `write_video` that stores `settings`."""
    return {VIDEO_TAG: json.dumps(settings)}


def read(path) -> dict:
    """Reads the settings stored in an image or video this project wrote.

    Raises:
        ValueError: the file is missing, unreadable, or carries no settings.
    """
    from deepdream.video_io import VIDEO_SUFFIXES

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"Settings file not found: {path}")
    if path.suffix.lower() in VIDEO_SUFFIXES:
        text = _video_tag(path)
    else:
        from inception_keras.images import read_image_metadata

        text = read_image_metadata(path).get(SETTINGS_KEY)
    if not text:
        raise ValueError(f"{path} carries no deepdream settings (it was not written by deepdream, "
                         "or its metadata was stripped).")
    return parse(text, path)


def parse(text: str, source="the settings") -> dict:
    """Checks the JSON text of settings and returns it as a dict (see `options_of`).

    Raises:
        ValueError: not JSON, too large or deep, or a field of the wrong
            type, out of range, unknown, or of another mode (one line that
            names the field).
    """
    if len(text) > MAX_SETTINGS_BYTES:
        raise ValueError(f"The deepdream settings in {source} are {len(text)} bytes; settings are at most "
                         f"{MAX_SETTINGS_BYTES}.")
    try:
        settings = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        settings = None
    if not isinstance(settings, dict) or not isinstance(settings.get("mode"), str) \
            or settings["mode"] not in MODE_OPTIONS or "layers" not in settings:
        raise ValueError(f"The deepdream settings in {source} are damaged; they cannot be read.")
    if _depth(settings) > MAX_NESTING:
        raise ValueError(f"The deepdream settings in {source} are nested too deeply to be settings.")
    try:
        options_of(settings)
    except ValueError as error:
        raise ValueError(f"The deepdream settings in {source} cannot be used: {error}") from None
    return settings


def options_of(settings: dict) -> Recorded:
    """The checked options of `settings` (a dict from `parse`, or from a 0.1.0 file).

    Every field goes through the options' own checks, so a string for a
    number, `"false"` for a bool, a number out of range, an unknown field or
    one of another mode is refused. Files of format 1 (0.1.0) are upgraded:
    `no_flow` becomes `flow`, `zoom_frames` becomes `frames`.

    Raises:
        ValueError: naming the field.
    """
    settings = _upgraded(settings)
    if settings.get("format") != FORMAT:
        raise ValueError(f"`format` must be 1 or {FORMAT}. Received: format={settings.get('format')!r}")
    mode = settings["mode"]
    extra_class = MODE_OPTIONS[mode]
    classes = [EngineOptions, DreamOptions] + ([extra_class] if extra_class else [])
    known = set(IDENTITY_FIELDS)
    for cls in classes:
        known |= {f.name for f in dataclasses.fields(cls) if f.metadata.get("recorded", True)}
    unknown = sorted(set(settings) - known)
    if unknown:
        owners = [name for name, cls in MODE_OPTIONS.items() if cls and unknown[0] in {
            f.name for f in dataclasses.fields(cls)}]
        belongs = f" (it belongs to {owners[0]} settings)" if owners else ""
        raise ValueError(f"`{unknown[0]}` is not a field of {mode} settings{belongs}.")
    for name in ("version", "weights"):
        if not isinstance(settings.get(name), (str, type(None))):
            raise ValueError(f"`{name}` must be text. Received: {name}={settings[name]!r}")
    for name in ("guide_sha256", "weights_sha256"):
        value = settings.get(name)
        if value is not None and not (isinstance(value, str) and len(value) == 64
                                      and all(c in "0123456789abcdef" for c in value)):
            raise ValueError(f"`{name}` must be a SHA-256 in hex. Received: {name}={value!r}")
    channel, channels = settings.get("channel"), None
    if isinstance(channel, str) and mode == "render":
        from deepdream.channels import parse_channels

        channels, channel = tuple(parse_channels(channel)), None

    def fields_of(cls, **fixed):
        names = {f.name for f in dataclasses.fields(cls) if f.metadata.get("recorded", True)}
        return cls(**{**{name: settings[name] for name in names if name in settings}, **fixed})

    engine = fields_of(EngineOptions, channel=channel)
    extra = None
    if extra_class is RenderOptions:
        extra = fields_of(RenderOptions, channels=channels)
    elif extra_class is not None:
        extra = fields_of(extra_class)
    return Recorded(mode, engine, fields_of(DreamOptions), extra, channels, settings)


def check_sources(settings: dict, guide, weights) -> list[str]:
    """Checks the guide and weights given to repeat `settings`; returns warnings to show.

    A recorded guide must be given again (its SHA-256 is checked); weights
    whose SHA-256 differs from the recorded one, random weights and another
    package version give a warning.

    Raises:
        ValueError: a guided dream without its guide, or with another image.
    """
    import inception_keras

    recorded_guide = settings.get("guide_sha256")
    if recorded_guide and not guide:
        raise ValueError(f"These settings were guided by an image (SHA-256 {recorded_guide[:16]}...): "
                         "give it with --guide.")
    if recorded_guide and file_sha256(guide) != recorded_guide:
        raise ValueError(f"--guide {guide} is not the recorded guide (SHA-256 {recorded_guide[:16]}...).")
    if not recorded_guide and guide:
        raise ValueError("These settings record no guide: drop --guide to repeat them.")
    warnings = []
    if settings.get("weights") == "none":
        warnings.append("these settings were dreamed with random weights (--weights none), which differ every "
                        "run: the dream will differ.")
    elif settings.get("weights_sha256") != weights_sha256(weights):
        warnings.append(f"the weights differ from the recorded ones ({settings.get('weights')}, SHA-256 "
                        f"{str(settings.get('weights_sha256'))[:16]}...): the dream will differ; pass those "
                        "with --weights.")
    if settings.get("version") != inception_keras.__version__:
        warnings.append(f"these settings were recorded by version {settings.get('version')}, this is "
                        f"{inception_keras.__version__}: the dream may differ.")
    return warnings


def describe(settings: dict) -> str:
    """The settings as `name: value` lines, then the equivalent command line."""
    width = max(len(name) for name in settings)
    lines = [f"{name:{width}s}  {_shown(value)}" for name, value in settings.items()]
    return "\n".join(lines + ["", command_line(settings)])


def command_line(settings: dict, input_name: str = "photo.jpg", output: str | None = None) -> str:
    """The `python -m deepdream ...` command that repeats `settings` on `input_name`."""
    recorded = options_of(settings)
    words = ["python", "-m", "deepdream"]
    if recorded.mode != "render":
        words.append(input_name)
    words += ["--layer", recorded.engine.layers]
    channel = settings.get("channel")
    if channel is not None:
        words += ["--channel", str(channel)]
    if settings.get("guide_sha256"):
        words += ["--guide", "GUIDE"]
    for field, value in recorded.repeated_fields():
        flag = flag_name(field)
        if isinstance(value, bool):
            words += [flag] if value != field.default else []
        elif value is not None:
            words += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    weights = settings.get("weights")
    words += ["--weights", "WEIGHTS" if weights not in ("imagenet", "none", None) else str(weights or "none")]
    if output:
        words += ["-o", output]
    return " ".join(shlex.quote(word) for word in words)


def weights_name(weights) -> str:
    """How the settings name `--weights`: "imagenet", "none" or the file's name."""
    if weights is None:
        return "none"
    return "imagenet" if weights == "imagenet" else Path(weights).name


def weights_sha256(weights) -> str | None:
    """The SHA-256 of the weights file a dream used; `None` for random weights or an ImageNet file not cached."""
    if weights is None:
        return None
    if weights == "imagenet":
        from inception_keras.weights import IMAGENET_WEIGHTS

        path = keras_home() / "models" / IMAGENET_WEIGHTS[False][0]
        return file_sha256(path) if path.is_file() else None
    path = Path(weights)
    return file_sha256(path) if path.is_file() else None


def channel_text(channels) -> str:
    """`0-15` for a run of channels, else a comma list: what `--channel` takes."""
    channels = list(channels)
    if channels == list(range(channels[0], channels[-1] + 1)) and len(channels) > 1:
        return f"{channels[0]}-{channels[-1]}"
    return ",".join(str(c) for c in channels)


def _upgraded(settings: dict) -> dict:
    """Settings of older versions in today's fields; today's unchanged.

    Format 1 (0.1.0) named some fields otherwise. A video recorded before
    shots (0.1.0, 0.2.0) carried its dream across cuts: `shots` off repeats it.
    """
    if settings.get("mode") == "video" and "shots" not in settings:
        settings = {**settings, "shots": False}
    if "format" in settings:
        return settings
    settings = {**settings, "format": FORMAT}
    if "no_flow" in settings:
        no_flow = settings.pop("no_flow")
        settings["flow"] = (not no_flow) if isinstance(no_flow, bool) else no_flow
    if "zoom_frames" in settings:
        settings["frames"] = settings.pop("zoom_frames")
    if settings["mode"] == "zoom" and settings.get("fps", 0) is None:  # 0.1.0 recorded a zoom's default 24 as None
        del settings["fps"]
    return settings


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number settings take")


def _depth(value, level: int = 0) -> int:
    if isinstance(value, dict):
        return max([_depth(item, level + 1) for item in value.values()], default=level + 1)
    if isinstance(value, list):
        return max([_depth(item, level + 1) for item in value], default=level + 1)
    return level


def _shown(value) -> str:
    return "-" if value is None else str(value)


def _video_tag(path: Path) -> str | None:
    import av

    try:
        with av.open(str(path)) as container:
            return container.metadata.get(VIDEO_TAG)
    except av.error.FFmpegError as error:
        raise ValueError(f"Not a readable video: {path} ({error})") from None
