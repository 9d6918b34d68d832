"""`python -m deepdream --list-layers`: the layers a dream can maximise."""

from __future__ import annotations

from inception_keras.cli_support import EXIT_OK


def add_arguments(parser) -> None:
    """Adds `--list-layers`."""
    parser.add_argument("--list-layers", action="store_true", help="list the layers you can dream on and exit")


def applies(args) -> bool:
    """Runs when `--list-layers` is given, whatever else is."""
    return args.list_layers


def run(args) -> int:
    """Prints each tap point with its channels, stride and receptive field."""
    from inception_keras.introspection import build_for_size, tap_points

    print(f"{'layer':8s} {'channels':>8s} {'stride':>6s} {'receptive field':>15s}")
    for point in tap_points(build_for_size(299, 299)):
        print(f"{point.name:8s} {point.channels:8d} {point.stride:6d} {point.receptive_field:15d}")
    return EXIT_OK
