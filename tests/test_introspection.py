"""Layer tables, tap points and feature extractors, checked against real output shapes."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import inception_keras as ik


@pytest.fixture(scope="module")
def any_size_base():
    keras.utils.set_random_seed(0)
    return ik.InceptionV3(include_top=False, weights=None, input_shape=(None, None, 3))


@pytest.mark.parametrize("height, width", [(299, 299), (512, 384)])
def test_conv_table_matches_keras_applications(height, width):
    ours = ik.layer_table(ik.InceptionV3(include_top=False, weights=None, input_shape=(height, width, 3)), conv_only=True)
    reference = keras.applications.InceptionV3(include_top=False, weights=None, input_shape=(height, width, 3))
    theirs = [layer for layer in reference.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(ours) == len(theirs) == 94
    for row, layer in zip(ours, theirs):
        assert row.output_shape == tuple(layer.output.shape[1:])
        assert row.kernel_size == tuple(layer.kernel_size)
        assert row.params == layer.count_params()


@pytest.mark.slow
def test_tap_point_strides_match_real_output_shapes(any_size_base):
    points = ik.tap_points(any_size_base)
    assert [p.name for p in points] == [f"mixed{i}" for i in range(11)]
    extractor = ik.feature_extractor(any_size_base, [p.name for p in points])
    for point in points:
        size = 299
        small = extractor.predict(np.zeros((1, size, size, 3)), verbose=0)[point.name]
        large = extractor.predict(np.zeros((1, size + point.stride, size + point.stride, 3)), verbose=0)[point.name]
        assert large.shape[1] == small.shape[1] + 1, point
        assert small.shape[-1] == point.channels
    assert {p.name: p.stride for p in points}["mixed4"] == 16


@pytest.mark.parametrize("tap", ["mixed0", "mixed3"])
def test_receptive_field_matches_gradient_support(any_size_base, tap):
    point = {p.name: p for p in ik.tap_points(any_size_base)}[tap]
    size = point.receptive_field + 4 * point.stride + 1
    extractor = ik.feature_extractor(any_size_base, tap)
    image = keras.ops.convert_to_tensor(np.random.RandomState(0).uniform(-1, 1, (1, size, size, 3)).astype("float32"))

    import tensorflow as tf

    with tf.GradientTape() as tape:
        tape.watch(image)
        activation = extractor(image)[tap]
        center = activation.shape[1] // 2
        objective = tf.reduce_sum(activation[0, center, center, :])
    rows = np.nonzero(np.abs(tape.gradient(objective, image).numpy()[0]).sum(axis=(1, 2)))[0]
    assert rows.max() - rows.min() + 1 == point.receptive_field


def test_feature_extractor_accepts_aliases_and_suggests_names(any_size_base):
    extractor = ik.feature_extractor(any_size_base, ["Mixed_6b", "mixed4"])
    outputs = extractor.predict(np.zeros((1, 150, 150, 3)), verbose=0)
    np.testing.assert_array_equal(outputs["Mixed_6b"], outputs["mixed4"])
    with pytest.raises(ValueError, match="Closest valid names: mixed4"):
        ik.feature_extractor(any_size_base, "mixd4")


def test_mixed_filter_keeps_only_tap_points(any_size_base):
    rows = ik.layer_table(any_size_base, mixed_only=True)
    assert [row.name for row in rows] == [f"mixed{i}" for i in range(11)]
