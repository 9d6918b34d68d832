"""A dream's plan before it starts: its octaves and tiles, the device, the estimated peak memory and time.

`plan_dream` (a photo, a video or a zoom: a first dream, then `frame_steps`
on each further frame) and `plan_render` (renders from noise, in batches)
take the options a job takes and the image size, and ask the engine itself
what it will do: the octave sizes come from `deepdream.octaves.octave_shapes`,
whole or tiled and the tiles per step from `OctaveAscent.step_tiles`.

**Time.** `calibration` times the engine's own compiled gradient on this
device: one call that compiles, then calls on a small and a larger square
image after warm-up, giving a cost per call and per pixel
(`seconds = call + pixel * pixels`). It is cached per backend, device,
network (its layers, a guide, the weights file's path, size and date) and
precision in a JSON file under `default_cache_dir()`, written atomically.
It also times the host loop's update of a step (`ascend_in_place`) per
image pixel. A plan adds, over every octave (or frame) and step, each
piece's (tile's or whole image's) calls and, on the host loop, the
update; plus the compile, and the process's start-up where the caller
passes it (the command line does).

**Memory.** The peak resident memory of the process is modelled as

    peak = resident now (interpreter, backend, the built network's weights)
           + ACTIVATION_FACTOR * activations of one piece * bytes per activation
           + bytes per image pixel * pixels of the full image: HOST_BYTES_PER_PIXEL for
             the host tiled loop (HOST_BYTES_PER_PIXEL_OCTAVES with several octaves), or
             DEVICE_BYTES_PER_PIXEL for the device loop (a whole image)

where the activations of a piece are its pixels (times the images of a
batch) times the network's activations per input pixel up to the deepest
layer dreamed (`activations_per_pixel`: each layer's output size over the
input's, summed; 210 through mixed5, 290 through mixed7), and the bytes
per activation are the precision's (4, or 2 for bfloat16 and float16).
The factor is what the gradient holds at its peak per forward activation:
measured at 0.6 on a CPU with TensorFlow (below 1: not every activation is
alive at once); it and the bytes per image pixel (the uint8 photo, the
float32 image and gradient buffer, an octave's base and detail, the
output) were fitted to six dreams from 1024x768 to 3840x2160 and checked
on others (benchmarks/RESULTS.md, issue 22). On a GPU the activations live in the
device's memory instead: there the same activation term is what the device
needs, untested until a GPU is lent (docs/backends-and-performance.md).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import time
import warnings
from pathlib import Path

import numpy as np

from deepdream.options import DreamOptions, EngineOptions, RenderOptions

# The memory model's constants (module docstring), measured on a CPU with TensorFlow.
ACTIVATION_FACTOR = 0.6
HOST_BYTES_PER_PIXEL = 20
HOST_BYTES_PER_PIXEL_OCTAVES = 50  # the host loop with several octaves: an octave's detail and its resizing too
DEVICE_BYTES_PER_PIXEL = 20
# Frames a video holds besides the one dreamed: those read ahead, with their optical flows, and those written behind.
VIDEO_FRAMES_IN_FLIGHT = 6
VIDEO_BYTES_PER_FRAME_PIXEL = 3 + 8 + 12  # uint8 frame, float32 (dy, dx) flow, float32 carried dream
PRECISION_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}
# The calibration's two square sides, and how many timed calls of each.
CALIBRATION_SIDES = (160, 320)
CALIBRATION_CALLS = 2
CALIBRATION_VERSION = 2
# The side of the square image the host loop's update is timed on.
HOST_CALIBRATION_SIDE = 1024
CALIBRATION_FILE = "plan_calibration.json"


@dataclasses.dataclass(frozen=True)
class Plan:
    """What a dream will do and what it is estimated to take, computed before it starts.

    Attributes:
        octaves: the octave sizes as `(width, height)`, smallest first.
        tiles: gradients per step of each octave (1: the image in one piece).
        tiled: whether each octave is tiled.
        device: the device the network runs on (`deepdream.hardware.device_name`).
        precision: the network's precision, `"auto"` resolved.
        peak_memory_bytes: the estimated peak resident memory of the process.
        seconds: the estimated time, or `None` for a plan without timing.
        runs: images, frames or renders the plan covers. Defaults to 1.
        frame_steps: steps on each frame after the first (video, zoom), or `None`.
        loop: `"device"` (each octave one program) or `"host"` (the host tiled loop).
    """

    octaves: tuple[tuple[int, int], ...]
    tiles: tuple[int, ...]
    tiled: tuple[bool, ...]
    device: str
    precision: str
    peak_memory_bytes: int
    seconds: float | None
    runs: int = 1
    frame_steps: int | None = None
    loop: str = "device"

    def as_dict(self) -> dict:
        """The plan as JSON-ready data: `octaves`, `tiles`, `device`, `precision`, `peak_memory_bytes`, `seconds`."""
        return dict(octaves=[list(size) for size in self.octaves], tiles=list(self.tiles), device=self.device,
                    precision=self.precision, peak_memory_bytes=int(self.peak_memory_bytes),
                    seconds=None if self.seconds is None else round(self.seconds, 1))

    def describe(self) -> str:
        """The plan for people, a few lines."""
        lines = [f"octaves: {', '.join(f'{w}x{h}' for w, h in self.octaves)}"]
        pieces = [f"{w}x{h} {'tiled, ' + str(n) + ' tiles' if tiled else 'whole'}"
                  for (w, h), n, tiled in zip(self.octaves, self.tiles, self.tiled)]
        lines.append(f"pieces per step ({self.loop} loop): {'; '.join(pieces)}")
        if self.frame_steps is not None and self.runs > 1:
            lines.append(f"frames: {self.runs} (the first dreamed in octaves, then {self.frame_steps} steps a frame)")
        elif self.runs > 1:
            lines.append(f"renders: {self.runs}")
        lines.append(f"device: {self.device}, precision {self.precision}")
        lines.append(f"estimated peak memory: {format_bytes(self.peak_memory_bytes)}")
        if self.seconds is not None:
            lines.append(f"estimated time: {format_seconds(self.seconds)}")
        return "\n".join(lines)


def plan_dream(engine: EngineOptions, dream: DreamOptions, height: int, width: int, *, frames: int = 1,
               frame_steps: int | None = None, dreamer=None, timed: bool = True, cache_dir=None,
               startup_seconds: float = 0.0) -> Plan:
    """The plan of a dream of an image of `height` x `width` (after `max_side`), or of a video or zoom.

    Args:
        engine, dream: the job's options.
        height, width: the input's size; `engine.max_side` is applied here.
        frames: the frames of a video or zoom (1: a still). Defaults to 1.
        frame_steps: steps on each frame after the first. Defaults to `None`
            (required with `frames > 1`).
        dreamer: the `DeepDream` the job will use; built from `engine` when `None`.
        timed: estimate the time (calibrating on first use); `False` plans
            the memory only, e.g. for the memory guard. Defaults to `True`.
        cache_dir: where the calibration is cached. Defaults to `default_cache_dir()`.
        startup_seconds: added to the time: the process's start and the
            network's build, where the caller has measured it. Defaults to 0.

    Returns:
        A `Plan`.
    """
    from deepdream import hardware, jobs

    if frames > 1 and frame_steps is None:
        raise ValueError(f"`frame_steps` is needed with `frames` above 1. Received: frames={frames}")
    height, width = jobs.fitted_size(height, width, engine.max_side)
    dreamer = dreamer or jobs.build_engine(engine)
    shapes = _octave_shapes(height, width, dream.octaves, dream.octave_scale)
    on_device = dreamer.runs_on_device(height, width)
    tiles = [dreamer.ascent.step_tiles(h, w, on_device) for h, w in shapes]
    pieces = [_piece_pixels(dreamer, h, w, n) for (h, w), n in zip(shapes, tiles)]
    peak = _peak_bytes(dreamer, max(pieces), height * width, on_device, len(shapes))
    if frames > 1:
        peak += VIDEO_FRAMES_IN_FLIGHT * VIDEO_BYTES_PER_FRAME_PIXEL * height * width
    seconds = None
    if timed:
        rates = calibration(dreamer, engine, cache_dir)
        calls = [dream.steps * n for n in tiles]
        seconds = startup_seconds + rates["compile_seconds"] * _compiles(shapes, tiles, on_device)
        seconds += sum(_step_seconds(rates, c, p) for c, p in zip(calls, pieces))
        seconds += (frames - 1) * _step_seconds(rates, (frame_steps or 0) * tiles[-1], pieces[-1])
        if not on_device:  # the host loop updates the image on the host after each step's gradient
            host_steps = sum(dream.steps * h * w for h, w in shapes) + (frames - 1) * (frame_steps or 0) * height * width
            seconds += rates["host_pixel_seconds"] * host_steps
    return Plan(tuple((w, h) for h, w in shapes), tuple(tiles), tuple(n > 1 for n in tiles), hardware.device_name(),
                dreamer.precision, int(peak), seconds, frames, frame_steps if frames > 1 else None,
                "device" if on_device else "host")


def plan_render(engine: EngineOptions, dream: DreamOptions, render: RenderOptions, *, count: int = 1,
                batch: int = 1, renderer=None, timed: bool = True, cache_dir=None,
                startup_seconds: float = 0.0) -> Plan:
    """The plan of `count` renders from noise of `render.size`, pixel renders `batch` at a time.

    Pixel renders run `Renderer.render_batch`'s octaves (`batch` images a
    program, one at a time above the whole-image limit); Fourier renders
    one image at full size for `render.dream_for(dream).steps`.

    Args:
        engine, dream, render: the job's options (`render.channels`, when
            given, sets `count`).
        count: how many renders. Defaults to 1.
        batch: renders stepped together. Defaults to 1.
        renderer: the `Renderer` the job will use; built from `engine` when `None`.
        timed, cache_dir, startup_seconds: as in `plan_dream`.
    """
    from deepdream import hardware, jobs

    if batch < 1 or count < 1:
        raise ValueError(f"`count` and `batch` must be at least 1. Received: count={count}, batch={batch}")
    count = len(render.channels) if render.channels else count
    resolved = render.dream_for(dream)
    renderer = renderer or jobs.build_renderer(engine)
    dreamer = renderer.engine
    height, width = render.size
    if render.param == "fft":
        shapes, on_device, batch = [(height, width)], False, 1
    else:
        shapes = _octave_shapes(height, width, resolved.octaves, resolved.octave_scale)
        on_device = dreamer.runs_on_device(height, width)
        batch = min(batch, count) if on_device else 1
    tiles = [dreamer.ascent.step_tiles(h, w, on_device) for h, w in shapes]
    pieces = [_piece_pixels(dreamer, h, w, n) * batch for (h, w), n in zip(shapes, tiles)]
    peak = _peak_bytes(dreamer, max(pieces), batch * height * width, on_device, len(shapes))
    seconds = None
    if timed:
        rates = calibration(dreamer, engine, cache_dir)
        batches = math.ceil(count / batch)
        per_batch = sum(_step_seconds(rates, resolved.steps * n, p) for n, p in zip(tiles, pieces))
        seconds = startup_seconds + rates["compile_seconds"] * _compiles(shapes, tiles, on_device) + batches * per_batch
    return Plan(tuple((w, h) for h, w in shapes), tuple(tiles), tuple(n > 1 for n in tiles), hardware.device_name(),
                dreamer.precision, int(peak), seconds, count, None, "device" if on_device else "host")


def calibration(dreamer, engine: EngineOptions, cache_dir=None) -> dict:
    """This device's cost of the engine's gradient and of the host loop's update (`measure_gradient_cost`).

    Read from the cache when this backend, device, network and precision
    were timed before; else measured (a few seconds) and cached.
    """
    path = Path(cache_dir or default_cache_dir()) / CALIBRATION_FILE
    key = calibration_key(dreamer, engine)
    cached = _read_json(path)
    if key in cached:
        return cached[key]
    rates = measure_gradient_cost(dreamer)
    cached = _read_json(path)  # another process may have written meanwhile
    cached[key] = rates
    _write_json(path, cached)
    return rates


def measure_gradient_cost(dreamer) -> dict:
    """Times the engine's compiled gradient (its first call, the compile, and warm calls at two sizes) and the host update.

    Returns `{"call_seconds", "pixel_seconds", "compile_seconds",
    "host_pixel_seconds"}`: a call on an image of P pixels takes
    `call_seconds + pixel_seconds * P`; the host loop's update of a step
    `host_pixel_seconds` a pixel of the image.
    """
    import keras

    gradient = dreamer.ascent.compiled_gradient
    rng = np.random.default_rng(0)

    def timed_call(side: int) -> float:
        image = keras.ops.convert_to_tensor(rng.uniform(-1, 1, (1, side, side, 3)).astype("float32"))
        start = time.perf_counter()
        keras.ops.convert_to_numpy(gradient(image)[1])
        return time.perf_counter() - start

    first = timed_call(CALIBRATION_SIDES[0])
    times = []
    for side in CALIBRATION_SIDES:
        timed_call(side)  # JAX compiles each shape; a warm-up elsewhere
        times.append(min(timed_call(side) for _ in range(CALIBRATION_CALLS)))
    small, large = (side * side for side in CALIBRATION_SIDES)
    pixel = max((times[1] - times[0]) / (large - small), 1e-12)
    call = max(times[0] - pixel * small, 0.0)
    return dict(call_seconds=call, pixel_seconds=pixel, compile_seconds=max(first - times[0], 0.0),
                host_pixel_seconds=_host_update_seconds() / HOST_CALIBRATION_SIDE**2)


def _host_update_seconds() -> float:
    """The host loop's update of a step (`ascend_in_place`) on a `HOST_CALIBRATION_SIDE` square, best of two."""
    from deepdream.ascent_step import ascend_in_place

    rng = np.random.default_rng(0)
    image = rng.uniform(-1, 1, (HOST_CALIBRATION_SIDE, HOST_CALIBRATION_SIDE, 3)).astype("float32")
    gradient = rng.standard_normal(image.shape).astype("float32")
    best = math.inf
    for _ in range(2):
        start = time.perf_counter()
        ascend_in_place(image, gradient, 0.01, False)
        best = min(best, time.perf_counter() - start)
    return best


