"""Renders from noise: feature visualisation of one channel with the dream engine.

Three renders follow the TF1 DeepDream notebook, all from grey noise
`uniform(0, 1) + 100` (0..255 pixel units) and the pixel parameterisation:

- naive (`octaves=1`): plain ascent at full size; each gradient is divided by
  its mean absolute value (the notebook divides by its standard deviation,
  which for gradient noise is about 1.25x larger, so our default step of
  0.01 in [-1, 1] units is the notebook's step 1.0 in 0..255 units);
- multiscale (`octaves > 1`): the noise starts small, is ascended, then
  upscaled by `octave_scale` and ascended again, octave by octave; the
  engine tiles the gradient of large images;
- Laplacian (`lapnorm=True`): as multiscale, but each gradient is normalised
  band by band over a 4-level Laplacian pyramid (the notebook's `lap_n=4`),
  so coarse structure grows as fast as fine detail.

`param="fft"` is lucid's render instead: a Fourier, colour-decorrelated,
sigmoid image (`deepdream.parameterization.FourierImage`) under lucid's
random pad, jitter, scale and rotation (`deepdream.transforms.lucid_transforms`),
with Adam steps (`adam_normalizer`).

Every render is saved contrast-normalised like the notebook's (`visstd`).
Every render runs the engine's ascent: pixel renders the device loop of a
dream's octave (`DeepDream.ascend_pixels`), Fourier renders `DeepDream.ascend`
with its compiled gradient and tiling; only the objective's terms differ
from a dream.
"""

from __future__ import annotations

from typing import Callable

import keras
import numpy as np

from deepdream import transforms
from deepdream.engine import DeepDream
from deepdream.objectives import with_pre_relu_terms
from deepdream.octaves import octave_shapes
from deepdream.options import (
    FFT_STEP_SIZE,
    FFT_STEPS,
    PARAMETERIZATIONS,
    RENDER_LAYER,
    DreamOptions,
    LayerTerm,
    parse_layer_spec,
)
from deepdream.parameterization import FourierImage
from inception_keras.inception_v3 import MIN_INPUT_SIZE
from inception_keras.names import resolve_layer_name

# The TF1 notebook's start image: uniform(0, 1) + 100 in 0..255 pixel units.
GREY_NOISE_LEVEL = 100.0
# Every render is saved as the notebook shows its renders (`visstd`: mid-grey, standard deviation
# 0.1 of the range), so renders of both parameterisations compare at equal contrast. Measured on
# mixed4 at 224 px: stretching further lowers the channel's activation; lucid's sigmoid images
# come out at about 0.14, and toned down to 0.1 they keep 90-97 % of their activation.
VISSTD = 0.1



def _checked_size(size: tuple[int, int]) -> tuple[int, int]:
    height, width = size
    if min(height, width) < MIN_INPUT_SIZE:
        raise ValueError(f"A render must be at least {MIN_INPUT_SIZE}x{MIN_INPUT_SIZE}. Received: {width}x{height}")
    return height, width


def _pixel_octaves(engine: DeepDream, samples: int, size: tuple[int, int], octaves: int, octave_scale: float,
                   steps: int | None, step_size: float | None, jitter: int, lapnorm: bool, seed: int | None):
    """The pixel render's ascent: `samples` copies of the seed's grey noise, stepped and enlarged octave by octave.

    Returns the `(samples, H, W, 3)` tensor in [-1, 1]; sample `n` maximises
    the engine's terms for sample `n` (all of them for a one-sample engine).
    """
    rng = np.random.RandomState(seed)
    shapes = octave_shapes(*size, octaves, octave_scale, MIN_INPUT_SIZE)
    noise = grey_noise(*shapes[0], seed)[None] / 127.5 - 1.0
    image = keras.ops.convert_to_tensor(np.repeat(noise, samples, axis=0))
    for index, shape in enumerate(shapes):
        if index:
            image = keras.ops.image.resize(image, shape, interpolation="bilinear")
        image, _ = engine.ascend_pixels(image, DreamOptions.steps if steps is None else steps,
                                        DreamOptions.step_size if step_size is None else step_size, jitter, lapnorm,
                                        rng)
    return image

def grey_noise(height: int, width: int, seed: int | None = 0) -> np.ndarray:
    """The notebook's start image: `(H, W, 3)` float32 `uniform(0, 1) + 100` in 0..255 units."""
    return np.random.RandomState(seed).uniform(size=(height, width, 3)).astype("float32") + GREY_NOISE_LEVEL


