"""The command-line arguments the examples share."""

import argparse

from deepdream.cli_options import weights_flag


def add_weights_argument(parser: argparse.ArgumentParser) -> None:
    """Adds `--weights`: 'imagenet', 'none' (random, read as `None`) or a weights file."""
    parser.add_argument("--weights", type=weights_flag, default="imagenet",
                        help="'imagenet', 'none' (random, for a quick check) or a weights file, "
                             "e.g. ../shared/weights/inception_v3_notop_q8.h5")


def example_arguments(description: str, default_output: str) -> argparse.Namespace:
    """Parses `IMAGE [--weights W] [--output O] [--steps N]` for an example script."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("image", help="input photo")
    add_weights_argument(parser)
    parser.add_argument("--output", default=default_output)
    parser.add_argument("--steps", type=int, default=20, help="steps per octave")
    return parser.parse_args()
