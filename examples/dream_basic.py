"""A basic dream: octave gradient ascent on two layers, the one-call API."""

import deepdream
from _common import example_arguments

args = example_arguments(__doc__, "dream_basic.jpg")
image = deepdream.load_image(args.image)
result = deepdream.dream(image, layers="mixed3:1.0,mixed5:1.5", weights=args.weights, steps=args.steps)
deepdream.save_image(result, args.output)
print(f"wrote {args.output}")
