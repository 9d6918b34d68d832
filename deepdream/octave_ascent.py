"""How an engine ascends one octave: its compiled gradient, its octave programs, and where they run.

`OctaveAscent` is built from a feature extractor and an objective
(`deepdream.engine.DeepDream` builds one) with the choices that stay fixed
for its life: the tile size, the whole-image limit, whether octaves run the
device loop (`device_loop`) and, above the limit, whether they are tiled
inside the device program or by the host tiled loop (`device_tiles`).
`with_options` gives another ascent of the same objective.

It compiles the gradient once (`deepdream.gradients`), each octave program
on first use (`deepdream.ascent.octave_program`, tiled on the device by
`deepdream.device_tiles` above the limit) and the conversions between
octaves; the octave schedule (`deepdream.octaves`) runs them. The device
loop, the host tiled loop (`deepdream.ascent.host_ascent` with
`deepdream.tiling.tile_grid_gradient`) and the general loop over
parameterisations (`ascend`) all take the same step (`deepdream.ascent_step`).
"""

from __future__ import annotations

from typing import Callable

import keras
import numpy as np

from deepdream import ascent, device_tiles, gradients, hardware, normalization, tiling, transforms
from deepdream.parameterization import PixelImage
from inception_keras.inception_v3 import MIN_INPUT_SIZE

# Pixels dropped from each side of a tile: the cores, `tile_size - 2 * TILE_MARGIN` square, cover the image.
TILE_MARGIN = 32


def check_tile_size(tile_size: int) -> None:
    """Raises a `ValueError` unless a tile's core is at least the network's smallest input."""
    if tile_size < MIN_INPUT_SIZE + 2 * TILE_MARGIN:
        raise ValueError(
            f"`tile_size` must be at least {MIN_INPUT_SIZE + 2 * TILE_MARGIN}. Received: tile_size={tile_size}"
        )


