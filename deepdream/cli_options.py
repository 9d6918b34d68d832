"""What every dream mode of the command line shares: checked numbers, the engine, the options, progress."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

def check_numbers(args) -> None:
    """Raises `ValueError` naming the flag when a dream option is out of range."""
    positive = {"--octaves": args.octaves, "--steps": args.steps, "--tile-size": args.tile_size}
    for flag, value in positive.items():
        if value < 1:
            raise ValueError(f"{flag} must be at least 1. Received: {value}")
    if not args.octave_scale > 1.0 or args.octave_scale > 4.0:
        raise ValueError(f"--octave-scale must be above 1 and at most 4. Received: {args.octave_scale}")
    if not 0 < args.step_size < 10:
        raise ValueError(f"--step-size must be a positive number below 10. Received: {args.step_size}")
    if args.jitter < 0:
        raise ValueError(f"--jitter must be 0 or more. Received: {args.jitter}")
    if args.max_side is not None and args.max_side < 75:
        raise ValueError(f"--max-side must be at least 75. Received: {args.max_side}")
    if args.channel is not None and not isinstance(args.channel, int):
        raise ValueError("A channel list or range renders a gallery from noise: add --noise WxH, or give one channel.")
    if args.channel is not None and args.channel < 0:
        raise ValueError(f"--channel must be 0 or more. Received: {args.channel}")


def engine_options(args) -> dict:
    """The keyword arguments of `DeepDream(...)` that the flags give (plain data, picklable)."""
    from deepdream.engine import DEFAULT_LAYERS
    from inception_keras.images import load_image

    return dict(
        layers=args.layer or DEFAULT_LAYERS,
        weights=args.weights,
        channel=args.channel,
        guide=load_image(args.guide) if args.guide else None,
        tile_size=args.tile_size,
        precision=args.precision,
    )


def build_engine(args, **overrides):
    """Builds the one `DeepDream` a run uses, from the flags."""
    from deepdream.engine import DeepDream

    options = engine_options(args)
    options.update(overrides)
    return DeepDream(options.pop("layers"), **options)


def dream_options(args) -> dict:
    """The keyword arguments of `DeepDream.dream(...)` that the flags give."""
    return dict(octaves=args.octaves, octave_scale=args.octave_scale, steps=args.steps,
                step_size=args.step_size, jitter=args.jitter, lapnorm=args.lapnorm, seed=args.seed)


def load_input_image(path, max_side: int | None = None) -> np.ndarray:
    """Reads an input image, downscaled so no side exceeds `max_side` when given."""
    from inception_keras.images import load_image

    return fit_max_side(load_image(path), max_side)


def fit_max_side(image: np.ndarray, max_side: int | None) -> np.ndarray:
    """Downscales an `(H, W, 3)` uint8 image so no side exceeds `max_side`; unchanged when it fits or is `None`."""
    from inception_keras.images import resize_image

    if not max_side or max(image.shape[:2]) <= max_side:
        return image
    scale = max_side / max(image.shape[:2])
    return resize_image(image, max(2, round(image.shape[0] * scale)), max(2, round(image.shape[1] * scale)))


def refuse_overwriting_input(source: Path, output: Path) -> None:
    """Raises `ValueError` when `output` is the file `source`."""
    if source.exists() and output.exists() and output.resolve() == source.resolve():
        raise ValueError(f"The output {output} is the input; choose another -o/--output.")


def step_progress_bar(steps_per_octave: int):
    """Returns an `on_step(done, total, loss)` callback that drives a tqdm bar on stderr.

    The bar counts the steps of all octaves and shows the loss, the seconds
    per step and the time left: `3 octaves:  45%|███▌    | 27/60 [00:40<00:49, 1.49s/step, loss=1.234]`.
    """
    from tqdm import tqdm

    bar = None

    def on_step(done: int, total: int, loss: float) -> None:
        nonlocal bar
        if bar is None:
            octaves = max(1, total // max(1, steps_per_octave))
            bar = tqdm(total=total, desc=f"{octaves} octave{'s' * (octaves > 1)}", unit="step", file=sys.stderr)
        bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
        bar.update(1)
        if done == total:
            bar.close()

    return on_step

