"""The cases `tests/test_backends.py` runs in one child process per Keras backend.

    KERAS_BACKEND=torch python tests/backend_cases.py OUT_DIR WEIGHTS [--write-weights] [--trained PATH]
        [--photo coffee] [--gain-photos chelsea,astronaut]

Writes one `.npy` file per case to OUT_DIR: a dream, a render and a video
frame's `refine` (random weights read from WEIGHTS, jitter 0, on `--photo`),
on JAX and torch a dream with tiles on the device and by the host tiled loop
(jitter on, `tests/test_device_tiles.py`; TensorFlow's runs there), and with
`--trained` the mixed4 dream's gain on each of `--gain-photos`
(`benchmarks/check_backend_targets.py` runs it on other photos). On JAX it also dreams
a 960x640 photo (3 octaves) under `jax.transfer_guard("disallow")` and
counts the explicit transfers. `--write-weights` first
writes WEIGHTS: a random conv base with a fixed seed, in the legacy `.h5`
layout, so every backend dreams with the same weights; the other processes
import their backend meanwhile and wait for the file.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np


def photo(height: int, width: int, name: str = "coffee") -> np.ndarray:
    """scikit-image's photo `name` (or matplotlib's `grace_hopper`) resized to `height` x `width`."""
    import skimage.data

    from inception_keras.images import load_image, resize_image

    if name == "grace_hopper":
        import matplotlib.cbook

        image = load_image(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    else:
        image = getattr(skimage.data, name)()
        image = image[0] if isinstance(image, tuple) else image  # stereo_motorcycle: (left, right, disparity)
    return resize_image(image[..., :3], height, width)


def write_random_weights(path: Path) -> None:
    import h5py
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    from inception_keras.inception_v3 import InceptionV3

    keras.utils.set_random_seed(3)
    model = InceptionV3(include_top=False, weights=None, input_shape=(None, None, 3), fold_batch_norm=False)
    partial = path.with_suffix(".partial")
    with h5py.File(partial, "w") as file:
        legacy_h5_format.save_weights_to_hdf5_group(file, model)
    partial.rename(path)  # the waiting processes never see a half-written file


def wait_for(path: Path, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} was not written within {seconds} s")
        time.sleep(0.2)


def strength_gain(engine, trained_engine, image: np.ndarray) -> float:
    """How much stronger the dream of `image` is than `image`: the objective's loss after over before."""
    import keras

    def loss(pixels):
        tensor = keras.ops.convert_to_tensor(pixels[None].astype("float32") / 127.5 - 1.0)
        return float(keras.ops.convert_to_numpy(trained_engine.gradient(tensor)[0]))

    dreamed = engine.dream(image, octaves=2, steps=6, seed=0)
    return loss(dreamed) / loss(image)


def tiled_dreams(engine) -> tuple[np.ndarray, np.ndarray]:
    """A 150x150 photo dreamed on `engine`'s model in 2x2 tiles on the device, then by the host tiled loop.

    The objective is a shallow layer (`stem_2a_relu`): the tiles are what is tested, and it compiles in seconds.
    """
    from deepdream.objectives import LayerTerm
    from test_device_tiles import TILE, device_and_host_dreams
    from test_device_tiles import photo as tiles_photo

    tiled = engine.with_terms([LayerTerm("stem_2a_relu")]).with_ascent(tile_size=TILE,
                                                                       whole_image_pixels=100 * 100)  # 75-pixel cores
    return device_and_host_dreams(tiled, tiles_photo(150, 150), octaves=1)


def guarded_dream_transfers() -> np.ndarray:
    """`[octaves, device_put calls, device_get calls]` of a 960x640 dream under `transfer_guard("disallow")`."""
    import jax

    from deepdream.engine import DeepDream

    counts = {"put": 0, "get": 0}
    put, get = jax.device_put, jax.device_get

    def counted(name, function):
        def call(*args, **kwargs):
            counts[name] += 1
            return function(*args, **kwargs)
        return call

    engine = DeepDream("stem_2a_relu", weights=None)  # a shallow objective: the transfers, not the network
    image = photo(640, 960, "astronaut")
    jax.device_put, jax.device_get = counted("put", put), counted("get", get)
    try:
        with jax.transfer_guard("disallow"):
            engine.dream(image, octaves=3, steps=1)
    finally:
        jax.device_put, jax.device_get = put, get
    return np.array([3, counts["put"], counts["get"]])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("weights", type=Path)
    parser.add_argument("--write-weights", action="store_true")
    parser.add_argument("--trained", type=Path)
    parser.add_argument("--photo", default="coffee")
    parser.add_argument("--gain-photos", default="chelsea,astronaut")
    args = parser.parse_args()
    import keras

    from deepdream.engine import DeepDream
    from deepdream.render import Renderer

    if args.write_weights:
        write_random_weights(args.weights)
    wait_for(args.weights)

    backend = keras.backend.backend()
    engine = DeepDream("mixed2", weights=str(args.weights))
    results = {
        "dream": engine.dream(photo(110, 126, args.photo), octaves=2, steps=3, jitter=0),
        "render": Renderer("mixed2", weights=str(args.weights)).render(5, (80, 80), octaves=1, steps=2, jitter=0),
        "refine": engine.refine(photo(110, 126, args.photo).astype("float32") + 0.25, steps=3, jitter=0),
    }
    tensor_frame = keras.ops.convert_to_tensor(photo(110, 126, args.photo).astype("float32") + 0.25)
    refined = engine.refine(tensor_frame, steps=3, jitter=0)
    results["refine_tensor_is_tensor"] = np.array(keras.ops.is_tensor(refined) and not isinstance(refined, np.ndarray))
    results["refine_tensor"] = keras.ops.convert_to_numpy(refined)
    if backend != "tensorflow":
        results["tiles_device"], results["tiles_host"] = tiled_dreams(engine)
    if backend == "jax":
        results["transfers"] = guarded_dream_transfers()
    if args.trained:
        trained = DeepDream("mixed4", weights=str(args.trained))
        results["gains"] = np.array([strength_gain(trained, trained, photo(120, 150, name))
                                     for name in args.gain_photos.split(",")])
    for name, value in results.items():
        np.save(args.out / f"{backend}_{name}.npy", value)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
