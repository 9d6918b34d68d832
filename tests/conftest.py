"""Shared fixtures: real images, weight files, and the trained conv base when available."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

WEIGHTS_ENV_VAR = "INCEPTION_KERAS_TEST_WEIGHTS"


@pytest.fixture(scope="session")
def grace_hopper_path() -> Path:
    """A real photo shipped with matplotlib (512 x 600 RGB JPEG)."""
    import matplotlib.cbook

    return Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


@pytest.fixture(scope="session")
def grace_hopper(grace_hopper_path) -> np.ndarray:
    from inception_keras.images import load_image

    return load_image(grace_hopper_path)


@pytest.fixture(scope="session")
def trained_weights_path() -> Path:
    """The real trained conv base named by $INCEPTION_KERAS_TEST_WEIGHTS."""
    value = os.environ.get(WEIGHTS_ENV_VAR)
    if not value:
        pytest.skip(f"needs trained weights: set {WEIGHTS_ENV_VAR} to inception_v3_notop_q8.h5")
    path = Path(value)
    if not path.is_file():
        pytest.skip(f"{WEIGHTS_ENV_VAR}={value} does not exist")
    return path


def _save_legacy_h5(model, path: Path) -> Path:
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as file:
        legacy_h5_format.save_weights_to_hdf5_group(file, model)
    return path


@pytest.fixture(scope="session")
def reference_top(tmp_path_factory):
    """(keras.applications model with random weights, its legacy .h5 file) with the top."""
    import keras

    keras.utils.set_random_seed(1)
    model = keras.applications.InceptionV3(weights=None)
    path = tmp_path_factory.mktemp("weights") / "reference_top.h5"
    return model, _save_legacy_h5(model, path)


@pytest.fixture(scope="session")
def reference_notop(tmp_path_factory):
    """(keras.applications conv base with random weights, its legacy .h5 file)."""
    import keras

    keras.utils.set_random_seed(2)
    model = keras.applications.InceptionV3(include_top=False, weights=None, input_shape=(None, None, 3))
    path = tmp_path_factory.mktemp("weights") / "reference_notop.h5"
    return model, _save_legacy_h5(model, path)


def write_brightness_dataset(root: Path, per_class: int = 8, seed: int = 0) -> Path:
    """Writes a two-class folder dataset (dark and bright noise) with mixed sizes and modes."""
    from PIL import Image

    rng = np.random.RandomState(seed)
    ranges = {"bright": (170, 256), "dark": (0, 86)}
    for name, (low, high) in ranges.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            height, width = rng.randint(60, 140, size=2)
            pixels = rng.randint(low, high, size=(height, width, 3)).astype(np.uint8)
            image = Image.fromarray(pixels)
            if index % 3 == 1:
                image = image.convert("L")
            elif index % 3 == 2:
                image = image.convert("RGBA")
            image.save(root / name / f"{name}_{index}.png")
    return root


def brightness_classifier(image_size: int = 8):
    """A tiny `keras.Model` that tells bright from dark: raw 0..255 RGB -> softmax over (bright, dark).

    No Inception trunk: the mean brightness, through fixed weights (bright
    above 0.5), so that it saves, exports and predicts in seconds.
    """
    import keras

    inputs = keras.Input((image_size, image_size, 3), name="image")
    mean = keras.layers.GlobalAveragePooling2D()(keras.layers.Rescaling(1 / 255)(inputs))
    outputs = keras.layers.Dense(2, activation="softmax", name="predictions")(mean)
    model = keras.Model(inputs, outputs)
    model.get_layer("predictions").set_weights([np.array([[4.0, -4.0]] * 3, "float32"), np.array([-6.0, 6.0], "float32")])
    return model


@pytest.fixture
def brightness_dataset(tmp_path) -> Path:
    """A small two-class dataset any trunk (even a random one) can learn."""
    return write_brightness_dataset(tmp_path / "data")


@pytest.fixture(scope="session")
def random_conv_base(tmp_path_factory) -> Path:
    """A conv base with random weights as a file: building the trunk from it skips JAX's per-shape initialisers."""
    import keras

    from inception_keras.inception_v3 import InceptionV3

    keras.utils.set_random_seed(4)
    path = tmp_path_factory.mktemp("weights") / "random_notop.weights.h5"
    InceptionV3(include_top=False, weights=None, input_shape=(None, None, 3)).save_weights(path)
    return path


@pytest.fixture(scope="session")
def finetuned_brightness(tmp_path_factory, random_conv_base):
    """`(FinetuneResult, data folder)` of one `finetune` run that several test files share.

    The brightness dataset with 10 images a class (16 for training: two full
    batches of 8, so one compiled step), 75 px, one epoch on the random conv
    base, label smoothing 0.2, saved as `brightness.keras` beside its data.
    """
    from inception_keras.fine_tuning import finetune

    folder = tmp_path_factory.mktemp("finetuned_brightness")
    data = write_brightness_dataset(folder / "data", per_class=10)
    result = finetune(data, folder / "brightness.keras", weights=random_conv_base, epochs=1, image_size=75,
                      batch_size=8, label_smoothing=0.2, verbose=0)
    return result, data
