"""`python -m deepdream INPUT [options]`: dream on an image file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inception_keras.cli_support import (
    DefaultsHelpFormatter,
    EXIT_OK,
    OneLineParser,
    parse_args,
    quiet_backend_logs,
    run_command,
)

DEFAULTS = dict(octaves=4, octave_scale=1.4, steps=20, step_size=0.01, tile_size=512, jitter=32, seed=0)


def build_parser() -> argparse.ArgumentParser:
    """Returns the parser of `python -m deepdream`."""
    parser = OneLineParser(
        prog="deepdream",
        description="DeepDream on Inception-v3: octaves, tiled gradients, guided dreams.",
        formatter_class=DefaultsHelpFormatter,
    )
    parser.add_argument("input", nargs="?", metavar="INPUT", help="image to dream on")
    parser.add_argument("--layer", action="append", metavar="NAME[:WEIGHT]",
                        help="layer to maximise, repeatable or a comma list "
                             "(default: mixed3:1.0,mixed5:1.5)")
    parser.add_argument("--channel", type=int, help="maximise this one channel of the layer(s)")
    parser.add_argument("--guide", metavar="IMAGE", help="guide image: dream toward its features")
    parser.add_argument("-o", "--output", help="output file (default: <input stem>_dream<suffix> here)")
    parser.add_argument("--octaves", type=int, default=DEFAULTS["octaves"], help="number of scales")
    parser.add_argument("--octave-scale", type=float, default=DEFAULTS["octave_scale"],
                        help="size ratio between octaves")
    parser.add_argument("--steps", type=int, default=DEFAULTS["steps"], help="ascent steps per octave")
    parser.add_argument("--step-size", type=float, default=DEFAULTS["step_size"], help="step length")
    parser.add_argument("--tile-size", type=int, default=DEFAULTS["tile_size"],
                        help="tile side in pixels; bounds memory on large images")
    parser.add_argument("--jitter", type=int, default=DEFAULTS["jitter"],
                        help="random roll per step, in pixels")
    parser.add_argument("--lapnorm", action="store_true", help="Laplacian-pyramid gradient normalisation")
    parser.add_argument("--seed", type=int, default=DEFAULTS["seed"], help="random seed")
    parser.add_argument("--precision", choices=("float32", "bfloat16", "float16"), default="float32",
                        help="network precision (the image and loss stay float32)")
    parser.add_argument("--weights", default="imagenet", help="'imagenet', a weights file, or 'none'")
    parser.add_argument("--max-side", type=int, help="downscale the input first so no side exceeds this")
    parser.add_argument("--list-layers", action="store_true", help="list the layers you can dream on and exit")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the command line; returns the exit status."""
    quiet_backend_logs()
    args, status = parse_args(build_parser(), argv)
    if args is None:
        return status
    return run_command("deepdream", lambda: _run(args), args.debug)


def _run(args) -> int:
    if args.list_layers:
        return _list_layers()
    if args.input is None:
        raise ValueError("no INPUT image given: python -m deepdream IMAGE (see --help)")
    _check_numbers(args)
    output = _output_path(args)

    from deepdream.engine import DEFAULT_LAYERS, DeepDream
    from inception_keras.images import load_image, resize_image, save_image

    image = load_image(args.input)
    if args.max_side and max(image.shape[:2]) > args.max_side:
        scale = args.max_side / max(image.shape[:2])
        image = resize_image(image, max(1, round(image.shape[0] * scale)), max(1, round(image.shape[1] * scale)))
    guide = load_image(args.guide) if args.guide else None
    weights = None if args.weights.lower() == "none" else args.weights
    engine = DeepDream(
        args.layer or DEFAULT_LAYERS, weights=weights, channel=args.channel, guide=guide,
        tile_size=args.tile_size, precision=args.precision,
    )
    result = engine.dream(
        image, octaves=args.octaves, octave_scale=args.octave_scale, steps=args.steps,
        step_size=args.step_size, jitter=args.jitter, lapnorm=args.lapnorm, seed=args.seed,
        on_octave=None if args.quiet else _progress_bar(args.octaves),
    )
    save_image(result, output)
    if not args.quiet:
        print(f"deepdream: wrote {output}", file=sys.stderr)
    return EXIT_OK


def _check_numbers(args) -> None:
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
    if args.channel is not None and args.channel < 0:
        raise ValueError(f"--channel must be 0 or more. Received: {args.channel}")


def _output_path(args) -> Path:
    source = Path(args.input)
    output = Path(args.output) if args.output else Path(f"{source.stem}_dream{source.suffix}")
    if source.exists() and output.exists() and output.resolve() == source.resolve():
        raise ValueError(f"The output {output} is the input; choose another -o/--output.")
    from inception_keras.images import check_output_path

    check_output_path(output)
    return output


def _progress_bar(octaves: int):
    from tqdm import tqdm

    bar = tqdm(total=octaves, desc="octaves", unit="octave", file=sys.stderr)

    def on_octave(index: int, count: int, loss: float) -> None:
        bar.total = count
        bar.set_postfix(loss=f"{loss:.3f}")
        bar.update(1)
        if index + 1 == count:
            bar.close()

    return on_octave


def _list_layers() -> int:
    from inception_keras.introspection import build_for_size, tap_points

    print(f"{'layer':8s} {'channels':>8s} {'stride':>6s} {'receptive field':>15s}")
    for point in tap_points(build_for_size(299, 299)):
        print(f"{point.name:8s} {point.channels:8d} {point.stride:6d} {point.receptive_field:15d}")
    return EXIT_OK
