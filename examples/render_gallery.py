"""A gallery: the first 16 channels of mixed4 rendered from noise, in one labelled grid.

python examples/render_gallery.py --weights ../shared/weights/inception_v3_notop_q8.h5
(the same as: python -m deepdream --noise 128x128 --layer mixed4 --channel 0-15 -o gallery.jpg)
"""

import argparse

import deepdream
from _common import add_weights_argument
from deepdream.gallery import gallery

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
add_weights_argument(parser)
parser.add_argument("--channels", type=int, default=16, help="render channels 0..N-1 (at most 64)")
parser.add_argument("--size", type=int, default=128)
parser.add_argument("--steps", type=int, default=20, help="steps per octave")
parser.add_argument("--output", default="render_gallery.jpg")
args = parser.parse_args()

grid = gallery("mixed4", range(args.channels), (args.size, args.size),
               weights=args.weights, steps=args.steps)
deepdream.save_image(grid, args.output, quality=85)
print(f"wrote {args.output}")
