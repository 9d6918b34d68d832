"""A large dream: the photo upscaled to 4K (3840 px wide), dreamed tile by tile in bounded memory."""

import deepdream
from _common import example_arguments
from inception_keras.images import resize_image

args = example_arguments(__doc__, "dream_4k.jpg")
image = deepdream.load_image(args.image)
width = 3840
image = resize_image(image, round(image.shape[0] * width / image.shape[1]), width)
dreamer = deepdream.DeepDream("mixed3:1.0,mixed5:1.5", weights=args.weights, tile_size=512)
result = dreamer.dream(image, octaves=5, steps=args.steps)
deepdream.save_image(result, args.output)
print(f"wrote {args.output} ({result.shape[1]}x{result.shape[0]})")
