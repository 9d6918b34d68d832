"""`python -m deepdream photo.jpg --top-channels mixed4 [--top 8]`: the channels a photo excites most.

Prints one `CHANNEL MEAN` line per channel, strongest first (`--format json`:
the same as a JSON list), and nothing else on stdout.
"""

from __future__ import annotations

import json

from inception_keras.cli_support import EXIT_OK

DEFAULT_TOP = 8


def add_arguments(parser) -> None:
    """Adds `--top-channels` and `--top`."""
    parser.add_argument("--top-channels", metavar="LAYER",
                        help="print the channels of LAYER that the INPUT photo excites most (mean activation) and exit")
    parser.add_argument("--top", type=int, default=DEFAULT_TOP, help="with --top-channels: how many channels")


def applies(args) -> bool:
    """`--top-channels` given."""
    return args.top_channels is not None


def run(args) -> int:
    """Prints the photo's strongest channels of the layer."""
    from deepdream import cli_options
    from deepdream.atlas import file_top_channels

    if len(args.inputs) != 1:
        raise ValueError("--top-channels takes one INPUT photo: python -m deepdream photo.jpg --top-channels mixed4")
    cli_options.check_gallery_flags(args)
    engine = cli_options.engine_options(args)
    channels = file_top_channels(args.inputs[0], args.top_channels, engine, args.top)
    if args.format == "json":
        print(json.dumps([{"channel": channel, "mean": mean} for channel, mean in channels]))
    else:
        for channel, mean in channels:
            print(f"{channel} {mean:.6g}")
    return EXIT_OK
