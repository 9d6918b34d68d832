"""The command-line arguments every dream example takes."""

import argparse


def example_arguments(description: str, default_output: str) -> argparse.Namespace:
    """Parses `IMAGE [--weights W] [--output O] [--steps N]` for an example script."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("image", help="input photo")
    parser.add_argument("--weights", default="imagenet",
                        help="'imagenet', 'none' (random, for a quick check) or a weights file, "
                             "e.g. ../shared/weights/inception_v3_notop_q8.h5")
    parser.add_argument("--output", default=default_output)
    parser.add_argument("--steps", type=int, default=20, help="steps per octave")
    args = parser.parse_args()
    if args.weights.lower() == "none":
        args.weights = None
    return args
