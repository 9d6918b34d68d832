"""A guided dream: the photo grows the features of a guide image (here: the photo's own crop, or --guide)."""

import sys

import deepdream
from _common import example_arguments

guide_path = None
if "--guide" in sys.argv:
    at = sys.argv.index("--guide")
    guide_path = sys.argv[at + 1]
    del sys.argv[at: at + 2]
args = example_arguments(__doc__, "dream_guided.jpg")
image = deepdream.load_image(args.image)
guide = deepdream.load_image(guide_path) if guide_path else image[: image.shape[0] // 2, : image.shape[1] // 2]
dreamer = deepdream.DeepDream("mixed4", weights=args.weights, guide=guide)
result = dreamer.dream(image, steps=args.steps)
deepdream.save_image(result, args.output)
print(f"wrote {args.output}")