def calibration_key(dreamer, engine: EngineOptions) -> str:
    """What the calibration depends on: the backend, the device, the network's layers, guide and weights, the precision."""
    import keras

    from deepdream import hardware

    weights = engine.weights
    if weights not in (None, "imagenet") and Path(weights).is_file():
        stat = Path(weights).stat()
        weights = f"{Path(weights).resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    identity = dict(version=CALIBRATION_VERSION, backend=keras.backend.backend(), device=hardware.device_name(),
                    layers=sorted({term.layer for term in dreamer.terms}), guide=dreamer.guide_features is not None,
                    weights=weights, precision=dreamer.precision)
    text = json.dumps(identity, sort_keys=True)
    return f"{identity['backend']}/{identity['precision']}/{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def default_cache_dir() -> Path:
    """Where plans cache their calibration: `deepdream/` in Keras's home (`$KERAS_HOME`, else `~/.keras`)."""
    from inception_keras.files import keras_home

    return keras_home() / "deepdream"


def activations_per_pixel(extractor) -> float:
    """Activations per input pixel of every layer of `extractor` (the network up to its deepest output), summed.

    From the layers' output shapes for a 512-pixel square input, worked
    out symbolically (nothing runs).
    """
    import keras

    side = 512
    layers = [layer for layer in extractor.layers if not isinstance(layer, keras.layers.InputLayer)]
    model = keras.Model(extractor.inputs, [layer.output for layer in layers])
    specs = model.compute_output_spec(keras.KerasTensor((1, side, side, 3)))
    return sum(int(np.prod(spec.shape[1:])) for spec in specs) / (side * side)


