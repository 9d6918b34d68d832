"""BatchNorm folded while building: the same function, pre-activation taps, a safe weights cache."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import inception_keras as ik
from inception_keras.weights import folded_cache_path

PRE_ACTIVATIONS = ["stem_1a", "mixed4_branch7x7_2", "mixed10_branch3x3dbl_3b"]


def test_folded_network_computes_the_unfolded_function(reference_notop, grace_hopper, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    reference, path = reference_notop
    unfolded = ik.InceptionV3(include_top=False, weights=path, input_shape=(None, None, 3))
    folded = ik.InceptionV3(include_top=False, weights=path, input_shape=(None, None, 3), fold_batch_norm=True)
    assert not [layer.name for layer in folded.layers if layer.name.endswith("_bn")]
    x = ik.preprocess_input(grace_hopper[::4, ::4][None])
    ours = ik.feature_extractor(folded, ["mixed5", "mixed10"] + [f"{u}_conv" for u in PRE_ACTIVATIONS])(x)
    theirs = ik.feature_extractor(unfolded, ["mixed5", "mixed10"] + [f"{u}_bn" for u in PRE_ACTIVATIONS])(x)
    for name in ["mixed5", "mixed10"]:
        np.testing.assert_allclose(ours[name], theirs[name], atol=2e-4 * float(np.abs(theirs[name]).max()))
    for unit in PRE_ACTIVATIONS:  # a folded {unit}_conv outputs the pre-activation, bias included
        expected = keras.ops.convert_to_numpy(theirs[f"{unit}_bn"])
        assert expected.min() < 0
        np.testing.assert_allclose(ours[f"{unit}_conv"], expected, atol=2e-4 * float(np.abs(expected).max()))


def test_folded_weights_are_cached_by_content_and_reused(reference_notop, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    _, path = reference_notop
    cache = folded_cache_path(path)
    assert cache.parent == tmp_path / "cache" / "inception_keras" and keras.__version__ in cache.name
    assert not cache.exists()
    first = ik.InceptionV3(include_top=False, weights=path, fold_batch_norm=True)
    assert cache.exists()
    stamp = cache.stat().st_mtime_ns
    second = ik.InceptionV3(include_top=False, weights=path, fold_batch_norm=True)
    assert cache.stat().st_mtime_ns == stamp  # read, not rewritten
    for a, b in zip(first.weights, second.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
    changed = tmp_path / "changed.h5"
    changed.write_bytes(path.read_bytes() + b"\0")
    assert folded_cache_path(changed) != cache


def test_a_broken_cache_is_ignored_and_rewritten(reference_notop, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    _, path = reference_notop
    cache = folded_cache_path(path)
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"not a numpy file")
    model = ik.InceptionV3(include_top=False, weights=path, fold_batch_norm=True)
    # Layers start at zero when weights are given, so a non-zero kernel was loaded.
    assert float(np.abs(keras.ops.convert_to_numpy(model.get_layer("stem_1a_conv").kernel)).max()) > 0
    assert np.load(cache)["names"].size == 94


def test_folding_refuses_the_auxiliary_classifier():
    with pytest.raises(ValueError, match="aux_logits"):
        ik.InceptionV3(weights=None, aux_logits=True, fold_batch_norm=True)
