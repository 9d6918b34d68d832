"""A channel atlas: one render from noise per channel of each `mixed*` layer, resumable, with a static page.

`render_atlas` renders the channels an atlas folder lacks, in batches as
the gallery renders them (`Renderer.render_batch`), and writes each as
`OUT/<layer>/<NNNN>.png` (the channel zero-padded to 4 digits), atomically,
with its settings inside, as soon as its batch is finished; a second run
renders only what is missing. With `AtlasOptions.photos` it also finds each
channel's strongest photos (`top_photos`), and it ends by writing
`OUT/index.html` (`deepdream.atlas_page`).

`atlas_work` says what a run will render without building a model, so a
plan of memory and time can be computed from the same options;
`render_group` is the unit of work that a local run and a Ray actor
(`deepdream.atlas_ray`) both call, so both write the same files.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from deepdream import settings
from deepdream.jobs import NO_HOOKS, Hooks
from deepdream.options import ATLAS_LAYERS, AtlasOptions, DreamOptions, EngineOptions, RenderOptions
from inception_keras.files import check_writable


@dataclasses.dataclass(frozen=True)
class AtlasLayer:
    """What an atlas needs to know of a tap point: channels, stride and receptive field (input pixels)."""

    name: str
    channels: int
    stride: int
    receptive_field: int


# Inception-v3's tap points (`inception_keras.introspection.tap_points`, checked by tests/test_atlas.py).
LAYER_TABLE = {row.name: row for row in (
    AtlasLayer("mixed0", 256, 8, 63),  # 35 x 35 x 256 at 299 px
    AtlasLayer("mixed1", 288, 8, 95),
    AtlasLayer("mixed2", 288, 8, 127),
    AtlasLayer("mixed3", 768, 16, 159),  # 17 x 17 x 768
    AtlasLayer("mixed4", 768, 16, 351),
    AtlasLayer("mixed5", 768, 16, 543),
    AtlasLayer("mixed6", 768, 16, 735),
    AtlasLayer("mixed7", 768, 16, 927),
    AtlasLayer("mixed8", 1280, 32, 1055),  # 8 x 8 x 1280
    AtlasLayer("mixed9", 2048, 32, 1183),  # 8 x 8 x 2048
    AtlasLayer("mixed10", 2048, 32, 1311),
)}
# Photos are read with no side over this before their activations are taken.
PHOTO_SIDE = 512
# The side of a saved photo crop (a thumbnail on the page).
CROP_SIDE = 112
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


@dataclasses.dataclass
class AtlasReport:
    """What a run did: the renders it wrote, those it found already there, and the page."""

    written: list[Path] = dataclasses.field(default_factory=list)
    kept: int = 0
    page: Path | None = None


def channel_path(out, layer: str, channel: int) -> Path:
    """`OUT/<layer>/<NNNN>.png`."""
    return Path(out) / layer / f"{channel:04d}.png"


def layer_channels(atlas: AtlasOptions, layer: str) -> list[int]:
    """The channels of `layer` the atlas asks for (all of them by default).

    Raises:
        ValueError: a channel the layer does not have.
    """
    count = LAYER_TABLE[layer].channels
    channels = atlas.channel_numbers
    if channels is None:
        return list(range(count))
    outside = [channel for channel in channels if channel >= count]
    if outside:
        raise ValueError(f"--channels: channel {outside[0]} does not exist in {layer}, which has channels "
                         f"0..{count - 1}.")
    return channels


def atlas_work(out, atlas: AtlasOptions) -> dict[str, list[list[int]]]:
    """The batches a run renders: `{layer: [[channel, ...], ...]}`, the channels whose file is missing.

    Builds no model, so a plan (memory, time) can be computed from it.
    """
    work = {}
    for layer in atlas.layer_names:
        missing = [c for c in layer_channels(atlas, layer) if not channel_path(out, layer, c).is_file()]
        size = atlas.batch if atlas.param == "pixel" else 1
        work[layer] = [missing[i: i + size] for i in range(0, len(missing), size)]
    return work


def plan_atlas(out, engine: EngineOptions, dream: DreamOptions, atlas: AtlasOptions, *, workers: int = 1,
               timed: bool = True, cache_dir=None, startup_seconds: float = 0.0):
    """The `deepdream.plan.Plan` of the channels a run still renders (`atlas_work`), layer by layer.

    Each layer with channels to render is planned by `plan_render` (its
    network, its batches, a calibration cached per layer); the times add up,
    the peak is the largest (one layer's network at a time). On `workers`
    Ray actors the channels split evenly: the time is the sum over
    `workers`, each actor's start-up aside. Without `timed` only the deepest
    such layer is planned: the memory guard needs its peak, not the time.

    Args:
        out: the atlas folder (the channels already there are not planned).
        workers: actors the channels are spread over. Defaults to 1.
        timed, cache_dir, startup_seconds: as in `deepdream.plan.plan_dream`.
    """
    from deepdream import plan as planning

    render = RenderOptions(noise=f"{atlas.size}x{atlas.size}", param=atlas.param)
    counts = {layer: sum(map(len, groups)) for layer, groups in atlas_work(out, atlas).items()}
    layers = [layer for layer, count in counts.items() if count] or atlas.layer_names[-1:]
    if not timed:
        layers = layers[-1:]
    plans = [planning.plan_render(engine.replace(layers=layer, channel=None), dream, render,
                                  count=max(1, counts[layer]), batch=atlas.batch, timed=timed, cache_dir=cache_dir)
             for layer in layers]
    seconds = None
    if timed:
        rendering = sum(p.seconds for p in plans) if any(counts.values()) else 0.0  # nothing missing: no work
        seconds = startup_seconds + rendering / workers
    return dataclasses.replace(max(plans, key=lambda p: p.peak_memory_bytes), seconds=seconds,
                               runs=sum(counts.values()))


def render_settings(engine: EngineOptions, dream: DreamOptions, atlas: AtlasOptions, layer: str,
                    precision: str) -> dict:
    """The settings an atlas render of `layer` carries (channel left to `with_channel`): a render's, repeatable."""
    render = RenderOptions(noise=f"{atlas.size}x{atlas.size}", param=atlas.param)
    return settings.build("render", engine.replace(layers=layer, channel=None), render.dream_for(dream), precision,
                          render)


def render_group(renderer, out, layer: str, channels: list[int], dream: DreamOptions, atlas: AtlasOptions,
                 recorded: dict) -> list[Path]:
    """Renders `channels` of `layer` as one batch and writes each file atomically; the unit of every atlas run.

    Args:
        renderer: a `Renderer` of `layer`.
        recorded: `render_settings(...)` of this layer.
    """
    from inception_keras.images import save_image

    render = RenderOptions(noise=f"{atlas.size}x{atlas.size}", param=atlas.param)
    kwargs = render.dream_for(dream).engine_kwargs()
    if atlas.param == "pixel" and len(channels) > 1:
        images = renderer.render_batch(channels, render.size, **kwargs)
    else:
        images = [renderer.render(channel, render.size, param=atlas.param, **kwargs) for channel in channels]
    paths = []
    for channel, image in zip(channels, images):
        path = channel_path(out, layer, channel)
        path.parent.mkdir(exist_ok=True)
        paths.append(save_image(image, path, metadata=settings.image_metadata({**recorded, "channel": channel})))
    return paths


def check_atlas_output(out, engine: EngineOptions, dream: DreamOptions, atlas: AtlasOptions) -> Path:
    """Checks the atlas folder and the options before any work; returns the folder as a `Path`.

    The folder is made when missing (its parent must exist); an existing
    one must be an atlas (a folder with nothing but atlas files in it) or empty.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"-o {out} is a file; name a folder for the atlas.")
    if out.is_dir():
        strangers = [p.name for p in out.iterdir() if p.name not in (*ATLAS_LAYERS, "index.html")
                     and not p.name.startswith(".")]
        if strangers:
            raise ValueError(f"-o {out} holds {strangers[0]}, which no atlas writes; choose an empty or atlas folder.")
    else:
        check_writable(out.parent if str(out.parent) else Path("."))
    if atlas.photos is not None and not Path(atlas.photos).is_dir():
        raise ValueError(f"--photos {atlas.photos} is not a folder.")
    if engine.guide:
        raise ValueError("--guide does not apply to an atlas; drop it.")
    if dream.original_colors:
        raise ValueError("--original-colors keeps a photo's colours; a render from noise has none. Drop it.")
    if dream.lapnorm and atlas.param == "fft":
        raise ValueError("--lapnorm applies to --param pixel only; drop one of them.")
    for layer in atlas.layer_names:
        layer_channels(atlas, layer)
    return out


def render_atlas(out, engine: EngineOptions, dream: DreamOptions, atlas: AtlasOptions, *, renderers=None,
                 hooks: Hooks = NO_HOOKS, render_groups: Callable | None = None) -> AtlasReport:
    """Renders the atlas's missing channels into `out`, finds the photos' crops, and writes `out/index.html`.

    Args:
        out: the atlas folder, made when missing.
        engine: the network's options (`weights`, `precision`, `tile_size`;
            the layers and channels are the atlas's).
        dream: the ascent's options (octaves, steps, step size, jitter, seed).
        atlas: the atlas's options.
        renderers: `renderers(layer) -> Renderer`, to reuse renderers.
            Defaults to building one per layer.
        hooks: progress counts channels rendered.
        render_groups: `render_groups(work) -> list[Path]` renders
            `atlas_work`'s batches elsewhere (Ray: `deepdream.atlas_ray`).
            Defaults to rendering them here, one after the other.

    Returns:
        An `AtlasReport`.

    Raises:
        ValueError: a bad folder, layer or channel (before any work).
    """
    from deepdream.atlas_page import write_atlas_page
    from deepdream.jobs import build_renderer

    out = check_atlas_output(out, engine, dream, atlas)
    out.mkdir(exist_ok=True)
    work = atlas_work(out, atlas)
    total = sum(len(group) for groups in work.values() for group in groups)
    report = AtlasReport(kept=sum(len(layer_channels(atlas, layer)) for layer in work) - total)
    if report.kept and total:
        hooks.message(f"resuming: {report.kept} channels already in {out}, {total} to render")
    built = {}

    def renderer_of(layer: str):
        if renderers is not None:
            return renderers(layer)
        if layer not in built:
            built.clear()  # one layer's model at a time
            built[layer] = build_renderer(engine.replace(layers=layer, channel=None))
        return built[layer]

    if render_groups is not None and total:
        report.written += render_groups(work)
        hooks.progress(total, total, "channel")
    else:
        for layer, groups in work.items():
            if not groups:
                continue
            renderer = renderer_of(layer)
            recorded = render_settings(engine, dream, atlas, layer, renderer.engine.precision)
            for index, group in enumerate(groups):
                with warnings.catch_warnings():
                    if index:
                        warnings.simplefilter("ignore")  # a capped octave count is said once per layer
                    report.written += render_group(renderer, out, layer, group, dream, atlas, recorded)
                hooks.progress(len(report.written), total, "channel")
    photos = None
    if atlas.photos is not None:
        photos = {layer: write_photo_crops(out, layer, renderer_of(layer), atlas) for layer in atlas.layer_names}
    report.page = write_atlas_page(out, {name: row.channels for name, row in LAYER_TABLE.items()}, photos)
    return report


def photo_files(folder) -> list[Path]:
    """The image files directly in `folder`, sorted by name."""
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES)


def layer_activations(extractor, image: np.ndarray, layer: str) -> np.ndarray:
    """The `(h, w, C)` activation of `layer` on an `(H, W, 3)` uint8 image, as the dreams see it ([-1, 1])."""
    import keras

    tensor = keras.ops.convert_to_tensor(np.asarray(image, "float32")[None] / 127.5 - 1.0)
    return np.asarray(keras.ops.convert_to_numpy(extractor(tensor, training=False)[layer][0]), "float32")


def top_channels(activation: np.ndarray, top: int = 8) -> list[tuple[int, float]]:
    """`(channel, mean activation)` of the `top` strongest channels of an `(h, w, C)` activation, strongest first."""
    means = activation.reshape(-1, activation.shape[-1]).mean(axis=0)
    order = np.argsort(-means, kind="stable")[:top]
    return [(int(channel), float(means[channel])) for channel in order]


def photo_top_channels(image: np.ndarray, layer: str, top: int = 8, *, renderer) -> list[tuple[int, float]]:
    """The `top` channels of `layer` that the `(H, W, 3)` uint8 photo excites most, by mean activation.

    Args:
        image: the photo (read it with no side over `PHOTO_SIDE` for speed).
        layer: a layer the `renderer` taps, e.g. `"mixed4"`.
        top: how many. Defaults to 8.
        renderer: a `Renderer` of `layer` (its network and weights).

    Returns:
        `[(channel, mean), ...]`, strongest first.
    """
    return top_channels(layer_activations(renderer.engine.extractor, image, layer), top)


def file_top_channels(source, layer: str, engine: EngineOptions, top: int = 8, *,
                      renderer=None) -> list[tuple[int, float]]:
    """The `top` channels of `layer` that the photo file `source` excites most: `[(channel, mean), ...]`.

    The photo is read with no side over `engine.max_side` (`PHOTO_SIDE`
    when unset), as the network sees it in a dream.
    """
    from deepdream.jobs import build_renderer, load_photo

    if top < 1:
        raise ValueError(f"--top must be at least 1. Received: {top}")
    image = load_photo(source, engine.max_side or PHOTO_SIDE)
    renderer = renderer or build_renderer(engine.replace(layers=layer, channel=None))
    return photo_top_channels(image, layer, top, renderer=renderer)


def receptive_crop(image: np.ndarray, activation: np.ndarray, channel: int, layer: str) -> np.ndarray:
    """The square of `image` the layer's receptive field covers around the channel's strongest position.

    The position's centre in the image is its cell's centre scaled to the
    image (`(i + 0.5) * H / h`); the square is clipped to the image.
    """
    height, width = image.shape[:2]
    rows, cols = activation.shape[:2]
    row, col = np.unravel_index(int(np.argmax(activation[..., channel])), (rows, cols))
    side = min(LAYER_TABLE[layer].receptive_field, height, width)
    centre_y, centre_x = (row + 0.5) * height / rows, (col + 0.5) * width / cols
    top = int(np.clip(round(centre_y - side / 2), 0, height - side))
    left = int(np.clip(round(centre_x - side / 2), 0, width - side))
    return image[top: top + side, left: left + side]


def write_photo_crops(out, layer: str, renderer, atlas: AtlasOptions) -> dict[int, list[dict]]:
    """Finds each channel's `atlas.top_photos` strongest photos and saves their crops beside the renders.

    Crops go to `OUT/<layer>/photos/<NNNN>_<k>.jpg`, `CROP_SIDE` pixels.
    A photo that cannot be read is skipped.

    Returns:
        `{channel: [{"file": "<layer>/photos/...", "photo": name, "mean": value}, ...]}`.
    """
    from inception_keras.images import load_image, resize_image, save_image

    from deepdream.jobs import fit_max_side

    channels = layer_channels(atlas, layer)
    images, activations = [], []
    for path in photo_files(atlas.photos):
        try:
            image = fit_max_side(load_image(path), PHOTO_SIDE)
        except ValueError:
            continue
        images.append((path.name, image))
        activations.append(layer_activations(renderer.engine.extractor, image, layer))
    folder = Path(out) / layer / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    found: dict[int, list[dict]] = {}
    if not images:
        return found
    means = np.stack([a.reshape(-1, a.shape[-1]).mean(axis=0) for a in activations])  # photos x C
    for channel in channels:
        order = np.argsort(-means[:, channel], kind="stable")[: atlas.top_photos]
        entries = []
        for rank, index in enumerate(order):
            name, image = images[index]
            crop = receptive_crop(image, activations[index], channel, layer)
            target = folder / f"{channel:04d}_{rank}.jpg"
            save_image(resize_image(crop, CROP_SIDE, CROP_SIDE), target, quality=85)
            entries.append(dict(file=f"{layer}/photos/{target.name}", photo=name,
                                mean=round(float(means[index, channel]), 4)))
        found[channel] = entries
    return found
