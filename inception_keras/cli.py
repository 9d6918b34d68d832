"""`python -m inception_keras`: inspect layers, classify images."""

from __future__ import annotations

import argparse
import csv
import json
import sys

from inception_keras.cli_support import (
    EXIT_OK,
    OneLineParser,
    parse_args,
    quiet_backend_logs,
    run_command,
)

TABLE_COLUMNS = ("name", "type", "kernel_size", "strides", "padding", "output_shape", "params")


def build_parser() -> argparse.ArgumentParser:
    """Returns the parser of `python -m inception_keras`."""
    parser = OneLineParser(
        prog="inception_keras",
        description="Inception-v3 for Keras 3: inspect its layers, classify images.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    layers = commands.add_parser(
        "layers", help="print the layer table (conv layer shapes, tap points)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    layers.add_argument("--conv", action="store_true", help="only Conv2D layers")
    layers.add_argument("--mixed", action="store_true",
                        help="only the mixed* tap points, with stride and receptive field")
    layers.add_argument("--input-size", nargs=2, type=int, default=[299, 299],
                        metavar=("H", "W"), help="input height and width")
    layers.add_argument("--format", choices=("table", "json", "csv"), default="table",
                        help="output format")

    predict = commands.add_parser(
        "predict", help="classify images (top-K labels with scores)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    predict.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    predict.add_argument("--weights", default="imagenet",
                         help="'imagenet' or a weights file with the classifier")
    predict.add_argument("--top", type=int, default=5, help="how many labels per image")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the command line; returns the exit status."""
    quiet_backend_logs()
    args, status = parse_args(build_parser(), argv)
    if args is None:
        return status
    handlers = {"layers": _layers, "predict": _predict}
    return run_command("inception_keras", lambda: handlers[args.command](args), args.debug)


def _layers(args) -> int:
    from inception_keras.introspection import build_for_size, layer_table, tap_points

    height, width = args.input_size
    if min(height, width) < 75:
        raise ValueError(f"--input-size must be at least 75 75. Received: {height} {width}")
    model = build_for_size(height, width)
    if args.mixed:
        rows = [point.as_dict() for point in tap_points(model)]
    else:
        rows = [row.as_dict() for row in layer_table(model, conv_only=args.conv)]
    _print_rows(rows, args.format)
    return EXIT_OK


def _print_rows(rows: list[dict], output_format: str) -> None:
    if output_format == "json":
        print(json.dumps(rows, indent=1))
        return
    columns = list(rows[0]) if rows else list(TABLE_COLUMNS)
    cells = [[_cell(row[c]) for c in columns] for row in rows]
    if output_format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(cells)
        return
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip())
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)):
        return "x".join("?" if v is None else str(v) for v in value)
    return str(value)


def _predict(args) -> int:
    if args.top < 1:
        raise ValueError(f"--top must be at least 1. Received: {args.top}")
    import numpy as np

    from inception_keras.images import load_image, resize_image
    from inception_keras.inception_v3 import InceptionV3, decode_predictions, preprocess_input

    images = [load_image(path) for path in args.images]
    weights = None if args.weights == "none" else args.weights
    model = InceptionV3(include_top=True, weights=weights)
    batch = np.stack([resize_image(image, 299, 299) for image in images])
    scores = model.predict(preprocess_input(batch), verbose=0)
    for path, decoded in zip(args.images, decode_predictions(scores, top=min(args.top, 1000))):
        print(path)
        for rank, (wnid, label, score) in enumerate(decoded, start=1):
            print(f"  {rank}. {label} ({wnid}) {score:.4f}")
    return EXIT_OK
