"""Classify images with Inception-v3 and print the top-5 ImageNet labels.

    python examples/classify.py photo.jpg [more.jpg ...] [--weights imagenet|PATH]

The ImageNet weights are downloaded once into the Keras cache (set
INCEPTION_KERAS_WEIGHTS_MIRROR to use a mirror); PATH may be any Inception-v3
weights file that includes the classifier.
"""

import argparse

import numpy as np

import inception_keras as ik


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="+")
    parser.add_argument("--weights", default="imagenet")
    args = parser.parse_args()

    model = ik.InceptionV3(weights=args.weights)
    batch = np.stack([ik.resize_image(ik.load_image(path), 299, 299) for path in args.images])
    predictions = model.predict(ik.preprocess_input(batch), verbose=0)
    for path, top5 in zip(args.images, ik.decode_predictions(predictions, top=5)):
        print(path)
        for _, label, score in top5:
            print(f"  {score:6.3f}  {label}")


if __name__ == "__main__":
    main()
