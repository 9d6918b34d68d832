"""The octave schedule: image sizes from the smallest to the original, and a dream's walk through them.

`octave_shapes` gives the sizes. `dream_octaves` dreams each octave from
the photo at that size plus the detail the smaller octaves dreamed, on a
`deepdream.octave_ascent.OctaveAscent`: on the device (the photo goes in
once, each octave one program, the dream and the losses out once) or on
the host (in place on NumPy buffers: the image, one gradient buffer and
one tile at a time). `refine_octave` is one octave at the image's own
size, from a float image (a video or zoom frame).
"""

from __future__ import annotations

import warnings
from typing import Callable

import keras
import numpy as np

from deepdream import ascent
from deepdream.octave_ascent import OctaveAscent


def octave_shapes(height: int, width: int, octaves: int, octave_scale: float,
                  min_size: int = 75) -> list[tuple[int, int]]:
    """Returns `octaves` shapes, smallest first, the last being `(height, width)`.

    Each shape is the next one divided by `octave_scale`. The count is capped
    (with a warning) so the smallest side stays at least `min_size`, the
    smallest input Inception-v3 accepts.

    Raises:
        ValueError: `octaves < 1`, `octave_scale <= 1`, or an image smaller
            than `min_size`.
    """
    if octaves < 1:
        raise ValueError(f"`octaves` must be at least 1. Received: octaves={octaves}")
    if not octave_scale > 1.0:
        raise ValueError(f"`octave_scale` must be above 1. Received: octave_scale={octave_scale}")
    if min(height, width) < min_size:
        raise ValueError(
            f"The image is {width}x{height}; both sides must be at least {min_size} pixels."
        )
    shapes = []
    for level in range(octaves):
        shape = (round(height / octave_scale**level), round(width / octave_scale**level))
        if min(shape) < min_size:
            warnings.warn(
                f"Using {level} octaves instead of {octaves}: a smaller octave would be "
                f"below the model's minimum size of {min_size} pixels.",
                stacklevel=2,
            )
            break
        shapes.append(shape)
    return shapes[::-1]


class _StepCounter:
    """Counts the steps of all octaves and reports each to an `on_step(done, total, loss)` callback."""

    def __init__(self, total: int, on_step: Callable[[int, int, float], None] | None):
        self.total, self.done, self.on_step = total, 0, on_step

    def step(self, loss: float) -> None:
        self.done += 1
        if self.on_step is not None:
            self.on_step(self.done, self.total, loss)

    def callback(self) -> Callable[[float], None] | None:
        """`step` where there is an `on_step` to report to, else `None` (the losses may stay on the device)."""
        return None if self.on_step is None else self.step