def available_memory_bytes() -> int | None:
    """The memory this process can reach: its resident memory plus the system's available memory.

    On Linux `/proc/meminfo`'s `MemAvailable` (what can be allocated without
    swapping), else `os.sysconf`'s free pages; `None` where neither is
    known. On a GPU the activations would be checked against the device's
    free memory (`torch.cuda.mem_get_info`, JAX's `memory_stats()`,
    TensorFlow's `get_memory_info`): not done yet, as no GPU was lent.
    """
    available = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError, IndexError):
        pass
    if available is None:
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    return available + resident_bytes()


def memory_problem(plan: Plan, available: int | None = None) -> str | None:
    """One line when the plan's peak exceeds the memory available (`available_memory_bytes()`), else `None`."""
    available = available_memory_bytes() if available is None else available
    if available is None or plan.peak_memory_bytes <= available:
        return None
    return (f"this dream needs about {format_bytes(plan.peak_memory_bytes)} of memory at its peak and "
            f"{format_bytes(available)} is available; lower --max-side or --tile-size, or add --force to run it "
            "anyway")


def resident_bytes() -> int:
    """This process's resident memory now (`VmRSS`), or 0 where /proc does not tell it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def process_age_seconds() -> float:
    """Seconds since this process started (Linux `/proc`), or 0 where it is not known."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


