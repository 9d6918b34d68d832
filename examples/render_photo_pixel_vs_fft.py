"""When each parameterisation is better: one mixed4 channel dreamed on a photo in pixels, then in lucid's Fourier image.

The pixel dream (the engine's octaves) keeps the photo's colours and light and
adds the channel's patterns; the Fourier image, started from the same photo,
excites the channel more but repaints the whole photo (its colours shift, every
region fills with the pattern). From noise the Fourier image is the better one
(examples/render_from_noise.py).

python examples/render_photo_pixel_vs_fft.py PHOTO --weights ../shared/weights/inception_v3_notop_q8.h5
"""

import argparse

import keras
import numpy as np

import deepdream
from _common import add_weights_argument
from deepdream import transforms
from deepdream.gallery import grid_image
from deepdream.parameterization import FourierImage
from deepdream.render import FFT_STEP_SIZE, FFT_STEPS, Renderer, adam_normalizer, to_uint8
from inception_keras.images import resize_image

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("image", help="input photo")
add_weights_argument(parser)
parser.add_argument("--channel", type=int, default=1)
parser.add_argument("--size", type=int, default=224)
parser.add_argument("--steps", type=int, default=FFT_STEPS, help="Fourier steps (the pixel dream: 4 octaves x 20)")
parser.add_argument("--output", default="photo_pixel_vs_fft.jpg")
args = parser.parse_args()

photo = deepdream.load_image(args.image)
side = min(photo.shape[:2])
photo = resize_image(photo[:side, :side], args.size, args.size)
renderer = Renderer("mixed4", weights=args.weights)
engine = renderer.engine_for(args.channel)

pixel = engine.dream(photo, octaves=4, steps=20)
start = keras.ops.convert_to_tensor(photo[None].astype("float32") / 127.5 - 1.0)
parameters, _ = engine.ascend(FourierImage.from_image(start), args.steps, FFT_STEP_SIZE,
                              transforms.lucid_transforms(), adam_normalizer(), np.random.RandomState(0))
fourier = to_uint8(parameters.image())

images = {"photo": photo, "pixel dream": pixel, "fft from the photo": fourier}
labels = [f"{name}: {renderer.activation(image, args.channel):.2f}" for name, image in images.items()]
grid = grid_image(list(images.values()), labels, columns=3, tile_inches=2.2)
deepdream.save_image(grid, args.output, quality=85)
print("\n".join(labels))
print(f"wrote {args.output}")