def adam_normalizer(beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8) -> Callable:
    """A gradient normalisation that is Adam's update direction (bias-corrected m / sqrt(v)).

    Passed to `DeepDream.ascend` as `normalize`, a step of `step_size` is an
    Adam step of learning rate `step_size`; the moments live in the closure,
    so use one normaliser per render.
    """
    state = {"step": 0, "m": 0.0, "v": 0.0}

    def normalize(gradient):
        state["step"] += 1
        state["m"] = beta_1 * state["m"] + (1 - beta_1) * gradient
        state["v"] = beta_2 * state["v"] + (1 - beta_2) * keras.ops.square(gradient)
        m_hat = state["m"] / (1 - beta_1 ** state["step"])
        v_hat = state["v"] / (1 - beta_2 ** state["step"])
        return m_hat / (keras.ops.sqrt(v_hat) + epsilon)

    return normalize


class Renderer:
    """Renders channels of one layer from noise; the model is built once, each channel compiled once.

    Args:
        layer: the layer to visualise, e.g. `"mixed4"` or
            `"mixed4_branch7x7_3_pre_relu"` (aliases accepted). Defaults to `"mixed4"`.
        weights: `"imagenet"`, a weights file, or `None` (random). Defaults to `"imagenet"`.
        pre_relu_weight: weight of the added pre-ReLU term for a post-ReLU
            channel (`deepdream.objectives.with_pre_relu_terms`); 0 turns it
            off. Defaults to 1.0.
        tile_size, precision, whole_image_pixels: as in `DeepDream`.
    """

    def __init__(self, layer: str = "mixed4", weights="imagenet", pre_relu_weight: float = 1.0,
                 tile_size: int = 512, precision: str = "float32", whole_image_pixels: int | None = None):
        terms = parse_layer_spec(layer)
        self.engine = DeepDream(terms, weights=weights, tile_size=tile_size, precision=precision,
                                whole_image_pixels=whole_image_pixels)
        self.layers = [term.layer for term in self.engine.terms]
        self.pre_relu_weight = pre_relu_weight
        self._engines: dict[tuple[int | None, float], DeepDream] = {}
        self._batch_engines: dict[tuple[tuple, float], DeepDream] = {}

    def channels(self, layer: str | None = None) -> int:
        """The number of channels of `layer` (the first layer by default)."""
        return int(self.engine.extractor.get_layer(layer or self.layers[0]).output.shape[-1])

    def render(self, channel: int | None, size: tuple[int, int] = (224, 224), param: str = "pixel",
               octaves: int = DreamOptions.octaves, octave_scale: float = DreamOptions.octave_scale,
               steps: int | None = None, step_size: float | None = None, jitter: int = DreamOptions.jitter,
               lapnorm: bool = False, seed: int | None = 0, pre_relu_weight: float | None = None) -> np.ndarray:
        """Renders `channel` (or the whole layer's energy for `None`) from noise.

        Args:
            channel: the channel to maximise in each layer, or `None`.
            size: `(height, width)` of the render, each at least 75.
                Defaults to `(224, 224)`.
            param: `"pixel"` (the notebook's renders) or `"fft"` (lucid's).
                Defaults to `"pixel"`.
            octaves, octave_scale: the pixel render's scales (1 octave is
                the naive render; the notebook's multiscale render is 3
                octaves of 10 steps). Ignored by `"fft"`. Defaults to 4 and 1.4.
            steps: ascent steps per octave. Defaults to 20 (pixel) and 128 (`"fft"`).
            step_size: step for a normalised gradient. Defaults to 0.01
                (pixel) and 0.05 (`"fft"`, Adam's learning rate).
            jitter: the pixel render's random roll, in pixels. Defaults to 32.
            lapnorm: Laplacian-pyramid gradient normalisation (pixel only).
                Defaults to `False`.
            seed: seed of the noise and the random transforms. Defaults to 0.
            pre_relu_weight: overrides the renderer's `pre_relu_weight` for
                this render. Defaults to `None`.

        Returns:
            The render, an `(H, W, 3)` uint8 array, contrast-normalised by `visstd`.
        """
        if param not in PARAMETERIZATIONS:
            raise ValueError(f"`param` must be one of {', '.join(PARAMETERIZATIONS)}. Received: {param!r}")
        if lapnorm and param == "fft":
            raise ValueError("`lapnorm` applies to the pixel parameterisation only; drop it with param='fft'.")
        height, width = _checked_size(size)
        engine = self.engine_for(channel, pre_relu_weight)
        if param == "fft":
            parameters, _ = engine.ascend(
                FourierImage(height, width, seed), FFT_STEPS if steps is None else steps,
                FFT_STEP_SIZE if step_size is None else step_size,
                transforms.lucid_transforms(), adam_normalizer(), np.random.RandomState(seed))
            return to_uint8(visstd(parameters.image()))
        image = _pixel_octaves(engine, 1, size, octaves, octave_scale, steps, step_size, jitter, lapnorm, seed)
        return to_uint8(visstd(image))

    def render_batch(self, channels: list[int | None], size: tuple[int, int] = (224, 224),
                     octaves: int = DreamOptions.octaves, octave_scale: float = DreamOptions.octave_scale,
                     steps: int | None = None, step_size: float | None = None, jitter: int = DreamOptions.jitter,
                     lapnorm: bool = False, seed: int | None = 0,
                     pre_relu_weight: float | None = None) -> list[np.ndarray]:
        """Pixel renders of several channels as one batch: `render(channel, ...)` for each, to float rounding.

        Every render starts from the same noise with the same random rolls
        (the same seed), so one batch of images, sample `n` maximising
        `channels[n]`, steps them all in one program per octave. Renders
        above the engine's whole-image limit run the host tiled loop, which
        takes one image at a time: those are rendered channel by channel.
        """
        if not self.engine.runs_on_device(*_checked_size(size)):
            return [self.render(channel, size, octaves=octaves, octave_scale=octave_scale, steps=steps,
                                step_size=step_size, jitter=jitter, lapnorm=lapnorm, seed=seed,
                                pre_relu_weight=pre_relu_weight) for channel in channels]
        weight = self.pre_relu_weight if pre_relu_weight is None else pre_relu_weight
        key = (tuple(channels), weight)
        if key not in self._batch_engines:
            self._batch_engines[key] = self.engine.with_sample_terms(
                [self._terms(channel, weight) for channel in channels])
        image = _pixel_octaves(self._batch_engines[key], len(channels), size, octaves, octave_scale, steps,
                               step_size, jitter, lapnorm, seed)
        return [to_uint8(visstd(image[n: n + 1])) for n in range(len(channels))]

    def activation(self, image: np.ndarray, channel: int, layer: str | None = None) -> float:
        """The mean activation of `channel` of `layer` (the first by default) on an `(H, W, 3)` uint8 image."""
        name = layer or self.layers[0]
        tensor = keras.ops.convert_to_tensor(np.asarray(image, "float32")[None] / 127.5 - 1.0)
        features = self.engine.extractor(tensor, training=False)
        return float(keras.ops.convert_to_numpy(keras.ops.mean(features[name][..., channel])))

    def engine_for(self, channel: int | None, pre_relu_weight: float | None = None) -> DeepDream:
        """The `DeepDream` maximising `channel` (with its pre-ReLU term): the shared model, its own compiled gradient.

        Its `dream`, `refine` and `ascend` work as usual, e.g. to dream the channel on a photo.
        """
        weight = self.pre_relu_weight if pre_relu_weight is None else pre_relu_weight
        if (channel, weight) not in self._engines:
            self._engines[channel, weight] = self.engine.with_terms(self._terms(channel, weight))
        return self._engines[channel, weight]

    def _terms(self, channel: int | None, pre_relu_weight: float) -> list[LayerTerm]:
        model = self.engine.extractor
        if channel is None:
            return list(self.engine.terms)
        for name in self.layers:
            channels = model.get_layer(name).output.shape[-1]
            if not 0 <= channel < channels:
                raise ValueError(
                    f"Channel {channel} does not exist in {name}, which has channels 0..{channels - 1}."
                )
        terms = [LayerTerm(t.layer, t.weight, channel) for t in self.engine.terms]
        if pre_relu_weight:
            terms = with_pre_relu_terms(model, terms, pre_relu_weight)
        return [LayerTerm(resolve_layer_name(model, t.layer), t.weight, t.channel) for t in terms]


