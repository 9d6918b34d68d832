"""A multi-scale dream with Laplacian-pyramid gradient normalisation (finer detail at every scale)."""

import deepdream
from _common import example_arguments

args = example_arguments(__doc__, "dream_lapnorm.jpg")
image = deepdream.load_image(args.image)
dreamer = deepdream.DeepDream("mixed3", weights=args.weights)
result = dreamer.dream(image, octaves=5, octave_scale=1.3, steps=args.steps, lapnorm=True)
deepdream.save_image(result, args.output)
print(f"wrote {args.output}")
