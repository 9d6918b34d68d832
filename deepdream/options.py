"""Options as data: what a dream, an engine, a video, a zoom, a render and a server are asked to do.

Each mode's options are one frozen dataclass; its fields carry their
defaults, their help text and their range in `metadata`, and `__post_init__`
checks every value (types included: `"false"` is not a bool). This is the one
place where a default or a range lives:

- the command line builds its flags from the fields (`deepdream.cli_options`),
- settings files are written from them and read back through them
  (`deepdream.settings`),
- the web page takes its controls' defaults and ranges from them,
- Ray workers receive them.

Nothing here imports Keras, so `python -m deepdream --help` answers at once.
An invalid value raises `ValueError` that names the field and echoes the
value: "`steps` must be at least 1. Received: steps=0".
"""

from __future__ import annotations

import dataclasses
import math
import typing

DEFAULT_LAYERS = "mixed3:1.0,mixed5:1.5"
RENDER_LAYER = "mixed4"
PRECISIONS = ("auto", "float32", "bfloat16", "float16")
FLOW_PRESETS = ("ultrafast", "fast", "medium")
PARAMETERIZATIONS = ("pixel", "fft")
# A Fourier render's own steps and step size (Adam's learning rate), used when the dream's are left at their defaults.
FFT_STEPS = 128
FFT_STEP_SIZE = 0.05
MIN_SIDE = 75
MAX_RENDER_SIDE = 8192
MAX_SEED = 2**32 - 1


@dataclasses.dataclass(frozen=True)
class LayerTerm:
    """One layer's share of the objective: `weight * mean(activation ** 2)`.

    With `channel` set, the term is `weight * mean(activation[..., channel])`.
    """

    layer: str
    weight: float = 1.0
    channel: int | None = None


# Weights only scale terms against each other (each step's gradient is normalised); far larger ones overflow the
# float32 loss and give a black image.
MAX_LAYER_WEIGHT = 10_000.0


def parse_layer_spec(spec: str | list[str]) -> list[LayerTerm]:
    """Parses `"mixed4:1.0,mixed5:1.5"` (or a list of such strings) into terms.

    Raises:
        ValueError: empty names, or a weight that is not a number within +-`MAX_LAYER_WEIGHT`.
    """
    parts = [spec] if isinstance(spec, str) else list(spec)
    terms = []
    for item in ",".join(parts).split(","):
        item = item.strip()
        if not item:
            continue
        name, _, weight_text = item.partition(":")
        try:
            weight = float(weight_text) if weight_text else 1.0
        except ValueError:
            weight = math.nan
        if not name or not math.isfinite(weight) or abs(weight) > MAX_LAYER_WEIGHT:
            raise ValueError(
                f"Bad layer term {item!r}: write NAME or NAME:WEIGHT with a number from -{MAX_LAYER_WEIGHT:g} "
                f"to {MAX_LAYER_WEIGHT:g}, e.g. 'mixed4:1.0,mixed5:1.5'."
            )
        terms.append(LayerTerm(name.strip(), weight))
    if not terms:
        raise ValueError("No layer given: name at least one, e.g. --layer mixed4.")
    return terms


def option(default, help: str, *, least=None, most=None, above=None, below=None, choices=None,  # noqa: A002
           flag: str | None = None, recorded: bool = True):
    """A dataclass field with its help, its range and how the command line names it.

    Args:
        default: the default value.
        help: the flag's help text.
        least, most: inclusive bounds. Default to none.
        above, below: exclusive bounds. Default to none.
        choices: the allowed values. Defaults to any.
        flag: the command-line flag when it is not `--field-name`. Defaults to `None`.
        recorded: whether settings files record the field. Defaults to `True`.
    """
    return dataclasses.field(default=default, metadata=dict(
        help=help, least=least, most=most, above=above, below=below, choices=choices, flag=flag, recorded=recorded))


def flag_name(field: dataclasses.Field) -> str:
    """The command-line flag of a field: `--octave-scale` for `octave_scale`, unless the field names another."""
    return field.metadata.get("flag") or "--" + field.name.replace("_", "-")