def format_bytes(count: int) -> str:
    """`1.46 GiB`, `310 MiB`."""
    return f"{count / 2**30:.2f} GiB" if count >= 2**30 else f"{count / 2**20:.0f} MiB"


def format_seconds(seconds: float) -> str:
    """`42 s`, `3 min 5 s`, `2 h 10 min`."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _octave_shapes(height: int, width: int, octaves: int, octave_scale: float) -> list[tuple[int, int]]:
    """The engine's octave shapes (`deepdream.octaves.octave_shapes`), its warning left to the dream."""
    from deepdream.octaves import octave_shapes
    from inception_keras.inception_v3 import MIN_INPUT_SIZE

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return octave_shapes(height, width, octaves, octave_scale, MIN_INPUT_SIZE)


def _piece_pixels(dreamer, height: int, width: int, tiles: int) -> int:
    """Pixels of the piece a gradient takes: the whole image, or one tile."""
    return height * width if tiles == 1 else dreamer.tile_size ** 2


def _peak_bytes(dreamer, piece_pixels: int, image_pixels: int, on_device: bool, octaves: int) -> int:
    """The memory model of the module docstring."""
    activation_bytes = (ACTIVATION_FACTOR * piece_pixels * activations_per_pixel(dreamer.extractor)
                        * PRECISION_BYTES[dreamer.precision])
    per_pixel = DEVICE_BYTES_PER_PIXEL if on_device else (
        HOST_BYTES_PER_PIXEL_OCTAVES if octaves > 1 else HOST_BYTES_PER_PIXEL)
    return int(resident_bytes() + activation_bytes + per_pixel * image_pixels)


def _step_seconds(rates: dict, calls: int, piece_pixels: int) -> float:
    return calls * (rates["call_seconds"] + rates["pixel_seconds"] * piece_pixels)


def _compiles(shapes, tiles, on_device: bool) -> int:
    """How many compiles the dream pays: one per octave program, else one gradient (one per piece shape on JAX)."""
    from deepdream import gradients

    if on_device:
        return len(set(shapes))
    if gradients.supports_any_shape():
        return 1
    return len({shape if n == 1 else "tile" for shape, n in zip(shapes, tiles)})


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: dict) -> None:
    from inception_keras.files import atomic_path

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temp:
        temp.write_text(json.dumps(data, indent=1, sort_keys=True))
