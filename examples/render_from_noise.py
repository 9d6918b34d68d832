"""One mixed4 channel rendered from grey noise four ways: naive, multiscale, Laplacian, lucid's Fourier image.

Writes the four renders side by side, labelled (the README's picture):
python examples/render_from_noise.py --weights ../shared/weights/inception_v3_notop_q8.h5
"""

import argparse

import deepdream
from _common import add_weights_argument
from deepdream.gallery import grid_image
from deepdream.render import Renderer

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
add_weights_argument(parser)
parser.add_argument("--channel", type=int, default=1)
parser.add_argument("--size", type=int, default=224)
parser.add_argument("--steps", type=int, help="steps per octave (default: the notebook's)")
parser.add_argument("--output", default="render_from_noise.jpg")
args = parser.parse_args()

renderer = Renderer("mixed4", weights=args.weights)
size = (args.size, args.size)
renders = {
    "naive (1 octave, 20 steps)": renderer.render(args.channel, size, octaves=1, steps=args.steps or 20),
    "multiscale (3 octaves x 10)": renderer.render(args.channel, size, octaves=3, steps=args.steps or 10),
    "Laplacian (3 octaves x 10)": renderer.render(args.channel, size, octaves=3, steps=args.steps or 10,
                                                  lapnorm=True),
    "fft (lucid, 128 Adam steps)": renderer.render(args.channel, size, param="fft", steps=args.steps),
}
grid = grid_image(list(renders.values()), list(renders), columns=4, tile_inches=2.2)
deepdream.save_image(grid, args.output, quality=85)
print(f"wrote {args.output}")
