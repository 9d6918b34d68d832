"""`python -m inception_keras`: inspect layers, classify images."""

from __future__ import annotations

import argparse
import csv
import json
import sys

from inception_keras.cli_support import (
    DefaultsHelpFormatter,
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
        description="Inception-v3 for Keras 3: inspect its layers, classify images, fine-tune.",
        formatter_class=DefaultsHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    layers = commands.add_parser(
        "layers", help="print the layer table (conv layer shapes, tap points)",
        formatter_class=DefaultsHelpFormatter,
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
        formatter_class=DefaultsHelpFormatter,
    )
    predict.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    predict.add_argument("--weights", default=None,
                         help="'imagenet' or a weights file with the classifier (default: imagenet)")
    predict.add_argument("--model", default=None,
                         help="a .keras classifier saved by `finetune` (its own classes)")
    predict.add_argument("--top", type=int, default=5, help="how many labels per image")

    finetune = commands.add_parser(
        "finetune", help="train a new classifier on a class-per-folder dataset",
        formatter_class=DefaultsHelpFormatter,
    )
    finetune.add_argument("data_dir", metavar="DATA_DIR", help="one sub-folder of images per class")
    finetune.add_argument("--out", required=True, help="the .keras model to write")
    finetune.add_argument("--weights", default="imagenet",
                          help="trunk weights: 'imagenet', 'none' or a file (a no-top file is enough)")
    finetune.add_argument("--epochs", type=int, default=5, help="epochs of the new head on the frozen trunk")
    finetune.add_argument("--fine-tune-epochs", type=int, default=3,
                          help="epochs after --unfreeze-from, at a hundredth of the learning rate")
    finetune.add_argument("--unfreeze-from", default=None, metavar="BLOCK",
                          help="then train the trunk from this block on, e.g. mixed7")
    finetune.add_argument("--image-size", type=int, default=299, help="square input size")
    finetune.add_argument("--batch-size", type=int, default=32, help="images per step (global, all devices)")
    finetune.add_argument("--recipe", choices=("adam", "paper"), default="adam",
                          help="paper: RMSProp(0.9, eps 1.0), lr 0.045 x 0.94 every 2 epochs, clip 2.0, "
                               "label smoothing 0.1")
    finetune.add_argument("--learning-rate", type=float, default=None,
                          help="phase-one learning rate (default: 1e-2 adam, 0.045 paper)")
    finetune.add_argument("--label-smoothing", type=float, default=None,
                          help="label-smoothing epsilon (default: 0.1 with --recipe paper, else 0)")
    finetune.add_argument("--aux", action="store_true",
                          help="also train the paper's auxiliary classifier (needs --image-size 299+)")
    finetune.add_argument("--precision", choices=("float32", "mixed_bfloat16", "mixed_float16"),
                          default="float32", help="Keras dtype policy; the classifier outputs stay float32")
    finetune.add_argument("--validation-split", type=float, default=0.2,
                          help="fraction of each class held out for validation")
    finetune.add_argument("--validation-dir", default=None,
                          help="a separate class-per-folder validation set (instead of the split)")
    finetune.add_argument("--seed", type=int, default=0,
                          help="seed of the split, initialisation, shuffling and augmentation")
    finetune.add_argument("--cache", default=None, metavar="DIR",
                          help="keep decoded images in this folder for later epochs and runs")
    finetune.add_argument("--strategy", choices=("default", "mirrored", "multi-worker"), default="default",
                          help="default: one device; mirrored: all local GPUs; multi-worker: the cluster in "
                               "TF_CONFIG (every worker gets the same --out, the chief writes it)")
    finetune.add_argument("--quiet", action="store_true", help="no per-epoch progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the command line; returns the exit status."""
    quiet_backend_logs()
    args, status = parse_args(build_parser(), argv)
    if args is None:
        return status
    handlers = {"layers": _layers, "predict": _predict, "finetune": _finetune}
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
    if args.model is not None and args.weights is not None:
        raise ValueError("Pass either --model (a fine-tuned classifier) or --weights, not both.")
    from inception_keras.images import load_image

    images = [load_image(path) for path in args.images]
    if args.model is not None:
        results = _classify_with_model(args.model, images, args.top)
    else:
        results = _classify_imagenet(args.weights or "imagenet", images, args.top)
    for path, ranked in zip(args.images, results):
        print(path)
        for rank, (label, score) in enumerate(ranked, start=1):
            print(f"  {rank}. {label} {score:.4f}")
    return EXIT_OK


def _classify_imagenet(weights, images, top):
    import numpy as np

    from inception_keras.images import resize_image
    from inception_keras.inception_v3 import InceptionV3, decode_predictions, preprocess_input

    model = InceptionV3(include_top=True, weights=None if weights == "none" else weights)
    batch = np.stack([resize_image(image, 299, 299) for image in images])
    scores = model.predict(preprocess_input(batch), verbose=0)
    return [[(f"{label} ({wnid})", score) for wnid, label, score in decoded]
            for decoded in decode_predictions(scores, top=min(top, 1000))]


def _classify_with_model(path, images, top):
    import numpy as np

    from inception_keras.images import resize_image
    from inception_keras.transfer import load_classifier, main_output

    model, class_names = load_classifier(path)
    height, width = model.input_shape[1:3]
    batch = np.stack([resize_image(image, height, width) for image in images]).astype("float32")
    scores = np.asarray(main_output(model.predict(batch, verbose=0)))
    return [[(class_names[i], float(row[i])) for i in np.argsort(row)[::-1][:top]] for row in scores]


def _finetune(args) -> int:
    from inception_keras.distributed_training import (
        is_chief,
        is_multi_worker,
        make_strategy,
        weights_fingerprint,
        worker_index_and_count,
    )

    strategy = make_strategy(args.strategy)  # first: a multi-worker strategy must precede any other TF work
    from inception_keras.transfer import finetune

    result = finetune(
        args.data_dir, args.out, weights=None if args.weights == "none" else args.weights,
        epochs=args.epochs, fine_tune_epochs=args.fine_tune_epochs, image_size=args.image_size,
        batch_size=args.batch_size, unfreeze_from_block=args.unfreeze_from,
        label_smoothing=args.label_smoothing, aux_logits=args.aux, precision=args.precision,
        recipe=args.recipe, learning_rate=args.learning_rate,
        validation_split=args.validation_split, validation_dir=args.validation_dir,
        seed=args.seed, cache_dir=args.cache, strategy=strategy, verbose=0 if args.quiet else "auto",
    )
    print(result.report())
    if is_multi_worker(strategy):
        index, count = worker_index_and_count(strategy)
        print(f"worker {index} of {count}: weights sha256 {weights_fingerprint(result.model)}")
    if is_chief(strategy):
        print(f"saved {result.model_path} and {result.figure_path}")
    else:
        print(f"not the chief: {args.out} is written by the chief")
    return EXIT_OK