def dream_octaves(octave_ascent: OctaveAscent, image: np.ndarray, shapes: list[tuple[int, int]], steps: int,
                  step_size: float, jitter: int, lapnorm: bool, rng: np.random.RandomState,
                  on_step: Callable[[int, int, float], None] | None = None,
                  on_octave: Callable[[int, int, float], None] | None = None,
                  on_image: Callable[[np.ndarray], None] | None = None) -> np.ndarray:
    """Dreams the `(H, W, 3)` uint8 `image` octave by octave through `shapes`; returns the uint8 dream.

    The arguments are `DeepDream.dream`'s, checked already; `shapes` from
    `octave_shapes`, the last the image's own.
    """
    counter = _StepCounter(len(shapes) * steps, on_step)
    if octave_ascent.runs_on_device(*image.shape[:2]):
        return _dream_on_device(octave_ascent, image, shapes, steps, step_size, jitter, lapnorm, rng, counter,
                                on_octave, on_image)
    detail = None
    for index, shape in enumerate(shapes):
        dreamed = _octave_base(image, shape)
        if detail is not None:
            dreamed += _resized(detail, shape)
            detail = None
        losses = octave_ascent.run_on_host(dreamed, ascent.draw_shifts(rng, steps, jitter), step_size, lapnorm,
                                           counter.callback())
        if on_image is not None:
            on_image(np.clip((dreamed + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8))
        if index + 1 < len(shapes):
            dreamed -= _octave_base(image, shape)  # the base is recomputed, not kept
            detail = dreamed
        if on_octave is not None:
            on_octave(index, len(shapes), float(np.mean(losses)) if len(losses) else 0.0)
    # In place: (x + 1) * 127.5 + 0.5, clipped to 0..255, truncated to uint8.
    dreamed += 1.0
    dreamed *= 127.5
    dreamed += 0.5
    np.clip(dreamed, 0, 255, out=dreamed)
    return dreamed.astype(np.uint8)


def _dream_on_device(octave_ascent, image, shapes, steps, step_size, jitter, lapnorm, rng, counter, on_octave,
                     on_image):
    """`dream_octaves` with every octave one program on the device.

    The photo goes in once and each octave's rolls once; the dream and the
    losses come out with one transfer, unless `on_step` (then each chunk
    of steps) or `on_octave` (then each octave) asks for losses sooner.
    """
    shifts = [ascent.draw_shifts(rng, steps, jitter) for _ in shapes]
    original = octave_ascent.to_unit(ascent.to_device(image))
    detail = dreamed = None
    octave_losses = []
    for index, shape in enumerate(shapes):
        dreamed = octave_ascent.octave_start(original, detail, tuple(shape))
        dreamed, losses = octave_ascent.run_on_device(dreamed, shifts[index], step_size, lapnorm,
                                                      counter.callback(), on_image)
        if index + 1 < len(shapes):
            detail = octave_ascent.octave_detail(original, dreamed, tuple(shape))
        if on_octave is not None:
            losses = ascent.to_host(losses)
            on_octave(index, len(shapes), float(np.mean(losses)) if len(losses) else 0.0)
        octave_losses.append(losses)
    dreamed, _ = ascent.to_host((octave_ascent.to_uint8(dreamed), octave_losses))
    return dreamed


def refine_octave(octave_ascent: OctaveAscent, image, steps: int, step_size: float, jitter: int, lapnorm: bool,
           rng: np.random.RandomState):
    """`steps` of ascent from the `(H, W, 3)` float `image` in 0..255 at its own size; returns it in 0..255.

    The arguments are `DeepDream.refine`'s, checked already: a NumPy
    `image` gives a NumPy array, a backend tensor a backend tensor.
    """
    on_device = not isinstance(image, np.ndarray)
    shifts = ascent.draw_shifts(rng, steps, jitter)
    if octave_ascent.runs_on_device(*image.shape[:2]):
        pixels = octave_ascent.to_unit(image if on_device else ascent.to_device(image))
        pixels, _ = octave_ascent.run_on_device(pixels, shifts, step_size, lapnorm)  # the losses stay there
        pixels = octave_ascent.to_pixels(pixels)
        return pixels if on_device else ascent.to_host(pixels)
    if on_device:
        image = keras.ops.convert_to_numpy(image)
    pixels = _unit_range(image)
    octave_ascent.run_on_host(pixels, shifts, step_size, lapnorm)
    pixels += 1.0
    pixels *= 127.5
    return keras.ops.convert_to_tensor(pixels) if on_device else pixels


def _octave_base(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The uint8 `image` in [-1, 1] at `shape`, as a fresh writable float32 `(h, w, 3)` array."""
    pixels = _unit_range(image)
    if tuple(shape) == image.shape[:2]:
        return pixels
    resized = keras.ops.image.resize(pixels[None], shape, interpolation="bilinear", antialias=True)
    del pixels
    return _writable(resized)


def _unit_range(image: np.ndarray) -> np.ndarray:
    """0..255 pixels as a fresh float32 array in [-1, 1], converted in place."""
    pixels = image.astype(np.float32)
    pixels /= 127.5
    pixels -= 1.0
    return pixels


def _resized(array: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A float32 `(h, w, 3)` array resized bilinearly to `shape`."""
    return _writable(keras.ops.image.resize(array[None], shape, interpolation="bilinear"))


def _writable(tensor) -> np.ndarray:
    return np.require(keras.ops.convert_to_numpy(tensor)[0], np.float32, ["C", "W"])