class OctaveAscent:
    """An objective's compiled gradient and octave programs, and the loop each image size runs.

    Args:
        extractor: maps an `(N, H, W, 3)` image batch to a dict of activations.
        objective: maps that dict to a scalar float32 loss.
        tile_size: side of the square tiles, margins included.
        whole_image_pixels: images up to this size are processed in one
            piece (the gradient of the host loop on TensorFlow and torch, or
            any backend on a GPU; the device loop's program on every backend).
        device_loop: run octaves as compiled programs on the device (the
            image stays a backend tensor); `False` runs every octave on the
            host loop, as before the device loop (benchmarks compare the two).
            Defaults to `True`.
        device_tiles: images above `whole_image_pixels` are tiled inside the
            device program (`True`) or by the host tiled loop (`False`);
            `None` picks per device (`deepdream.hardware.default_device_tiles`,
            asked each time). Defaults to `None`.
    """

    def __init__(self, extractor: keras.Model, objective: Callable, tile_size: int, whole_image_pixels: int,
                 device_loop: bool = True, device_tiles: bool | None = None):
        check_tile_size(tile_size)
        self._extractor, self._objective = extractor, objective
        self._options = dict(tile_size=tile_size, whole_image_pixels=whole_image_pixels, device_loop=device_loop,
                             device_tiles=device_tiles)
        self._trace_count = 0
        self._whole_any_shape = gradients.supports_any_shape() or hardware.has_gpu()
        self.compiled_gradient = gradients.compile_gradient(extractor, objective, self._count_trace)
        """`image -> (loss, d loss / d image)` of a `(1, H, W, 3)` image, compiled (JAX: once per shape)."""
        self.traceable_gradient = gradients.traceable_gradient(extractor, objective, self._count_trace)
        """`(gradient, weights)`: `gradient(image, weights)` to call inside a compiled program."""
        self._programs: dict[tuple[bool, bool], Callable] = {}  # by (tiled, lapnorm)
        # The conversions between octave programs, compiled too (`ascent.compiled`).
        self.to_unit = ascent.compiled(_to_unit)
        self.to_uint8 = ascent.compiled(_to_uint8)
        self.to_pixels = ascent.compiled(_to_pixels)
        self.octave_start = ascent.compiled(_octave_start, static_argnums=2)
        self.octave_detail = ascent.compiled(_octave_detail, static_argnums=2)

    @property
    def tile_size(self) -> int:
        """Side of the square tiles, margins included."""
        return self._options["tile_size"]

    @property
    def whole_image_pixels(self) -> int:
        """Images up to this many pixels are processed in one piece."""
        return self._options["whole_image_pixels"]

    @property
    def device_loop(self) -> bool:
        """Whether octaves run the device loop (within the limit, or tiled on the device)."""
        return self._options["device_loop"]

    @property
    def device_tiles(self) -> bool | None:
        """Tiles on the device (`True`), on the host (`False`), or picked per device (`None`)."""
        return self._options["device_tiles"]

    @property
    def trace_count(self) -> int:
        """How many times a gradient was traced (torch: once, on the first call)."""
        return self._trace_count

    def with_options(self, **changes) -> "OctaveAscent":
        """An ascent of the same objective with some choices changed, compiled anew (on first use).

        `changes` are any of the constructor's `tile_size`,
        `whole_image_pixels`, `device_loop` and `device_tiles`.
        """
        return OctaveAscent(self._extractor, self._objective, **dict(self._options, **changes))

    def for_objective(self, extractor: keras.Model, objective: Callable) -> "OctaveAscent":
        """An ascent of another objective with this one's tiles and loops."""
        return OctaveAscent(extractor, objective, **self._options)

    def runs_on_device(self, height: int, width: int) -> bool:
        """Whether an image of this size runs the device loop (else the host loop)."""
        if not self.device_loop:
            return False
        if height * width <= self.whole_image_pixels:
            return True
        return hardware.default_device_tiles() if self.device_tiles is None else self.device_tiles

    def step_tiles(self, height: int, width: int, on_device: bool) -> int:
        """The gradients a step of an image of this size takes: 1 in one piece, else its tile count.

        `on_device` says which loop runs it (`runs_on_device` of the dream's
        full size): the device program is whole up to `whole_image_pixels`,
        the host loop also needs a backend whose gradient takes any shape.
        """
        whole = self._is_whole_on_device(height, width) if on_device else self._is_whole(height, width)
        if whole:
            return 1
        core = self.tile_size - 2 * TILE_MARGIN
        return len(tiling.core_origins(height, core)) * len(tiling.core_origins(width, core))

    def octave_program(self, lapnorm: bool, shape: tuple[int, int]) -> Callable:
        """The device loop's program for images of `shape`: whole, or tiles on the device above the limit.

        `program(image, controls, step_size) -> (image, losses)`
        (`deepdream.ascent.octave_program`), built on first use.
        """
        tiled = not self._is_whole_on_device(*shape)
        if (tiled, lapnorm) not in self._programs:
            gradient, weights = self.traceable_gradient
            if tiled:
                gradient = device_tiles.tiled_gradient(gradient, self.tile_size, TILE_MARGIN)
            self._programs[tiled, lapnorm] = ascent.octave_program(gradient, weights, lapnorm)
        return self._programs[tiled, lapnorm]

    def programs_built(self) -> list[tuple[bool, bool]]:
        """`(tiled, lapnorm)` of each octave program built so far."""
        return sorted(self._programs)

    def run_on_device(self, image, shifts: np.ndarray, step_size: float, lapnorm: bool,
                      on_step: Callable[[float], None] | None = None,
                      on_image: Callable[[np.ndarray], None] | None = None):
        """One octave's device program on the `(N, h, w, 3)` device tensor `image`; returns `(image, losses)`.

        With `on_step` (called with each step's loss) or `on_image` (called
        with each chunk's image as uint8) it runs in chunks of about a
        second and the losses come back as NumPy; else in one call, the
        losses left on the device.
        """
        program = self.octave_program(lapnorm, tuple(image.shape[1:3]))
        if on_step is None and on_image is None:
            return program(image, ascent.octave_controls(shifts), step_size)
        return ascent.run_octave(
            program, image, shifts, step_size,
            None if on_step is None else lambda losses: [on_step(float(loss)) for loss in losses],
            None if on_image is None else lambda chunk: on_image(ascent.to_host(self.to_uint8(chunk))))

    def run_on_host(self, image: np.ndarray, shifts: np.ndarray, step_size: float, lapnorm: bool,
                    on_step: Callable[[float], None] | None = None) -> list[float]:
        """The host loop of one octave, in place on the `(H, W, 3)` float32 NumPy `image`; returns the losses.

        `deepdream.ascent.host_ascent` with this ascent's tiled gradient
        (`gradient_into`): the image, one gradient buffer and one tile at a
        time. Equal to the device loop and to `ascend(PixelImage(...), ...,
        transforms.jitter(jitter), mean_abs_normalize or laplacian_normalize,
        rng)` (the same random rolls) to float rounding.
        """
        return ascent.host_ascent(image, shifts, step_size, lapnorm, self.gradient_into, on_step)

    def gradient(self, image):
        """Returns `(loss, gradient)` of a `(1, H, W, 3)` float image, tiled as in a step of the host loop."""
        height, width = image.shape[1], image.shape[2]
        if self._is_whole(height, width):
            return self.compiled_gradient(image)
        return tiling.tiled_gradient(image, self.compiled_gradient, self.tile_size, TILE_MARGIN)

    def gradient_into(self, image: np.ndarray, shift: tuple[int, int], out: np.ndarray) -> float:
        """Writes the gradient of the `(H, W, 3)` `image` rolled by `shift` into `out`, rolled back; returns the loss."""
        height, width = image.shape[:2]
        if not self._is_whole(height, width):
            return tiling.tile_grid_gradient(image, self.compiled_gradient, self.tile_size, TILE_MARGIN, shift, out)
        rolled = np.roll(image, shift, axis=(0, 1)) if any(shift) else image
        loss, gradient = self.compiled_gradient(rolled[None])
        out[...] = np.roll(keras.ops.convert_to_numpy(gradient)[0], (-shift[0], -shift[1]), axis=(0, 1))
        return float(keras.ops.convert_to_numpy(loss))

    def ascend(self, parameters, steps: int, step_size: float, transform: Callable, normalize: Callable,
               rng: np.random.RandomState, on_step: Callable[[float], None] | None = None):
        """The general loop over any parameterisation: `steps` of normalised gradient ascent.

        Args:
            parameters: what is optimised (`deepdream.parameterization`);
                updated in place.
            steps: number of steps.
            step_size: length of a step for a normalised gradient.
            transform: `transform(image, rng) -> (image', untransform)`
                applied before each gradient (`deepdream.transforms`).
            normalize: gradient normalisation (`deepdream.normalization`).
            rng: the random state of the transforms.
            on_step: called with the loss after each step. Defaults to `None`.

        Returns:
            `(parameters, losses)`, the losses a `(steps,)` tensor.
        """
        losses = []
        for _ in range(steps):
            image, untransform = transform(parameters.image(), rng)
            loss, gradient = self.gradient(image)
            parameters.apply(step_size * normalize(parameters.pullback(untransform(gradient))))
            losses.append(loss)
            if on_step is not None:
                on_step(float(keras.ops.convert_to_numpy(loss)))
        return parameters, keras.ops.stack(losses) if losses else keras.ops.zeros((1,))

    def ascend_pixels(self, image, steps: int, step_size: float, jitter: int, lapnorm: bool,
                      rng: np.random.RandomState):
        """The pixel ascent of one octave on an `(N, H, W, 3)` tensor in [-1, 1]; returns `(image, losses)`.

        `ascend(PixelImage(image), steps, step_size, transforms.jitter(jitter),
        mean_abs_normalize or laplacian_normalize, rng)` to float rounding (the
        same random rolls), as one device program where the image runs on the
        device, else through `ascend`'s tiled gradient, which takes one image
        at a time (`N` = 1).
        """
        if self.runs_on_device(*image.shape[1:3]):
            image, losses = self.run_on_device(image, ascent.draw_shifts(rng, steps, jitter), step_size, lapnorm)
            return image, ascent.to_host(losses)
        if image.shape[0] != 1:
            raise ValueError(
                f"A batch of images ascends on the device only, up to {self.whole_image_pixels} pixels an image; "
                f"ascend these one at a time. Received: shape={tuple(image.shape)}"
            )
        normalize = normalization.laplacian_normalize if lapnorm else normalization.mean_abs_normalize
        parameters, losses = self.ascend(PixelImage(image), steps, step_size, transforms.jitter(jitter), normalize,
                                         rng)
        return parameters.image(), keras.ops.convert_to_numpy(losses)

    def _is_whole_on_device(self, height: int, width: int) -> bool:
        return height * width <= self.whole_image_pixels

    def _is_whole(self, height: int, width: int) -> bool:
        return self._whole_any_shape and height * width <= self.whole_image_pixels

    def _count_trace(self):
        self._trace_count += 1


