"""The model: weight compatibility with keras.applications, names, arguments."""

from __future__ import annotations

import hashlib
import re
from importlib import resources

import keras
import numpy as np
import pytest
from PIL import Image

import inception_keras as ik


def _batch(image: np.ndarray, height: int, width: int) -> np.ndarray:
    resized = np.asarray(Image.fromarray(image).resize((width, height), Image.BILINEAR))
    return ik.preprocess_input(resized[None])


def test_top_weights_file_gives_keras_applications_outputs(reference_top, grace_hopper):
    reference, path = reference_top
    model = ik.InceptionV3(weights=path, classifier_activation=None)
    reference_logits = keras.Model(reference.input, reference.get_layer("predictions").output)
    reference_logits.get_layer("predictions").activation = keras.activations.linear
    x = _batch(grace_hopper, 299, 299)
    ours, theirs = model.predict(x, verbose=0), reference_logits.predict(x, verbose=0)
    assert np.abs(theirs).max() > 1e-3
    np.testing.assert_allclose(ours, theirs, atol=1e-5, rtol=0)


@pytest.mark.slow
def test_notop_weights_file_gives_keras_applications_outputs_at_other_size(reference_notop, grace_hopper):
    reference, path = reference_notop
    model = ik.InceptionV3(include_top=False, weights=path, input_shape=(384, 512, 3))
    x = _batch(grace_hopper, 384, 512)
    ours, theirs = model.predict(x, verbose=0), reference.predict(x, verbose=0)
    assert ours.shape == (1, 10, 14, 2048)
    np.testing.assert_allclose(ours, theirs, atol=1e-5, rtol=0)


@pytest.mark.slow
def test_trained_conv_base_loads_like_keras_applications(trained_weights_path, grace_hopper):
    ours = ik.InceptionV3(include_top=False, weights=trained_weights_path)
    theirs = keras.applications.InceptionV3(include_top=False, weights=None)
    theirs.load_weights(str(trained_weights_path))
    x = _batch(grace_hopper, 299, 299)
    a, b = ours.predict(x, verbose=0), theirs.predict(x, verbose=0)
    assert a.std() > 0.01
    np.testing.assert_allclose(a, b, atol=1e-5, rtol=0)


def test_layer_names_are_deterministic_and_documented():
    first = [layer.name for layer in ik.InceptionV3(weights=None).layers]
    second = [layer.name for layer in ik.InceptionV3(weights=None).layers]
    assert first == second
    assert len(set(first)) == len(first)
    auto = re.compile(r"^(conv2d|batch_normalization|activation|concatenate|max_pooling|average_pooling)")
    assert not [name for name in first if auto.match(name)]
    for public in ["mixed0", "mixed10", "mixed9_0", "mixed9_1", "avg_pool", "predictions"]:
        assert public in first
    assert "mixed4_branch7x7dbl_2_conv" in first


def test_slim_aliases_name_the_same_layers():
    model = ik.InceptionV3(weights=None, include_top=False)
    assert ik.resolve_layer_name(model, "Mixed_6b") == "mixed4"
    assert ik.resolve_layer_name(model, "mixed_7c") == "mixed10"
    assert ik.resolve_layer_name(model, "Conv2d_1a_3x3") == "stem_1a_relu"
    for alias, name in ik.SLIM_ALIASES.items():
        if not name.startswith(("aux", "predictions")):
            assert model.get_layer(ik.resolve_layer_name(model, alias)).name == name


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(weights="/no/such/file.h5"), "not found"),
        (dict(weights=3), "must be None, 'imagenet'"),
        (dict(include_top=False, weights=None, input_shape=(64, 299, 3)), "at least 75"),
        (dict(include_top=False, weights=None, input_shape=(299, 299, 1)), "3 channels"),
        (dict(weights="imagenet", input_shape=(320, 320, 3)), "must be\\s+299x299"),
        (dict(weights="imagenet", classes=10), "must be\\s+1000"),
        (dict(weights=None, pooling="mean", include_top=False), "`pooling`"),
    ],
)
def test_bad_arguments_raise_value_errors_naming_the_fix(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ik.InceptionV3(**kwargs)


def test_top_file_into_notop_model_and_reverse_are_explained(reference_top, reference_notop):
    with pytest.raises(ValueError, match="includes the classifier"):
        ik.InceptionV3(include_top=False, weights=reference_top[1])
    with pytest.raises(ValueError, match="has no classifier"):
        ik.InceptionV3(include_top=True, weights=reference_notop[1])


def test_shape_mismatch_and_non_hdf5_files_are_explained(reference_top, tmp_path):
    with pytest.raises(ValueError, match="Check `classes`"):
        ik.InceptionV3(weights=reference_top[1], classes=10)
    text_file = tmp_path / "weights.h5"
    text_file.write_text("not weights")
    with pytest.raises(ValueError, match="not an HDF5"):
        ik.InceptionV3(weights=text_file)


def test_keras3_weights_file_round_trips(tmp_path, grace_hopper):
    model = ik.InceptionV3(include_top=False, weights=None, input_shape=(128, 128, 3))
    path = tmp_path / "base.weights.h5"
    model.save_weights(path)
    reloaded = ik.InceptionV3(include_top=False, weights=path, input_shape=(128, 128, 3))
    x = _batch(grace_hopper, 128, 128)
    np.testing.assert_array_equal(model.predict(x, verbose=0), reloaded.predict(x, verbose=0))


def test_preprocess_input_never_mutates_and_scales_to_unit_range():
    pixels = np.array([[0, 127.5, 255.0]], dtype=np.float32)
    before = pixels.copy()
    scaled = ik.preprocess_input(pixels)
    np.testing.assert_array_equal(pixels, before)
    np.testing.assert_allclose(scaled, [[-1.0, 0.0, 1.0]])
    assert ik.preprocess_input(np.zeros((2, 2), np.uint8)).dtype == np.float32


def test_shipped_class_index_is_keras_published_file():
    data = resources.files("inception_keras").joinpath("data/imagenet_class_index.json").read_bytes()
    assert hashlib.md5(data).hexdigest() == "c2c37ea517e94d9795004a39431a14cb"


def test_decode_predictions_offline():
    scores = np.zeros((2, 1000), np.float32)
    scores[0, 1], scores[0, 2] = 0.9, 0.1
    scores[1, 999] = 1.0
    decoded = ik.decode_predictions(scores, top=2)
    assert decoded[0][0] == ("n01443537", "goldfish", pytest.approx(0.9))
    assert decoded[0][1][1] == "great_white_shark"
    assert decoded[1][0][1] == "toilet_tissue"
    with pytest.raises(ValueError, match="1000"):
        ik.decode_predictions(np.zeros((1, 10)))
