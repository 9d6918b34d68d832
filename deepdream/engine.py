"""The dream engine: octaves of jittered, tiled gradient ascent on Inception-v3 layers.

`DeepDream` builds the model (BatchNorm folded while building) and its
objective once and dreams any number of images of any size; `dream()` is
the one-call version.

The engine keeps the model and the objective. How an octave ascends lives
beside it, in its `OctaveAscent` (`deepdream.octave_ascent`: the compiled
gradient and octave programs, and whether an image runs the device loop or
the host tiled loop, chosen at construction); the walk through the octaves
in `deepdream.octaves`; the maths of one step, which every loop takes, in
`deepdream.ascent_step`. Dreams and refinements of images up to the
whole-image limit run on the device, one compiled program per octave.
Larger ones are tiled: on a GPU inside the same program, on a CPU by the
host tiled loop in place on NumPy buffers (`device_tiles` forces either).
`ascend` is the general loop over any parameterisation and transform.
"""

from __future__ import annotations

import copy
from typing import Callable

import keras
import numpy as np

from deepdream import gradients, hardware
from deepdream.objectives import guide_loss, layer_loss
from deepdream.options import DEFAULT_LAYERS, DreamOptions, LayerTerm, VideoOptions, parse_layer_spec
from deepdream.octave_ascent import OctaveAscent, check_tile_size
from deepdream.octaves import dream_octaves, octave_shapes, refine_octave
from inception_keras.inception_v3 import MIN_INPUT_SIZE, InceptionV3
from inception_keras.introspection import feature_extractor
from inception_keras.names import resolve_layer_name
from inception_keras.precision import dtype_policy

