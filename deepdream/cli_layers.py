"""`python -m deepdream --list-layers [--all-units]`: the layers a dream or render can maximise."""

from __future__ import annotations

from inception_keras.cli_support import EXIT_OK


def add_arguments(parser) -> None:
    """Adds `--list-layers` and `--all-units`."""
    parser.add_argument("--list-layers", action="store_true", help="list the layers you can dream on and exit")
    parser.add_argument("--all-units", action="store_true",
                        help="with --list-layers: also every convolution unit, before (_pre_relu) and after "
                             "(_relu) its ReLU, with its channels")


def applies(args) -> bool:
    """Runs when `--list-layers` is given, whatever else is."""
    return args.list_layers


def run(args) -> int:
    """Prints each tap point with its channels, stride and receptive field, then the units if asked."""
    from inception_keras.introspection import build_for_size, tap_points

    model = build_for_size(299, 299)
    print(f"{'layer':8s} {'channels':>8s} {'stride':>6s} {'receptive field':>15s}")
    for point in tap_points(model):
        print(f"{point.name:8s} {point.channels:8d} {point.stride:6d} {point.receptive_field:15d}")
    if args.all_units:
        print(f"\n{'unit':40s} {'channels':>8s}")
        for name, channels in unit_taps(model):
            print(f"{name:40s} {channels:8d}")
    return EXIT_OK


def unit_taps(model) -> list[tuple[str, int]]:
    """`(name, channels)` of every unit's `{unit}_pre_relu` and `{unit}_relu`, in model order."""
    from inception_keras.names import PRE_RELU_SUFFIX, pre_relu_names, resolve_layer_name

    rows = []
    for pre_relu in pre_relu_names(model):
        channels = int(model.get_layer(resolve_layer_name(model, pre_relu)).output.shape[-1])
        rows.append((pre_relu, channels))
        rows.append((pre_relu[: -len(PRE_RELU_SUFFIX)] + "_relu", channels))
    return rows
