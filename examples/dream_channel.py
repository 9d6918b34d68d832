"""A dream on a single channel: what one unit of mixed4 responds to, painted over the photo."""

import deepdream
from _common import example_arguments

args = example_arguments(__doc__, "dream_channel.jpg")
image = deepdream.load_image(args.image)
dreamer = deepdream.DeepDream("mixed4", weights=args.weights, channel=97)
result = dreamer.dream(image, steps=args.steps, step_size=0.015)
deepdream.save_image(result, args.output)
print(f"wrote {args.output}")
