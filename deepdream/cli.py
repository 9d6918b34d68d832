"""`python -m deepdream`: the command line, a thin layer that picks a mode.

The parser holds the dream options every mode shares; each mode adds its own
flags and runs from its own module:

- one image (`cli_still`), many images or folders (`cli_batch`), a video or a
  zoom animation (`cli_video`), a render from noise or a channel gallery
  (`cli_render`), a batch on a Ray cluster (`cli_ray`), `--list-layers`
  (`cli_layers`), the web page (`cli_serve`).

`--settings-from FILE` repeats the settings a dream's file records
(`deepdream.settings`); `--show-settings FILE` prints them.
"""

from __future__ import annotations

import argparse
import importlib

from deepdream.channels import channel_flag
from inception_keras.cli_support import (
    DefaultsHelpFormatter,
    EXIT_OK,
    OneLineParser,
    parse_args,
    quiet_backend_logs,
    run_command,
)

DEFAULTS = dict(octaves=4, octave_scale=1.4, steps=20, step_size=0.01, tile_size=512, jitter=32, seed=0)
MODE_MODULES = ("cli_still", "cli_batch", "cli_video", "cli_render", "cli_ray", "cli_layers", "cli_serve")


def build_parser() -> argparse.ArgumentParser:
    """Returns the parser of `python -m deepdream`."""
    parser = OneLineParser(
        prog="deepdream",
        description="DeepDream on Inception-v3: photos, folders, videos, zoom animations and renders from noise.",
        formatter_class=DefaultsHelpFormatter,
    )
    parser.add_argument("inputs", nargs="*", metavar="INPUT",
                        help="image(s), folder(s) of images, one video, or serve (the web page)")
    parser.add_argument("--layer", action="append", metavar="NAME[:WEIGHT]",
                        help="layer to maximise, repeatable or a comma list "
                             "(default: mixed3:1.0,mixed5:1.5)")
    parser.add_argument("--channel", type=channel_flag, help="maximise this one channel of the layer(s)")
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
    parser.add_argument("--precision", choices=("auto", "float32", "bfloat16", "float16"), default="auto",
                        help="network precision (the image and loss stay float32); auto: bfloat16 where the "
                             "CPU (AVX512_BF16, AMX) or GPU (compute capability >= 8.0) runs it natively")
    parser.add_argument("--weights", type=weights_flag, default="imagenet",
                        help="'imagenet', a weights file, or 'none' (random, for a quick check)")
    parser.add_argument("--max-side", type=int, help="downscale the input first so no side exceeds this "
                                                                "(serve: the largest side a visitor may ask for, 768)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--settings-from", metavar="FILE",
                        help="repeat the settings recorded in a dream's image or video (layers, channel, "
                             "octaves, steps, step size, jitter, seed, precision, ...)")
    parser.add_argument("--show-settings", metavar="FILE", help="print the settings recorded in a dream's file and exit")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    for module in _mode_modules():
        module.add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the command line; returns the exit status."""
    args, status = parse_args(build_parser(), argv)
    if args is None:
        return status
    quiet_backend_logs()  # after parsing, so --help and bad arguments answer without loading Keras
    return run_command("deepdream", lambda: _run(args), args.debug)


def _run(args) -> int:
    """`--show-settings`, or the mode the flags pick, after `--settings-from` put its settings in."""
    from deepdream import settings

    if args.show_settings:
        print(settings.describe(settings.read(args.show_settings)))
        return EXIT_OK
    if args.settings_from:
        settings.apply(args, settings.read(args.settings_from))
    return _mode_for(args).run(args)


def weights_flag(text: str) -> str | None:
    """The argparse type of `--weights`: `None` for 'none' (random weights), else the text."""
    return None if text.lower() == "none" else text


def _mode_for(args):
    """Picks the mode module whose `applies(args)` is true, in `MODE_MODULES` order from the end."""
    for module in reversed(_mode_modules()):
        if module.applies(args):
            return module
    raise AssertionError("cli_still applies to every remaining case")


def _mode_modules() -> list:
    return [importlib.import_module(f"deepdream.{name}") for name in MODE_MODULES]

