"""Print the output shape of one conv layer of Inception-v3, or of all of them.

    python examples/print_conv_shapes.py                      # all 94 conv layers
    python examples/print_conv_shapes.py mixed4_branch7x7_2_conv
    python examples/print_conv_shapes.py --input-size 512 384
"""

import argparse

import inception_keras as ik


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("layer", nargs="?", help="a conv layer name; all conv layers if omitted")
    parser.add_argument("--input-size", nargs=2, type=int, default=[299, 299], metavar=("H", "W"))
    args = parser.parse_args()

    model = ik.InceptionV3(include_top=False, weights=None, input_shape=(*args.input_size, 3))
    shapes = ik.conv_layer_shapes(model)
    if args.layer:
        name = ik.resolve_layer_name(model, args.layer)
        if name not in shapes:
            parser.error(f"{name} is not a Conv2D layer; try one of {list(shapes)[:3]} ...")
        shapes = {name: shapes[name]}
    for name, shape in shapes.items():
        print(f"{name:32s} {shape}")


if __name__ == "__main__":
    main()