class Checked:
    """Checks every field of a dataclass against its type and its metadata's range after `__init__`."""

    def __post_init__(self):
        hints = typing.get_type_hints(type(self))
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            _check_type(field.name, value, hints[field.name])
            if value is not None:
                _check_range(field, value)

    def replace(self, **changes):
        """A copy with `changes`, checked again."""
        return dataclasses.replace(self, **changes)

    def as_dict(self, recorded_only: bool = False) -> dict:
        """The fields as a plain dict (JSON-ready); with `recorded_only`, the ones settings files record."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)
                if field.metadata.get("recorded", True) or not recorded_only}


@dataclasses.dataclass(frozen=True)
class DreamOptions(Checked):
    """How to dream: octaves of jittered gradient ascent (`DeepDream.dream`'s keyword arguments)."""

    octaves: int = option(4, "number of scales", least=1, most=20)
    octave_scale: float = option(1.4, "size ratio between octaves", above=1.0, most=4.0)
    steps: int = option(20, "ascent steps per octave", least=1, most=10_000)
    step_size: float = option(0.01, "step length", above=0.0, below=10.0)
    jitter: int = option(32, "random roll per step, in pixels", least=0, most=1024)
    lapnorm: bool = option(False, "Laplacian-pyramid gradient normalisation")
    seed: int = option(0, "random seed", least=0, most=MAX_SEED)
    original_colors: bool = option(False, "dream the luminance only and keep the photo's colours")

    def engine_kwargs(self) -> dict:
        """The keyword arguments of `DeepDream.dream` and `refine` (everything but `original_colors`)."""
        return {name: value for name, value in self.as_dict().items() if name != "original_colors"}


@dataclasses.dataclass(frozen=True)
class EngineOptions(Checked):
    """What to dream with: the objective, the network's weights and precision, and how big a piece to take."""

    layers: str = option(DEFAULT_LAYERS, "layer(s) to maximise, NAME[:WEIGHT], repeatable or a comma list",
                         flag="--layer")
    channel: int | None = option(None, "maximise this one channel of the layer(s)", least=0)
    guide: str | None = option(None, "guide image: dream toward its features", recorded=False)
    weights: str | None = option("imagenet", "'imagenet', a weights file, or 'none' (random, for a quick check)",
                                 recorded=False)
    tile_size: int = option(512, "tile side in pixels; bounds memory on large images", least=139, most=8192)
    precision: str = option("auto", "network precision (the image and loss stay float32); auto: bfloat16 where "
                                    "the CPU (AVX512_BF16, AMX) or GPU (compute capability >= 8.0) runs it natively",
                            choices=PRECISIONS)
    max_side: int | None = option(None, "downscale the input first so no side exceeds this", least=MIN_SIDE,
                                  most=65_536)

    def __post_init__(self):
        super().__post_init__()
        parse_layer_spec(self.layers)  # names are checked against the network when it is built


@dataclasses.dataclass(frozen=True)
class VideoOptions(Checked):
    """How to dream a clip frame by frame (`deepdream.video_dream.FrameDreamer`) and encode it."""

    frame_steps: int = option(5, "ascent steps on each frame after the first (video and zoom)", least=1, most=1000)
    blend: float = option(0.9, "share of the previous frame's dream carried into the next, 0 to 1",
                          least=0.0, most=1.0)
    flow: bool = option(True, "carry the dream along the optical flow (--no-flow dreams every frame from scratch)",
                        flag="--no-flow")
    flow_preset: str = option("medium", "OpenCV DIS optical-flow preset: faster or more accurate motion",
                              choices=FLOW_PRESETS)
    shots: bool = option(True, "restart the dream at each hard cut (--no-shots carries it across cuts)",
                         flag="--no-shots")
    shot_threshold: float = option(27.0, "cut detector threshold (PySceneDetect's content detector): lower "
                                          "finds more cuts", above=0.0, most=255.0)
    max_shot_frames: int | None = option(None, "split shots longer than N frames (the dream restarts there: a "
                                               "jump); default no limit", least=1, most=10_000_000)
    max_frames: int | None = option(None, "dream only the first N frames (a preview)", least=1, most=10_000_000)
    crf: int = option(18, "H.264 quality of .mp4/.mov/.mkv outputs: 0 lossless .. 51 worst", least=0, most=51,
                      recorded=False)
    fps: float | None = option(None, "output frame rate (default: the input's; 24 for a zoom)", above=0.0,
                               most=1000.0)
    resume: bool = option(False, "continue an interrupted video or zoom from the frames kept beside its output",
                          recorded=False)


@dataclasses.dataclass(frozen=True)
class ZoomOptions(Checked):
    """A zoom animation grown out of one still (`deepdream.zoom.zoom_frames`)."""

    frames: int = option(48, "make an N-frame zoom animation from a still", least=1, most=100_000,
                         flag="--zoom-frames")
    zoom: float = option(1.05, "zoom factor from one frame to the next", least=0.5, most=2.0)
    rotate: float = option(0.0, "degrees turned from one frame to the next (zoom animation)", least=-360.0,
                           most=360.0)
    frame_steps: int = option(5, "ascent steps on each frame after the first (video and zoom)", least=1, most=1000)
    fps: float = option(24.0, "output frame rate", above=0.0, most=1000.0)
    crf: int = option(18, "H.264 quality: 0 lossless .. 51 worst", least=0, most=51, recorded=False)
    resume: bool = option(False, "continue an interrupted zoom from the frames kept beside its output",
                          recorded=False)


@dataclasses.dataclass(frozen=True)
class RenderOptions(Checked):
    """A render from noise (`deepdream.render.Renderer`): its size, parameterisation and channels."""

    noise: str = option("224x224", "render from grey noise of this size WxH instead of dreaming on an INPUT")
    param: str = option("pixel", "what a render optimises: the pixels (the DeepDream notebook) or lucid's "
                                 "decorrelated Fourier image", choices=PARAMETERIZATIONS)
    channels: tuple[int, ...] | None = option(None, "a gallery's channels", recorded=False)

    def __post_init__(self):
        super().__post_init__()
        self.size  # noqa: B018  checks the text
        if self.channels is not None and not (1 <= len(self.channels) <= 64):
            raise ValueError(f"A gallery takes at least 1 and at most 64 channels. Received: {len(self.channels)}")

    @property
    def size(self) -> tuple[int, int]:
        """`(height, width)` of `noise`."""
        width, _, height = self.noise.lower().partition("x")
        try:
            size = (int(height), int(width))
        except ValueError:
            size = (0, 0)
        if not all(MIN_SIDE <= side <= MAX_RENDER_SIDE for side in size):
            raise ValueError(f"`noise` must be WIDTHxHEIGHT with sides from {MIN_SIDE} to {MAX_RENDER_SIDE}, "
                             f"e.g. 512x512. Received: {self.noise!r}")
        return size

    def dream_for(self, dream: DreamOptions) -> DreamOptions:
        """`dream` with a Fourier render's own steps and step size where it keeps the still defaults."""
        if self.param != "fft":
            return dream
        changes = {}
        if dream.steps == DreamOptions.steps:
            changes["steps"] = FFT_STEPS
        if dream.step_size == DreamOptions.step_size:
            changes["step_size"] = FFT_STEP_SIZE
        return dream.replace(**changes)


# An atlas's layers: the `mixed*` block outputs, mixed0..mixed10 (10,048 channels in all).
ATLAS_LAYERS = tuple(f"mixed{index}" for index in range(11))


@dataclasses.dataclass(frozen=True)
class AtlasOptions(Checked):
    """A channel atlas (`deepdream.atlas.render_atlas`): one render per channel of each layer, and its page."""

    layers: str = option(RENDER_LAYER, "atlas: layers to render, a comma list of mixed0..mixed10, or all",
                         flag="--layer")
    channels: str | None = option(None, "atlas: channels of each layer, e.g. 0-767 or 3,7,40-47 (default: all)")
    size: int = option(128, "atlas: side of each render in pixels", least=MIN_SIDE, most=1024)
    param: str = option("pixel", "atlas: what a render optimises (fft renders one channel at a time)",
                        choices=PARAMETERIZATIONS)
    batch: int = option(8, "atlas: channels rendered together as one batch", least=1, most=64)
    photos: str | None = option(None, "atlas: a folder of photos; the page shows each channel's strongest ones",
                                recorded=False)
    top_photos: int = option(4, "atlas: photos shown per channel with --photos", least=1, most=32)

    def __post_init__(self):
        super().__post_init__()
        self.layer_names  # noqa: B018  checks the names
        self.channel_numbers  # noqa: B018  checks the text

    @property
    def layer_names(self) -> list[str]:
        """The layers, in network order, without repeats (`all`: mixed0..mixed10)."""
        names = [name.strip().split(":")[0] for name in self.layers.split(",") if name.strip()]
        if "all" in names:
            return list(ATLAS_LAYERS)
        unknown = [name for name in names if name not in ATLAS_LAYERS]
        if unknown or not names:
            raise ValueError(f"`layers` must be a comma list of mixed0..mixed10, or all. Received: "
                             f"layers={self.layers!r}")
        return [name for name in ATLAS_LAYERS if name in names]

    @property
    def channel_numbers(self) -> list[int] | None:
        """The channels of `channels` in order, or `None` for every channel of each layer."""
        if self.channels is None:
            return None
        from deepdream.channels import parse_channels

        try:
            return parse_channels(self.channels)
        except ValueError:
            raise ValueError(f"`channels` must be a number, a range or a comma list such as 0-767 or 3,7,40-47. "
                             f"Received: channels={self.channels!r}") from None


@dataclasses.dataclass(frozen=True)
class ServeOptions(Checked):
    """The web page's address and what a visitor may ask of it."""

    host: str = option("127.0.0.1", "serve: address to listen on (0.0.0.0: the network)")
    port: int = option(7860, "serve: port to listen on", least=1, most=65_535)
    auth: str | None = option(None, "serve: ask visitors for this user and password (USER:PASSWORD)")
    max_side: int = option(768, "serve: the largest image side a visitor may ask for", least=MIN_SIDE, most=65_536)
    max_steps: int = option(50, "serve: most steps per octave a visitor may ask for", least=1, most=10_000)
    max_frames: int = option(48, "serve: most video or zoom frames a visitor may ask for", least=1,
                             most=100_000)
    max_upload_mb: float = option(20.0, "serve: largest upload, in megabytes", above=0.0, most=100_000.0)
    queue_size: int = option(8, "serve: jobs waiting at most; past it a visitor is told the server is busy",
                             least=1, most=10_000)
    atlas: str | None = option(None, "serve: an atlas folder (python -m deepdream atlas): an Atlas tab, and the "
                                     "thumbnails of a photo's top channels")

    def __post_init__(self):
        super().__post_init__()
        if self.auth is not None:
            user, colon, password = self.auth.partition(":")
            if not (user and colon and password):
                raise ValueError(f"`auth` must be USER:PASSWORD. Received: auth={self.auth!r}")

    @property
    def credentials(self) -> tuple[str, str] | None:
        """`(user, password)` of `auth`, or `None`."""
        if self.auth is None:
            return None
        user, _, password = self.auth.partition(":")
        return user, password

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


def _check_type(name: str, value, hint) -> None:
    """Raises `ValueError` when `value` is not of the field's type (a bool is no number, a string no bool)."""
    allowed = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, _union_type()) else (hint,)
    for kind in allowed:
        if kind is type(None) and value is None:
            return
        if kind is bool and isinstance(value, bool):
            return
        if kind is int and isinstance(value, int) and not isinstance(value, bool):
            return
        if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            if math.isfinite(value):
                return
            raise ValueError(f"`{name}` must be a finite number. Received: {name}={value!r}")
        if kind is str and isinstance(value, str):
            return
        if typing.get_origin(kind) is tuple and isinstance(value, tuple) and all(
                isinstance(item, int) and not isinstance(item, bool) and item >= 0 for item in value):
            return
    names = " or ".join(_type_name(kind) for kind in allowed)
    raise ValueError(f"`{name}` must be {names}. Received: {name}={value!r}")


