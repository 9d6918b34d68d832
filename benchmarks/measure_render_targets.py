"""Measures issue 9's targets on renders the CLI wrote: strength against photos, and smoothness.

    python -m deepdream --noise 224x224 --layer mixed4 --channel 1 -o c1.png --weights W   # etc.
    python benchmarks/measure_render_targets.py --weights W --channel 1 c1.png [more renders of channel 1]

For each render: its mean activation of the channel over the highest mean
activation of that channel on six real photos (scikit-image's astronaut,
coffee, chelsea, rocket, motorcycle and matplotlib's grace_hopper, centre
square resized to the render's size), and its mean absolute difference
between neighbouring pixels (next to the photos').
"""

from __future__ import annotations

import argparse

import numpy as np


def photos(size: int) -> list[np.ndarray]:
    """The six photos as `size` x `size` centre squares."""
    import matplotlib.cbook
    import skimage.data

    from inception_keras.images import load_image, resize_image

    images = [skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea(), skimage.data.rocket(),
              skimage.data.stereo_motorcycle()[0],
              load_image(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))]
    squares = []
    for image in images:
        side = min(image.shape[:2])
        top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
        squares.append(resize_image(image[top: top + side, left: left + side], size, size))
    return squares


def neighbour_difference(image: np.ndarray) -> float:
    """Mean absolute difference between vertically and horizontally neighbouring pixels."""
    pixels = image.astype("float32")
    return float((np.abs(np.diff(pixels, axis=0)).mean() + np.abs(np.diff(pixels, axis=1)).mean()) / 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("renders", nargs="+")
    parser.add_argument("--weights", required=True)
    parser.add_argument("--layer", default="mixed4")
    parser.add_argument("--channel", type=int, required=True)
    args = parser.parse_args()

    from deepdream.render import Renderer
    from inception_keras.images import load_image

    renderer = Renderer(args.layer, weights=args.weights)
    renders = {path: load_image(path) for path in args.renders}
    size = next(iter(renders.values())).shape[0]
    references = photos(size)
    best = max(renderer.activation(photo, args.channel) for photo in references)
    print(f"{args.layer}:{args.channel} best photo {best:.3f}; photos' neighbour difference "
          f"{min(map(neighbour_difference, references)):.1f}..{max(map(neighbour_difference, references)):.1f}")
    for path, image in renders.items():
        activation = renderer.activation(image, args.channel)
        print(f"{path}: activation {activation:.3f} = {activation / best:.2f}x best photo, "
              f"neighbour difference {neighbour_difference(image):.2f}")


if __name__ == "__main__":
    main()
