"""Reproducible settings: what made a dream, stored in the file it wrote and read back.

Every image or video the command line or the web page writes carries one JSON
object: the layers, channel, the guide's SHA-256, octaves, octave scale,
steps, step size, jitter, Laplacian normalisation, seed, the precision the
network ran in (resolved, never "auto"), the weights and their SHA-256, and
the package version. Images hold it in a PNG text chunk named `deepdream`
(JPEG, WebP, TIFF: EXIF ImageDescription; JPEG also its comment), videos in
the container's `comment` tag.

`build` makes the object from the parsed flags, `image_metadata` and
`video_metadata` turn it into what `save_image` and `write_video` store,
`read` reads it from a file, `apply` puts it back into the flags
(`--settings-from`), `describe` prints it (`--show-settings`) and
`command_line` writes the equivalent command.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import warnings
from pathlib import Path

SETTINGS_KEY = "deepdream"
VIDEO_TAG = "comment"
# The flags every mode records, in the order `describe` prints them (plus `layers` and `channel`).
DREAM_FIELDS = ("octaves", "octave_scale", "steps", "step_size", "jitter", "lapnorm", "seed")
ENGINE_FIELDS = ("precision", "tile_size", "max_side")
MODE_FIELDS = {
    "still": (),
    "render": ("noise", "param"),
    "video": ("frame_steps", "blend", "no_flow", "flow_preset", "max_frames"),
    "zoom": ("frame_steps", "zoom_frames", "zoom", "rotate", "fps"),
}


def build(args, mode: str, precision: str, dream_options: dict | None = None) -> dict:
    """The settings of a run, from its parsed flags.

    Args:
        args: the parsed flags of `python -m deepdream` (or the web page's,
            which builds the same namespace).
        mode: `"still"`, `"render"`, `"video"` or `"zoom"`.
        precision: the precision the network ran in (`DeepDream.precision`).
        dream_options: the options actually passed to the dream or render,
            when they differ from the flags (a Fourier render's own steps).
            Defaults to the flags.

    Returns:
        A JSON-serialisable dict.
    """
    import inception_keras
    from deepdream.engine import DEFAULT_LAYERS

    if mode not in MODE_FIELDS:
        raise ValueError(f"`mode` must be one of {', '.join(MODE_FIELDS)}. Received: mode={mode!r}")
    options = {name: getattr(args, name) for name in DREAM_FIELDS}
    options.update({k: v for k, v in (dream_options or {}).items() if k in DREAM_FIELDS and v is not None})
    channel = args.channel
    settings = dict(
        version=inception_keras.__version__,
        mode=mode,
        layers=",".join(args.layer) if args.layer else (_render_layer() if mode == "render" else DEFAULT_LAYERS),
        channel=channel if channel is None or isinstance(channel, int) else _channel_text(channel),
        guide_sha256=file_sha256(args.guide) if args.guide else None,
        **options,
        precision=precision,
        tile_size=args.tile_size,
        max_side=args.max_side,
        weights=weights_name(args.weights),
        weights_sha256=weights_sha256(args.weights),
    )
    settings.update({name: getattr(args, name) for name in MODE_FIELDS[mode]})
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
    try:
        settings = json.loads(text)
    except ValueError:
        settings = None
    if not isinstance(settings, dict) or settings.get("mode") not in MODE_FIELDS or "layers" not in settings:
        raise ValueError(f"The deepdream settings in {path} are damaged; they cannot be read.")
    return settings


def apply(args, settings: dict) -> None:
    """Puts `settings` into the parsed flags `args` (`--settings-from`), in place.

    The recorded options replace the flags' values; the input, output,
    `--weights` and `--guide` stay as given. A recorded guide must be given
    again with `--guide` (its SHA-256 is checked); weights whose SHA-256
    differs from the recorded one, random weights and another package
    version give a warning.

    Raises:
        ValueError: a guided dream without its guide, or with another image.
    """
    from deepdream.channels import channel_flag

    args.layer = [settings["layers"]]
    channel = settings.get("channel")
    args.channel = None if channel is None else channel_flag(str(channel))
    for name in DREAM_FIELDS + ENGINE_FIELDS + MODE_FIELDS[settings["mode"]]:
        if name in settings:
            setattr(args, name, settings[name])
    if settings["mode"] != "render":
        args.param, args.noise = "pixel", None
    recorded_guide = settings.get("guide_sha256")
    if recorded_guide and not args.guide:
        raise ValueError(f"These settings were guided by an image (SHA-256 {recorded_guide[:16]}...): "
                         "give it with --guide.")
    if recorded_guide and file_sha256(args.guide) != recorded_guide:
        raise ValueError(f"--guide {args.guide} is not the recorded guide (SHA-256 {recorded_guide[:16]}...).")
    if not recorded_guide and args.guide:
        raise ValueError("These settings record no guide: drop --guide to repeat them.")
    import inception_keras

    recorded_weights = settings.get("weights_sha256")
    if settings.get("weights") == "none":
        warnings.warn("these settings were dreamed with random weights (--weights none), which differ every run: "
                      "the dream will differ.", stacklevel=2)
    elif recorded_weights != weights_sha256(args.weights):
        warnings.warn(f"the weights differ from the recorded ones ({settings.get('weights')}, SHA-256 "
                      f"{str(recorded_weights)[:16]}...): the dream will differ; pass those with --weights.",
                      stacklevel=2)
    if settings.get("version") != inception_keras.__version__:
        warnings.warn(f"these settings were recorded by version {settings.get('version')}, this is "
                      f"{inception_keras.__version__}: the dream may differ.", stacklevel=2)


def describe(settings: dict) -> str:
    """The settings as `name: value` lines, then the equivalent command line."""
    width = max(len(name) for name in settings)
    lines = [f"{name:{width}s}  {_shown(value)}" for name, value in settings.items()]
    return "\n".join(lines + ["", command_line(settings)])


def command_line(settings: dict, input_name: str = "photo.jpg", output: str | None = None) -> str:
    """The `python -m deepdream ...` command that repeats `settings` on `input_name`."""
    words = ["python", "-m", "deepdream"]
    if settings["mode"] != "render":
        words.append(input_name)
    words += ["--layer", settings["layers"]]
    if settings.get("channel") is not None:
        words += ["--channel", str(settings["channel"])]
    if settings.get("guide_sha256"):
        words += ["--guide", "GUIDE"]
    for name in DREAM_FIELDS + ENGINE_FIELDS + MODE_FIELDS[settings["mode"]]:
        value = settings.get(name)
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            words += [flag] if value else []
        elif value is not None:
            words += [flag, str(value)]
    weights = settings.get("weights")
    words += ["--weights", "WEIGHTS" if weights not in ("imagenet", "none", None) else str(weights or "none")]
    if output:
        words += ["-o", output]
    return " ".join(shlex.quote(word) for word in words)


def file_sha256(path) -> str:
    """The SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


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

        home = os.path.expanduser(os.environ.get("KERAS_HOME") or "~/.keras")
        path = Path(home, "models", IMAGENET_WEIGHTS[False][0])
        return file_sha256(path) if path.is_file() else None
    path = Path(weights)
    return file_sha256(path) if path.is_file() else None


def _render_layer() -> str:
    from deepdream.cli_render import RENDER_LAYER

    return RENDER_LAYER


def _channel_text(channels) -> str:
    """`0-15` for a run of channels, else a comma list: what `--channel` takes."""
    channels = list(channels)
    if channels == list(range(channels[0], channels[-1] + 1)) and len(channels) > 1:
        return f"{channels[0]}-{channels[-1]}"
    return ",".join(str(c) for c in channels)


def _shown(value) -> str:
    return "-" if value is None else str(value)


def _video_tag(path: Path) -> str | None:
    import av

    try:
        with av.open(str(path)) as container:
            return container.metadata.get(VIDEO_TAG)
    except av.error.FFmpegError as error:
        raise ValueError(f"Not a readable video: {path} ({error})") from None