def _check_range(field: dataclasses.Field, value) -> None:
    meta, name = field.metadata, field.name
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        raise ValueError(f"`{name}` must be one of {', '.join(map(str, choices))}. Received: {name}={value!r}")
    if isinstance(value, (bool, str, tuple)):
        return
    low = ("at least", meta["least"], value >= meta["least"]) if meta.get("least") is not None else None
    if meta.get("above") is not None:
        low = ("above", meta["above"], value > meta["above"])
    high = ("at most", meta["most"], value <= meta["most"]) if meta.get("most") is not None else None
    if meta.get("below") is not None:
        high = ("below", meta["below"], value < meta["below"])
    if (low and not low[2]) or (high and not high[2]):
        bounds = " and ".join(f"{words} {_number(bound)}" for words, bound, _ in filter(None, (low, high)))
        raise ValueError(f"`{name}` must be {bounds}. Received: {name}={value!r}")


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else f"{value:,}".replace(",", "_") if value > 99_999 else str(value)


def _type_name(kind) -> str:
    if kind is type(None):
        return "none"
    if typing.get_origin(kind) is tuple:
        return "a list of channel numbers"
    return {bool: "true or false", int: "a whole number", float: "a number", str: "text"}.get(kind, str(kind))


def _union_type():
    import types

    return types.UnionType