def _octave_start(pixels, detail, shape: tuple[int, int]):
    """The `(1, h, w, 3)` start of an octave: `pixels` `(1, H, W, 3)` resized to `shape`, plus `detail` resized."""
    base = pixels if tuple(shape) == tuple(pixels.shape[1:3]) else keras.ops.image.resize(
        pixels, shape, interpolation="bilinear", antialias=True)
    if detail is None:
        return base
    return base + keras.ops.image.resize(detail, shape, interpolation="bilinear")


def _octave_detail(pixels, dreamed, shape: tuple[int, int]):
    """What an octave dreamed: `dreamed` less the photo `pixels` at the octave's `shape`."""
    return dreamed - _octave_start(pixels, None, shape)


def _to_unit(image):
    """An `(H, W, 3)` image in 0..255 as a `(1, H, W, 3)` float32 tensor in [-1, 1]."""
    return keras.ops.cast(image, "float32")[None] / 127.5 - 1.0


def _to_uint8(dreamed):
    """A `(1, H, W, 3)` dream in [-1, 1] as `(H, W, 3)` uint8, rounded."""
    return keras.ops.cast(keras.ops.clip((dreamed[0] + 1.0) * 127.5 + 0.5, 0, 255), "uint8")


def _to_pixels(dreamed):
    """A `(1, H, W, 3)` dream in [-1, 1] as `(H, W, 3)` float32 in 0..255."""
    return (dreamed[0] + 1.0) * 127.5
