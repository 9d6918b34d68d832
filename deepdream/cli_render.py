"""`python -m deepdream --noise 512x512 --layer mixed4 --channel 7`: renders from noise and channel galleries.

`--channel 0-15` (or `3,7,40-47`) with `--noise` renders each channel and
writes one labelled grid. Without `--layer` a render shows `mixed4`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deepdream import cli_options
from deepdream.channels import ChannelList, check_gallery_size
from inception_keras.cli_support import EXIT_OK

RENDER_LAYER = "mixed4"
MAX_NOISE_SIDE = 8192


def add_arguments(parser) -> None:
    """Adds the render flags."""
    parser.add_argument("--noise", metavar="WxH",
                        help="render from grey noise of this size instead of dreaming on an INPUT "
                             "(layer mixed4 unless --layer; --octaves 1 is the naive render)")
    parser.add_argument("--param", choices=("pixel", "fft"), default="pixel",
                        help="what a --noise render optimises: the pixels (the DeepDream notebook) or "
                             "lucid's decorrelated Fourier image (with --param fft the default --steps "
                             "and --step-size mean 128 and 0.05)")


def applies(args) -> bool:
    """A render from noise, or a channel list or `--param fft` that only a render can take."""
    return args.noise is not None or isinstance(args.channel, ChannelList) or args.param != "pixel"


def run(args) -> int:
    """Renders one channel (or the layer) from noise, or a gallery of channels, and writes it."""
    size = _checked(args)
    from deepdream import settings
    from deepdream.gallery import gallery
    from deepdream.render import Renderer
    from inception_keras.images import check_output_path, save_image

    layer = ",".join(args.layer) if args.layer else RENDER_LAYER
    output = Path(args.output) if args.output else Path(_default_name(layer, args.channel))
    check_output_path(output)
    renderer = Renderer(layer, weights=args.weights,
                        tile_size=args.tile_size, precision=args.precision)
    options = _render_options(args)
    if isinstance(args.channel, ChannelList):
        image = gallery(layer, args.channel, size, renderer=renderer, **options)
    else:
        image = renderer.render(args.channel, size, **options)
    recorded = settings.build(args, "render", renderer.engine.precision, _resolved(options))
    save_image(image, output, metadata=settings.image_metadata(recorded))
    if not args.quiet:
        print(f"deepdream: wrote {output}", file=sys.stderr)
    return EXIT_OK


def parse_size(text: str) -> tuple[int, int]:
    """Parses `--noise WxH` into `(height, width)`.

    Raises:
        ValueError: not two whole numbers, or a side outside 75..8192.
    """
    width, _, height = text.lower().partition("x")
    try:
        size = (int(height), int(width))
    except ValueError:
        size = (0, 0)
    if not all(75 <= side <= MAX_NOISE_SIDE for side in size):
        raise ValueError(
            f"--noise must be WIDTHxHEIGHT with sides from 75 to {MAX_NOISE_SIDE}, e.g. 512x512. Received: {text!r}"
        )
    return size


def _checked(args) -> tuple[int, int]:
    """Checks the flags a render takes; returns the size `(height, width)`."""
    if args.noise is None:
        if isinstance(args.channel, ChannelList):
            raise ValueError("A channel list or range (a gallery) renders from noise: add --noise WxH, e.g. 128x128.")
        raise ValueError("--param fft renders from noise: add --noise WxH (photos are dreamed in pixels).")
    if args.inputs:
        raise ValueError(f"--noise renders from noise and takes no INPUT; drop {args.inputs[0]} or --noise.")
    if args.guide:
        raise ValueError("--guide does not apply to --noise renders; drop one of them.")
    if args.lapnorm and args.param == "fft":
        raise ValueError("--lapnorm applies to --param pixel only; drop one of them.")
    size = parse_size(args.noise)
    if isinstance(args.channel, ChannelList):
        check_gallery_size(len(args.channel))
    single = args.channel if isinstance(args.channel, int) else None
    cli_options.check_numbers(argparse.Namespace(**{**vars(args), "channel": single}))
    return size


def _render_options(args) -> dict:
    """The keyword arguments of `Renderer.render`; `--param fft` keeps its own defaults for untouched flags."""
    from deepdream.cli import DEFAULTS

    options = dict(param=args.param, octaves=args.octaves, octave_scale=args.octave_scale, steps=args.steps,
                   step_size=args.step_size, jitter=args.jitter, lapnorm=args.lapnorm, seed=args.seed)
    if args.param == "fft":
        for name in ("steps", "step_size"):
            if options[name] == DEFAULTS[name]:
                options[name] = None
    return options


def _resolved(options: dict) -> dict:
    """`options` with a Fourier render's own steps and step size in place of `None`."""
    from deepdream.render import FFT_STEP_SIZE, FFT_STEPS

    defaults = dict(steps=FFT_STEPS, step_size=FFT_STEP_SIZE)
    return {name: defaults.get(name) if value is None else value for name, value in options.items()}


def _default_name(layer: str, channel) -> str:
    """`render_mixed4_c7.png`, `render_mixed4.png` or `gallery_mixed4_c0-15.png`."""
    stem = layer.split(":")[0].split(",")[0]
    if isinstance(channel, ChannelList):
        return f"gallery_{stem}_c{channel[0]}-{channel[-1]}.png"
    return f"render_{stem}.png" if channel is None else f"render_{stem}_c{channel}.png"