def render(layer: str = RENDER_LAYER, channel: int | None = None, size: tuple[int, int] = (224, 224),
           weights="imagenet", **options) -> np.ndarray:
    """Renders one channel from noise and returns the `(H, W, 3)` uint8 image.

    Builds a `Renderer` for this call; keep one to render many channels.
    `options` are the keyword arguments of `Renderer.render` (`param`,
    `octaves`, `lapnorm`, `steps`, `seed`, ...) and of `Renderer`
    (`pre_relu_weight`, `tile_size`, `precision`, `whole_image_pixels`).
    """
    renderer_keys = {"pre_relu_weight", "tile_size", "precision", "whole_image_pixels"}
    renderer = Renderer(layer, weights=weights, **{k: v for k, v in options.items() if k in renderer_keys})
    return renderer.render(channel, size, **{k: v for k, v in options.items() if k not in renderer_keys})


def visstd(image, std: float = VISSTD):
    """The notebook's `visstd`: `image` in [-1, 1] shifted to mid-grey, with a standard deviation of `std` of the range."""
    centred = image - keras.ops.mean(image)
    return centred / keras.ops.maximum(keras.ops.std(image), 1e-4) * (2.0 * std)


def to_uint8(image) -> np.ndarray:
    """A `(1, H, W, 3)` image in [-1, 1] as `(H, W, 3)` uint8."""
    return np.clip((keras.ops.convert_to_numpy(image[0]) + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)