PRECISIONS = {"float32": None, "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}
DEFAULT_TILE_SIZE = 512


class DeepDream:
    """A reusable dreamer: the model and objective are built once, the gradient compiled once.

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
            or by the host loop as `device_tiles` says.
        precision: `"auto"`, `"float32"`, `"bfloat16"` or `"float16"`; the
            last two run the network in mixed precision while the image and
            loss stay float32; `"auto"` picks bfloat16 where the hardware
            runs it natively, else float32 (`deepdream.hardware`); bfloat16
            where it is emulated warns. Defaults to `"float32"`.
        fold_batch_norm: build the network with the frozen BatchNorm layers
            folded into the convolutions (no `{unit}_bn` layers; a
            `{unit}_conv` outputs the pre-activation). Defaults to `True`.
        device_loop: run each octave as one compiled program on the device;
            `False` runs every octave on the host loop, as before the device
            loop (benchmarks and tests compare the two). Defaults to `True`.
        device_tiles: images above `whole_image_pixels` are tiled inside the
            device program (`True`) or by the host tiled loop (`False`);
            `None` picks per device (`deepdream.hardware.default_device_tiles`).
            Defaults to `None`.
    """

    def __init__(self, layers: str | list[LayerTerm] = DEFAULT_LAYERS, weights="imagenet",
                 channel: int | None = None, guide: np.ndarray | None = None,
                 tile_size: int = DEFAULT_TILE_SIZE,
                 whole_image_pixels: int | None = None,
                 precision: str = "float32", fold_batch_norm: bool = True,
                 device_loop: bool = True, device_tiles: bool | None = None):
        if precision != "auto" and precision not in PRECISIONS:
            raise ValueError(
                f"`precision` must be one of auto, {', '.join(PRECISIONS)}. Received: {precision!r}"
            )
        check_tile_size(tile_size)
        if isinstance(layers, str) or not all(isinstance(t, LayerTerm) for t in layers):
            terms = parse_layer_spec(layers)
        else:
            terms = list(layers)
        gradients.use_jax_compilation_cache()
        self.precision = hardware.resolve_precision(precision)
        self.sample_terms: list[list[LayerTerm]] | None = None

        with dtype_policy(PRECISIONS[self.precision]):
            base = InceptionV3(include_top=False, weights=weights, input_shape=(None, None, 3),
                               fold_batch_norm=fold_batch_norm)
        self.terms = [self._validated(base, term, channel) for term in terms]
        self.extractor = feature_extractor(base, sorted({t.layer for t in self.terms}))
        self.guide_features = self._guide_features(guide, tile_size) if guide is not None else None
        self.ascent = OctaveAscent(
            self.extractor, self.objective, tile_size,
            hardware.default_whole_image_pixels() if whole_image_pixels is None else whole_image_pixels,
            device_loop, device_tiles)

    @property
    def tile_size(self) -> int:
        """Side of the square tiles that bound memory (`with_ascent` gives an engine with another)."""
        return self.ascent.tile_size

    @property
    def whole_image_pixels(self) -> int:
        """Images up to this many pixels are processed in one piece (`with_ascent` gives another limit)."""
        return self.ascent.whole_image_pixels

    @property
    def trace_count(self) -> int:
        """How many times this engine's gradient was traced (compiled), over all its programs."""
        return self.ascent.trace_count

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

    def dream(self, image: np.ndarray, octaves: int = DreamOptions.octaves,
              octave_scale: float = DreamOptions.octave_scale, steps: int = DreamOptions.steps,
              step_size: float = DreamOptions.step_size, jitter: int = DreamOptions.jitter,
              lapnorm: bool = DreamOptions.lapnorm, seed: int | None = DreamOptions.seed,
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
        return dream_octaves(self.ascent, image, shapes, steps, step_size, jitter, lapnorm,
                             np.random.RandomState(seed), on_step, on_octave, on_image)

    def refine(self, image: np.ndarray, steps: int = VideoOptions.frame_steps,
               step_size: float = DreamOptions.step_size, jitter: int = DreamOptions.jitter,
               lapnorm: bool = DreamOptions.lapnorm, seed: int | None = DreamOptions.seed) -> np.ndarray:
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
        if not _is_backend_tensor(image):
            image = np.asarray(image)
        if len(image.shape) != 3 or image.shape[2] != 3:
            raise ValueError(f"The image must be (H, W, 3) RGB. Received: shape={tuple(image.shape)}")
        _validate_numbers(steps=steps, step_size=step_size, jitter=jitter)
        return refine_octave(self.ascent, image, steps, step_size, jitter, lapnorm, np.random.RandomState(seed))

    def runs_on_device(self, height: int, width: int) -> bool:
        """Whether an image of this size runs the device loop (else the host tiled loop)."""
        return self.ascent.runs_on_device(height, width)

    def gradient(self, image):
        """Returns `(loss, gradient)` of a `(1, H, W, 3)` float image, tiled as in a step of the host loop."""
        return self.ascent.gradient(image)

    def ascend(self, parameters, steps: int, step_size: float, transform: Callable,
               normalize: Callable, rng: np.random.RandomState,
               on_step: Callable[[float], None] | None = None):
        """The general loop over any parameterisation and transform (`OctaveAscent.ascend`).

        Returns `(parameters, losses)`, `parameters` updated in place and the
        losses a `(steps,)` tensor.
        """
        return self.ascent.ascend(parameters, steps, step_size, transform, normalize, rng, on_step)

    def ascend_pixels(self, image, steps: int, step_size: float, jitter: int, lapnorm: bool,
                      rng: np.random.RandomState):
        """The pixel ascent of one octave on an `(N, H, W, 3)` tensor in [-1, 1]; returns `(image, losses)`.

        As a dream's octave steps (`OctaveAscent.ascend_pixels`): one device
        program where the image runs on the device, else the general loop
        on one image.
        """
        return self.ascent.ascend_pixels(image, steps, step_size, jitter, lapnorm, rng)

    def with_terms(self, terms: list[LayerTerm]) -> "DeepDream":
        """A dreamer that shares this one's model but maximises other terms, with its own compiled gradient.

        Renders of many channels use it so the network is built and its
        weights loaded once. Layer names in `terms` must be resolved already
        (`inception_keras.names.resolve_layer_name`).
        """
        return self._with_objective(list(terms), None)

    def with_sample_terms(self, terms_per_sample: list[list[LayerTerm]]) -> "DeepDream":
        """A batch dreamer sharing this one's model: sample `n` of an `(N, H, W, 3)` batch maximises `terms_per_sample[n]`.

        Its `ascend_pixels` steps all samples in one program (a gallery's
        channels at once); each sample's gradient is normalised on its own.
        Layer names must be resolved already, as for `with_terms`.
        """
        sample_terms = [list(terms) for terms in terms_per_sample]
        return self._with_objective([term for terms in sample_terms for term in terms], sample_terms)

    def with_ascent(self, **options) -> "DeepDream":
        """A dreamer sharing this one's model and objective that ascends another way, compiled anew.

        `options` are `tile_size`, `whole_image_pixels`, `device_loop` and
        `device_tiles`, as `DeepDream` takes them: e.g.
        `engine.with_ascent(device_loop=False)` dreams on the host loop.
        """
        clone = copy.copy(self)
        clone.ascent = self.ascent.with_options(**options)
        return clone

    def _with_objective(self, terms: list[LayerTerm], sample_terms: list[list[LayerTerm]] | None) -> "DeepDream":
        clone = copy.copy(self)
        clone.terms, clone.sample_terms = terms, sample_terms
        clone.extractor = feature_extractor(self.extractor, sorted({t.layer for t in terms}))
        clone.ascent = self.ascent.for_objective(clone.extractor, clone.objective)
        return clone

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

    def _guide_features(self, guide: np.ndarray, tile_size: int) -> dict:
        guide = _validated_image(guide)
        scale = min(1.0, tile_size / max(guide.shape[:2]))
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
    engine_keys = {"channel", "guide", "tile_size", "whole_image_pixels", "precision", "fold_batch_norm",
                   "device_loop", "device_tiles"}
    engine_options = {k: v for k, v in options.items() if k in engine_keys}
    dream_options = {k: v for k, v in options.items() if k not in engine_keys}
    return DeepDream(layers, weights=weights, **engine_options).dream(image, **dream_options)


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
