"""`python -m deepdream`: the command line, a thin layer that picks a mode.

The parser holds the dream options every mode shares; each mode adds its own
flags and runs from its own module:

- one image (`cli_still`), many images or folders (`cli_batch`), a video or a
  zoom animation (`cli_video`), a render from noise or a channel gallery
  (`cli_render`), a batch on a Ray cluster (`cli_ray`), `--list-layers`
  (`cli_layers`), the web page (`cli_serve`), a channel atlas (`cli_atlas`), a
  photo's strongest channels (`cli_top_channels`).

The shared flags are built from the fields of `deepdream.options`
(`deepdream.cli_options`); each mode builds its options from the flags and
calls its job (`deepdream.jobs`). `--settings-from FILE` repeats the
settings a dream's file records (`deepdream.settings`); `--show-settings
FILE` prints them.
"""

from __future__ import annotations

import argparse
import importlib

from deepdream.cli_options import add_option_flags
from deepdream.options import DreamOptions, EngineOptions
from inception_keras.cli_support import (
    DefaultsHelpFormatter,
    EXIT_OK,
    OneLineParser,
    parse_args,
    quiet_backend_logs,
    run_command,
)

MODE_MODULES = ("cli_still", "cli_batch", "cli_video", "cli_render", "cli_ray", "cli_layers", "cli_serve", "cli_atlas",
                "cli_top_channels")


def build_parser() -> argparse.ArgumentParser:
    """Returns the parser of `python -m deepdream`: the options' flags, then each mode's own."""
    parser = OneLineParser(
        prog="deepdream",
        description="DeepDream on Inception-v3: photos, folders, videos, zoom animations and renders from noise.",
        formatter_class=DefaultsHelpFormatter,
    )
    parser.add_argument("inputs", nargs="*", metavar="INPUT",
                        help="image(s), folder(s) of images, one video, or serve (the web page)")
    parser.add_argument("-o", "--output", help="output file (default: <input stem>_dream<suffix> here)")
    add_option_flags(parser, EngineOptions)
    add_option_flags(parser, DreamOptions)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="how reports printed instead of a dream (--list-shots, --top-channels, --plan) are "
                             "written: lines for people, or JSON")
    parser.add_argument("--plan", action="store_true",
                        help="print the octave sizes, the tiles, the device and precision, and the estimated peak "
                             "memory and time, then exit without dreaming or writing anything")
    parser.add_argument("--force", action="store_true",
                        help="dream even when the estimated peak memory exceeds the memory available")
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
    from deepdream.cli_options import apply_recorded, say

    if args.show_settings:
        print(settings.describe(settings.read(args.show_settings)))
        return EXIT_OK
    mode = None
    if args.settings_from:
        recorded = settings.read(args.settings_from)
        apply_recorded(args, settings.options_of(recorded))
        mode = _mode_for(args)
        if recorded["mode"] == "video" and mode.__name__ != "deepdream.cli_video":
            raise ValueError(f"{args.settings_from} holds a video's settings; give a video INPUT to repeat them.")
        for warning in settings.check_sources(recorded, args.guide, args.weights):
            say(f"warning: {warning}")
    return (mode or _mode_for(args)).run(args)


def _mode_for(args):
    """Picks the mode module whose `applies(args)` is true, in `MODE_MODULES` order from the end."""
    for module in reversed(_mode_modules()):
        if module.applies(args):
            return module
    raise AssertionError("cli_still applies to every remaining case")


def _mode_modules() -> list:
    return [importlib.import_module(f"deepdream.{name}") for name in MODE_MODULES]

