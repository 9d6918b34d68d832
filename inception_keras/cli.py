"""`python -m inception_keras`: inspect layers, classify images and folders, fine-tune, export for serving."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from inception_keras.cli_support import (
    DefaultsHelpFormatter,
    EXIT_OK,
    EXIT_USAGE,
    OneLineParser,
    parse_args,
    quiet_backend_logs,
    run_command,
)
from inception_keras.exported import FORMATS
from inception_keras.predict import runs_without_keras

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
        "predict", help="classify images and folders of images (top-K labels with scores)",
        formatter_class=DefaultsHelpFormatter,
    )
    predict.add_argument("images", nargs="+", metavar="IMAGE", help="image files or folders of images")
    predict.add_argument("--weights", default=None,
                         help="'imagenet' or a weights file with the classifier (default: imagenet)")
    predict.add_argument("--model", default=None,
                         help="a .keras classifier saved by `finetune`, or its export (SavedModel folder, "
                              ".onnx, .tflite)")
    predict.add_argument("--top", type=int, default=5, help="how many labels per image")
    predict.add_argument("--csv", default=None, metavar="FILE",
                         help="write one row per image here (path, class_1, probability_1, ...) "
                              "instead of printing")
    predict.add_argument("--batch-size", type=int, default=32, help="images per model call")

    export = commands.add_parser(
        "export", help="export a model for serving: TF SavedModel, ONNX or LiteRT, checked against Keras",
        formatter_class=DefaultsHelpFormatter,
    )
    export.add_argument("model", nargs="?", default=None, metavar="MODEL",
                        help="a .keras model saved by `finetune` (default: the ImageNet classifier from --weights)")
    export.add_argument("--format", required=True, choices=FORMATS, help="the serving format")
    export.add_argument("-o", "--out", required=True,
                        help="the SavedModel folder, or the .onnx / .tflite file to write")
    export.add_argument("--weights", default=None,
                        help="without MODEL: 'imagenet', 'none' or a weights file (default: imagenet)")
    export.add_argument("--features", default=None, metavar="LAYERS",
                        help="export a feature extractor instead: comma-separated tap points, e.g. "
                             "mixed4,Mixed_7c, each a named output")
    export.add_argument("--image-size", type=int, default=None,
                        help="without MODEL: the square input size (default: 299)")
    export.add_argument("--overwrite", action="store_true",
                        help="replace an existing folder -o names even if it is not an earlier SavedModel export")

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
    args, status = parse_args(build_parser(), argv)
    if args is None:
        return status
    if not (args.command == "predict" and runs_without_keras(args.model)):
        quiet_backend_logs()
    handlers = {"layers": _layers, "predict": _predict, "export": _export, "finetune": _finetune}
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
    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1. Received: {args.batch_size}")
    from inception_keras.files import atomic_path, check_output
    from inception_keras.predict import classify_files, list_image_files, load_image_classifier, write_csv_rows

    paths = list_image_files(args.images)
    if args.csv is not None:
        if Path(args.csv).suffix.lower() != ".csv":
            raise ValueError(f"--csv must name a .csv file. Received: --csv {args.csv} (did a shell glob put a file "
                             "right after --csv? Put --csv FILE.csv before the images).")
        check_output(args.csv, [*paths, *args.images, args.model, args.weights], flag="--csv")
    classifier = load_image_classifier(args.model, args.weights)
    top = min(args.top, len(classifier.class_names))
    failed = []
    with _progress_bar(len(paths)) as bar:
        def readable(predictions):
            for prediction in predictions:
                bar.update()
                if prediction.error is not None:
                    failed.append(prediction.path)
                    bar.write(f"inception_keras: skipped: {prediction.error}", file=sys.stderr)
                    continue
                yield prediction

        predictions = readable(classify_files(paths, classifier, top, args.batch_size))
        if args.csv is not None:
            with atomic_path(args.csv) as temp_path, open(temp_path, "w", newline="", encoding="utf-8") as handle:
                write_csv_rows(handle, top, predictions)
        else:
            for prediction in predictions:
                print(prediction.path)
                for rank, (label, score) in enumerate(prediction.ranked, start=1):
                    print(f"  {rank}. {label} {score:.4f}")
    if args.csv is not None:
        print(f"wrote {len(paths) - len(failed)} rows to {args.csv}")
    return EXIT_USAGE if failed else EXIT_OK


def _progress_bar(total: int):
    """A tqdm bar on stderr (images k/N, rate, ETA), shown only on a terminal."""
    from tqdm import tqdm

    return tqdm(total=total, desc="images", unit="image", file=sys.stderr, disable=None,
                bar_format="{desc}: {n}/{total} |{bar}| {rate_fmt}, {elapsed} elapsed, ETA {remaining}")


def _export(args) -> int:
    from inception_keras.export import check_export_path, export_model

    check_export_path(args.out, args.format, inputs=[args.model, args.weights], overwrite=args.overwrite)
    model, class_names = _model_to_export(args)
    result = export_model(model, args.out, args.format, class_names=class_names, overwrite=args.overwrite)
    labels = "" if class_names is None else (
        f"; class names in {result.labels_path}" if result.labels_path else "; class names in its metadata")
    print(f"wrote {result.path} ({args.format}; outputs {', '.join(result.output_names)}; largest difference "
          f"from Keras {result.max_difference:.1e} on 4 images{labels})")
    return EXIT_OK


def _model_to_export(args):
    from inception_keras.introspection import feature_extractor

    features = None if args.features is None else [name.strip() for name in args.features.split(",") if name.strip()]
    if args.model is not None:
        if args.weights is not None or args.image_size is not None:
            raise ValueError("--weights and --image-size build the ImageNet model: pass them without MODEL.")
        from inception_keras.classifier import TRUNK_NAME, load_classifier

        model, class_names = load_classifier(args.model)
        if features is None:
            return model, class_names
        trunk = model.get_layer(TRUNK_NAME) if TRUNK_NAME in [layer.name for layer in model.layers] else model
        return feature_extractor(trunk, features), None
    from inception_keras.inception_v3 import InceptionV3, imagenet_class_index

    size = 299 if args.image_size is None else args.image_size
    if size < 75:
        raise ValueError(f"--image-size must be at least 75. Received: {size}")
    weights = args.weights or "imagenet"
    model = InceptionV3(include_top=features is None, weights=None if weights == "none" else weights,
                        input_shape=(size, size, 3), include_preprocessing=True)
    if features is not None:
        return feature_extractor(model, features), None
    index = imagenet_class_index()
    return model, [f"{index[i][1]} ({index[i][0]})" for i in range(1000)]


def _finetune(args) -> int:
    from inception_keras.distributed_training import (
        is_chief,
        is_multi_worker,
        make_strategy,
        weights_fingerprint,
        worker_index_and_count,
    )

    strategy = make_strategy(args.strategy)  # first: a multi-worker strategy must precede any other TF work
    from inception_keras.fine_tuning import finetune

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
