"""The dream engine: octaves of jittered, tiled gradient ascent on Inception-v3 layers.

`DeepDream` builds the model (BatchNorm folded while building) and its
compiled gradient once and dreams any number of images of any size;
`dream()` is the one-call version.

Dreams and refinements of images up to the whole-image limit run on the
device, one compiled program per octave (`deepdream.ascent`). Larger ones are
tiled: on a GPU inside the same program (`deepdream.device_tiles`), on a CPU
by the host tiled loop in place on NumPy buffers: the image, one gradient
buffer and one tile at a time, the roll being an offset of the tile grid
(`deepdream.tiling`); `device_tiles` forces either. `ascend` is the general
loop over any parameterisation and transform.
"""

from __future__ import annotations

import copy
from typing import Callable

import keras
import numpy as np

from deepdream import ascent, device_tiles, gradients, hardware, tiling
from deepdream.objectives import LayerTerm, guide_loss, layer_loss, parse_layer_spec
from deepdream.octaves import octave_shapes
from inception_keras.inception_v3 import MIN_INPUT_SIZE, InceptionV3
from inception_keras.introspection import feature_extractor
from inception_keras.names import resolve_layer_name
from inception_keras.precision import dtype_policy

PRECISIONS = {"float32": None, "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}
DEFAULT_LAYERS = "mixed3:1.0,mixed5:1.5"
DEFAULT_TILE_SIZE = 512
TILE_MARGIN = 32


class DeepDream:
    """A reusable dreamer: the model and compiled gradient are built once.

    Args:
        layers: objective spec such as `"mixed4"` or `"mixed4:1.0,mixed5:1.5"`
            (aliases like `Mixed_6b` accepted), or a list of `LayerTerm`.
            Defaults to `"mixed3:1.0,mixed5:1.5"`.
        weights: `"imagenet"`, a weights file, or `None` (random, for tests).
            Defaults to `"imagenet"`.
        channel: maximise this single channel of each layer instead of the
            layer's whole activation energy. Defaults to `None`.
        guide: an `(H, W, 3)` uint8 guide image: each activation is pulled
            toward the guide feature it matches best. Defaults to `None`.
        tile_size: side of the square tiles that bound memory. Defaults to 512.
        whole_image_pixels: images up to this size are processed in one
            piece (TensorFlow backend, or any backend on a GPU). Defaults to
            `None`: 1280 * 1024 on a CPU, 3840 * 2160 on a GPU with room
            (`deepdream.hardware`). Larger images are tiled on the device
            or by the host loop as the attribute `device_tiles` says
            (`None`, the default, picks per device).
        precision: `"auto"`, `"float32"`, `"bfloat16"` or `"float16"`; the
            last two run the network in mixed precision while the image and
            loss stay float32; `"auto"` picks bfloat16 where the hardware
            runs it natively, else float32 (`deepdream.hardware`); bfloat16
            where it is emulated warns. Defaults to `"float32"`.
        fold_batch_norm: build the network with the frozen BatchNorm layers
            folded into the convolutions (no `{unit}_bn` layers; a
            `{unit}_conv` outputs the pre-activation). Defaults to `True`.
    """

    def __init__(self, layers: str | list[LayerTerm] = DEFAULT_LAYERS, weights="imagenet",
                 channel: int | None = None, guide: np.ndarray | None = None,
                 tile_size: int = DEFAULT_TILE_SIZE,
                 whole_image_pixels: int | None = None,
                 precision: str = "float32", fold_batch_norm: bool = True):
        if precision != "auto" and precision not in PRECISIONS:
            raise ValueError(
                f"`precision` must be one of auto, {', '.join(PRECISIONS)}. Received: {precision!r}"
            )
        if tile_size < MIN_INPUT_SIZE + 2 * TILE_MARGIN:
            raise ValueError(
                f"`tile_size` must be at least {MIN_INPUT_SIZE + 2 * TILE_MARGIN}. "
                f"Received: tile_size={tile_size}"
            )
        if isinstance(layers, str) or not all(isinstance(t, LayerTerm) for t in layers):
            terms = parse_layer_spec(layers)
        else:
            terms = list(layers)
        self.tile_size = tile_size
        self.whole_image_pixels = (
            hardware.default_whole_image_pixels() if whole_image_pixels is None else whole_image_pixels
        )
        self._whole_any_shape = gradients.supports_any_shape() or hardware.has_gpu()
        gradients.use_jax_compilation_cache()
        self.precision = hardware.resolve_precision(precision)
        self.trace_count = 0
        self.sample_terms: list[list[LayerTerm]] | None = None
        # False runs every octave on the host loop, as before the device loop (benchmarks compare the two).
        self.device_loop = True
        # Images above the whole-image limit: True tiles them inside the device program, False runs the
        # host tiled loop, None picks per device (`deepdream.hardware.default_device_tiles`).
        self.device_tiles: bool | None = None

        with dtype_policy(PRECISIONS[self.precision]):
            base = InceptionV3(include_top=False, weights=weights, input_shape=(None, None, 3),
                               fold_batch_norm=fold_batch_norm)
        self.terms = [self._validated(base, term, channel) for term in terms]
        self.extractor = feature_extractor(base, sorted({t.layer for t in self.terms}))
        self.guide_features = self._guide_features(guide) if guide is not None else None
        self._compile()

    def _compile(self) -> None:
        self._gradient = gradients.compile_gradient(self.extractor, self.objective, self._count_trace)
        self._traceable_gradient = gradients.traceable_gradient(self.extractor, self.objective, self._count_trace)
        self._programs: dict[bool, Callable] = {}  # by lapnorm: whole-image programs
        self._tiled_programs: dict[bool, Callable] = {}  # tiles on the device
        to_unit = lambda image: keras.ops.cast(image, "float32")[None] / 127.5 - 1.0  # noqa: E731
        self._octave_start = ascent.compiled(_octave_start, static_argnums=2)
        self._octave_detail = ascent.compiled(lambda unit, dreamed, shape: dreamed - _octave_start(
            unit, None, shape), static_argnums=2)
        self._to_unit = ascent.compiled(to_unit)
        self._to_uint8 = ascent.compiled(lambda dreamed: keras.ops.cast(
            keras.ops.clip((dreamed[0] + 1.0) * 127.5 + 0.5, 0, 255), "uint8"))
        self._to_pixels = ascent.compiled(lambda dreamed: (dreamed[0] + 1.0) * 127.5)

    def objective(self, features: dict):
        """The scalar float32 loss of a dict of activations.

        For a batch engine (`with_sample_terms`) the sum over samples of each
        sample's own terms, so each sample's gradient is its own objective's.
        """
        if self.sample_terms is not None:
            return sum(self._terms_loss({name: value[n: n + 1] for name, value in features.items()}, terms)
                       for n, terms in enumerate(self.sample_terms))
        return self._terms_loss(features, self.terms)

    def _terms_loss(self, features: dict, terms: list[LayerTerm]):
        total = 0.0
        for term in terms:
            activation = features[term.layer]
            if self.guide_features is not None:
                total = total + term.weight * guide_loss(activation, self.guide_features[term.layer])
            else:
                total = total + layer_loss(activation, term)
        return total

    def dream(self, image: np.ndarray, octaves: int = 4, octave_scale: float = 1.4,
              steps: int = 20, step_size: float = 0.01, jitter: int = 32,
              lapnorm: bool = False, seed: int | None = 0,
              on_octave: Callable[[int, int, float], None] | None = None,
              on_step: Callable[[int, int, float], None] | None = None,
              on_image: Callable[[np.ndarray], None] | None = None) -> np.ndarray:
        """Dreams on one image.

        Args:
            image: `(H, W, 3)` uint8 RGB.
            octaves: number of scales, smallest first; capped so the smallest
                is at least 75 pixels. Defaults to 4.
            octave_scale: size ratio between octaves. Defaults to 1.4.
            steps: gradient-ascent steps per octave. Defaults to 20.
            step_size: step length in [-1, 1] pixel units for a gradient of
                mean magnitude 1. Defaults to 0.01.
            jitter: random roll of up to this many pixels per step. Defaults to 32.
            lapnorm: Laplacian-pyramid gradient normalisation instead of
                mean-abs. Defaults to `False`.
            seed: seed of the random rolls; the same seed gives the same
                output on the same machine and backend. Defaults to 0.
            on_octave: called as `on_octave(index, count, loss)` after each octave.
            on_step: called as `on_step(done, total, loss)` after each step,
                `total` counting the steps of all octaves.
            on_image: called with the dream so far, an `(h, w, 3)` uint8
                array at the octave's size, after each chunk of steps of
                the device loop (about once a second) and at the end of
                each octave: what a page shows as the dream grows.
                Defaults to `None`.

        Returns:
            The dream, an `(H, W, 3)` uint8 array of the input's size.
        """
        image = _validated_image(image)
        _validate_numbers(steps=steps, step_size=step_size, jitter=jitter)
        shapes = octave_shapes(image.shape[0], image.shape[1], octaves, octave_scale, MIN_INPUT_SIZE)
        rng = np.random.RandomState(seed)
        counter = _StepCounter(len(shapes) * steps, on_step)
        if self.runs_on_device(*image.shape[:2]):
            return self._dream_on_device(image, shapes, steps, step_size, jitter, lapnorm, rng, counter, on_octave,
                                         on_image)
        detail = None
        for index, shape in enumerate(shapes):
            dreamed = _octave_base(image, shape)
            if detail is not None:
                dreamed += _resized(detail, shape)
                detail = None
            losses = self._ascend_pixels(dreamed, steps, step_size, jitter, lapnorm, rng, counter)
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

    def _dream_on_device(self, image, shapes, steps, step_size, jitter, lapnorm, rng, counter, on_octave,
                         on_image=None):
        """`dream` with every octave one program on the device.

        The photo goes in once and each octave's rolls once; the dream and the
        losses come out with one transfer, unless `on_step` (then each chunk
        of steps) or `on_octave` (then each octave) asks for losses sooner.
        """
        shifts = [ascent.draw_shifts(rng, steps, jitter) for _ in shapes]
        original = self._to_unit(ascent.to_device(image))
        detail = dreamed = None
        octave_losses = []
        for index, shape in enumerate(shapes):
            dreamed = self._octave_start(original, detail, tuple(shape))
            dreamed, losses = self._run_octave(dreamed, shifts[index], step_size, lapnorm, counter, on_image)
            if index + 1 < len(shapes):
                detail = self._octave_detail(original, dreamed, tuple(shape))
            if on_octave is not None:
                losses = ascent.to_host(losses)
                on_octave(index, len(shapes), float(np.mean(losses)) if len(losses) else 0.0)
            octave_losses.append(losses)
        dreamed, _ = ascent.to_host((self._to_uint8(dreamed), octave_losses))
        return dreamed

    def _program(self, lapnorm: bool, shape: tuple[int, int]) -> Callable:
        """The octave program for images of `shape`: the whole-image gradient, or tiles on the device above it."""
        tiled = shape[0] * shape[1] > self.whole_image_pixels
        programs = self._tiled_programs if tiled else self._programs
        if lapnorm not in programs:
            gradient, weights = self._traceable_gradient
            if tiled:
                gradient = device_tiles.tiled_gradient(gradient, self.tile_size, TILE_MARGIN)
            programs[lapnorm] = ascent.octave_program(gradient, weights, lapnorm)
        return programs[lapnorm]

    def ascend_pixels(self, image, steps: int, step_size: float, jitter: int, lapnorm: bool,
                      rng: np.random.RandomState):
        """The pixel ascent of one octave on an `(N, H, W, 3)` tensor in [-1, 1]; returns `(image, losses)`.

        `ascend(PixelImage(image), steps, step_size, transforms.jitter(jitter),
        mean_abs_normalize or laplacian_normalize, rng)` to float rounding (the
        same random rolls), as one device program where the image is within
        the whole-image limit, else through `ascend`'s tiled gradient, which
        takes one image at a time (`N` = 1).
        """
        if self.runs_on_device(*image.shape[1:3]):
            image, losses = self._run_octave(image, ascent.draw_shifts(rng, steps, jitter), step_size, lapnorm,
                                             _StepCounter(steps, None))
            return image, ascent.to_host(losses)
        if image.shape[0] != 1:
            raise ValueError(
                f"A batch of images ascends on the device only, up to {self.whole_image_pixels} pixels an image; "
                f"ascend these one at a time. Received: shape={tuple(image.shape)}"
            )
        from deepdream import normalization, transforms
        from deepdream.parameterization import PixelImage

        normalize = normalization.laplacian_normalize if lapnorm else normalization.mean_abs_normalize
        parameters, losses = self.ascend(PixelImage(image), steps, step_size, transforms.jitter(jitter), normalize,
                                         rng)
        return parameters.image(), keras.ops.convert_to_numpy(losses)

    def _run_octave(self, image, shifts, step_size, lapnorm, counter, on_image=None):
        """One octave's device program on the `(N, h, w, 3)` device tensor `image`; returns `(image, losses)`.

        With `counter.on_step` or `on_image` it runs in chunks, and the losses
        come back as NumPy with each chunk (each chunk's image as uint8 for
        `on_image`); else in one call, the losses left on the device.
        """
        program = self._program(lapnorm, tuple(image.shape[1:3]))
        if counter.on_step is not None or on_image is not None:
            return ascent.run_octave(program, image, shifts, step_size,
                                     lambda losses: [counter.step(float(loss)) for loss in losses],
                                     None if on_image is None else lambda chunk: on_image(
                                         ascent.to_host(self._to_uint8(chunk))))
        counter.done += len(shifts)
        return program(image, ascent.octave_controls(shifts), step_size)

    def runs_on_device(self, height: int, width: int) -> bool:
        """Whether an image of this size runs the device loop (else the host tiled loop)."""
        if not self.device_loop:
            return False
        if height * width <= self.whole_image_pixels:
            return True
        return hardware.default_device_tiles() if self.device_tiles is None else self.device_tiles

    def gradient(self, image):
        """Returns `(loss, gradient)` of a `(1, H, W, 3)` float image, tiled as in a step."""
        height, width = image.shape[1], image.shape[2]
        if self._is_whole(height, width):
            return self._gradient(image)
        return tiling.tiled_gradient(image, self._gradient, self.tile_size, TILE_MARGIN)

    def refine(self, image: np.ndarray, steps: int = 5, step_size: float = 0.01, jitter: int = 32,
               lapnorm: bool = False, seed: int | None = 0) -> np.ndarray:
        """Continues a dream at one scale: `steps` of ascent from `image`, no octaves.

        Video and zoom frames start from a float image (a frame plus a carried
        dream residual) and need only a short ascent at full size.

        Args:
            image: `(H, W, 3)` RGB, uint8 or float in 0..255: a NumPy array
                or a tensor of the Keras backend (a frame already on the device).
            steps: gradient-ascent steps. Defaults to 5.
            step_size, jitter, lapnorm, seed: as in `dream`.

        Returns:
            The refined image, `(H, W, 3)` float32 in 0..255: a NumPy array
            for a NumPy `image`, a backend tensor for a backend tensor.
        """
        on_device = _is_backend_tensor(image)
        if not on_device:
            image = np.asarray(image)
        if len(image.shape) != 3 or image.shape[2] != 3:
            raise ValueError(f"The image must be (H, W, 3) RGB. Received: shape={tuple(image.shape)}")
        _validate_numbers(steps=steps, step_size=step_size, jitter=jitter)
        rng = np.random.RandomState(seed)
        if self.runs_on_device(*image.shape[:2]):
            pixels = self._to_unit(image if on_device else ascent.to_device(image))
            pixels, _ = self._run_octave(pixels, ascent.draw_shifts(rng, steps, jitter), step_size, lapnorm,
                                         _StepCounter(steps, None))  # the losses stay on the device
            pixels = self._to_pixels(pixels)
            return pixels if on_device else ascent.to_host(pixels)
        if on_device:
            image = keras.ops.convert_to_numpy(image)
        pixels = _unit_range(image)
        self._ascend_pixels(pixels, steps, step_size, jitter, lapnorm, rng, _StepCounter(steps, None))
        pixels += 1.0
        pixels *= 127.5
        return keras.ops.convert_to_tensor(pixels) if on_device else pixels

    def ascend(self, parameters, steps: int, step_size: float, transform: Callable,
               normalize: Callable, rng: np.random.RandomState,
               on_step: Callable[[float], None] | None = None):
        """The one ascent loop every mode uses: `steps` of normalised gradient ascent.

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

    def _ascend_pixels(self, image: np.ndarray, steps: int, step_size: float, jitter: int,
                       lapnorm: bool, rng: np.random.RandomState, counter: "_StepCounter") -> np.ndarray:
        """The host loop of one octave, in place on the `(H, W, 3)` float32 NumPy `image`; returns the losses.

        `deepdream.ascent.host_ascent` with this engine's tiled gradient: the
        image, one gradient buffer and one tile at a time. Equal to
        `ascend(PixelImage(...), ..., transforms.jitter(jitter),
        mean_abs_normalize or laplacian_normalize, rng)` (the same random
        rolls) to float rounding, as is the device loop.
        """
        shifts = ascent.draw_shifts(rng, steps, jitter)
        return np.asarray(ascent.host_ascent(image, shifts, step_size, lapnorm, self._gradient_into, counter.step))

    def _gradient_into(self, image: np.ndarray, shift: tuple[int, int], out: np.ndarray) -> float:
        """Writes the gradient of `image` rolled by `shift` into `out`, rolled back; returns the loss."""
        height, width = image.shape[:2]
        if not self._is_whole(height, width):
            return tiling.tile_grid_gradient(image, self._gradient, self.tile_size, TILE_MARGIN, shift, out)
        rolled = np.roll(image, shift, axis=(0, 1)) if any(shift) else image
        loss, gradient = self._gradient(rolled[None])
        out[...] = np.roll(keras.ops.convert_to_numpy(gradient)[0], (-shift[0], -shift[1]), axis=(0, 1))
        return float(keras.ops.convert_to_numpy(loss))

    def with_terms(self, terms: list[LayerTerm]) -> "DeepDream":
        """A dreamer that shares this one's model but maximises other terms, with its own compiled gradient.

        Renders of many channels use it so the network is built and its
        weights loaded once. Layer names in `terms` must be resolved already
        (`inception_keras.names.resolve_layer_name`).
        """
        clone = copy.copy(self)
        clone.terms = list(terms)
        clone.extractor = feature_extractor(self.extractor, sorted({t.layer for t in clone.terms}))
        clone._compile()
        return clone

    def with_sample_terms(self, terms_per_sample: list[list[LayerTerm]]) -> "DeepDream":
        """A batch dreamer sharing this one's model: sample `n` of an `(N, H, W, 3)` batch maximises `terms_per_sample[n]`.

        Its `ascend_pixels` steps all samples in one program (a gallery's
        channels at once); each sample's gradient is normalised on its own.
        Layer names must be resolved already, as for `with_terms`.
        """
        clone = copy.copy(self)
        clone.sample_terms = [list(terms) for terms in terms_per_sample]
        clone.terms = [term for terms in clone.sample_terms for term in terms]
        clone.extractor = feature_extractor(self.extractor, sorted({t.layer for t in clone.terms}))
        clone._compile()
        return clone

    def _is_whole(self, height: int, width: int) -> bool:
        return self._whole_any_shape and height * width <= self.whole_image_pixels

    def _count_trace(self):
        self.trace_count += 1

    def _validated(self, model, term: LayerTerm, channel):
        name = resolve_layer_name(model, term.layer)
        channel = term.channel if term.channel is not None else channel
        if channel is not None:
            channels = model.get_layer(name).output.shape[-1]
            if not 0 <= channel < channels:
                raise ValueError(
                    f"Channel {channel} does not exist in {name}, which has channels 0..{channels - 1}."
                )
        return LayerTerm(name, term.weight, channel)

    def _guide_features(self, guide: np.ndarray) -> dict:
        guide = _validated_image(guide)
        scale = min(1.0, self.tile_size / max(guide.shape[:2]))
        shape = (max(MIN_INPUT_SIZE, round(guide.shape[0] * scale)),
                 max(MIN_INPUT_SIZE, round(guide.shape[1] * scale)))
        tensor = keras.ops.image.resize(
            keras.ops.convert_to_tensor(guide[None].astype("float32") / 127.5 - 1.0), shape)
        features = self.extractor(tensor, training=False)
        return {
            name: keras.ops.reshape(keras.ops.cast(value, "float32"), (-1, value.shape[-1]))
            for name, value in features.items()
        }


def dream(image: np.ndarray, layers: str = DEFAULT_LAYERS, weights="imagenet", **options) -> np.ndarray:
    """Dreams on one `(H, W, 3)` uint8 image and returns the `(H, W, 3)` uint8 result.

    Builds a `DeepDream` (model and compiled gradient) for this call; keep a
    `DeepDream` yourself to dream many images. `options` are the keyword
    arguments of `DeepDream` and `DeepDream.dream`.
    """
    engine_keys = {"channel", "guide", "tile_size", "whole_image_pixels", "precision", "fold_batch_norm"}
    engine_options = {k: v for k, v in options.items() if k in engine_keys}
    dream_options = {k: v for k, v in options.items() if k not in engine_keys}
    return DeepDream(layers, weights=weights, **engine_options).dream(image, **dream_options)


class _StepCounter:
    """Counts the steps of all octaves and reports each to an `on_step(done, total, loss)` callback."""

    def __init__(self, total: int, on_step: Callable[[int, int, float], None] | None):
        self.total, self.done, self.on_step = total, 0, on_step

    def step(self, loss: float) -> None:
        self.done += 1
        if self.on_step is not None:
            self.on_step(self.done, self.total, loss)


def _octave_start(pixels, detail, shape: tuple[int, int]):
    """The `(1, h, w, 3)` start of an octave: `pixels` `(1, H, W, 3)` resized to `shape`, plus `detail` resized."""
    base = pixels if tuple(shape) == tuple(pixels.shape[1:3]) else keras.ops.image.resize(
        pixels, shape, interpolation="bilinear", antialias=True)
    if detail is None:
        return base
    return base + keras.ops.image.resize(detail, shape, interpolation="bilinear")


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


def _is_backend_tensor(value) -> bool:
    return not isinstance(value, np.ndarray) and keras.ops.is_tensor(value)


def _validated_image(image) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(
            "The image must be an (H, W, 3) uint8 RGB array (use deepdream.load_image for files). "
            f"Received: shape={image.shape}, dtype={image.dtype}"
        )
    return image


def _validate_numbers(steps: int, step_size: float, jitter: int) -> None:
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"`steps` must be a whole number >= 0. Received: steps={steps}")
    if not np.isfinite(step_size) or step_size <= 0:
        raise ValueError(f"`step_size` must be a positive number. Received: step_size={step_size}")
    if not isinstance(jitter, (int, np.integer)) or jitter < 0:
        raise ValueError(f"`jitter` must be a whole number >= 0. Received: jitter={jitter}")
