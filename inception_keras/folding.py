"""Folding frozen BatchNormalization into the preceding convolutions.

In inference mode a `BatchNormalization(scale=False)` after a bias-free
`Conv2D` is an affine map per channel, so it can be merged into the
convolution's kernel and a new bias:

    kernel' = kernel / sqrt(var + eps)
    bias'   = beta - mean / sqrt(var + eps)

The folded model computes the same function (up to float rounding) with one
op less per unit; DeepDream uses it because it never trains.
"""

from __future__ import annotations

import keras
import numpy as np


class FoldedBatchNormalization(keras.layers.Layer):
    """Marks where a BatchNormalization was folded away; passes its input through."""

    def call(self, inputs, training=None, mask=None):
        return inputs


def fold_batch_norm(model: keras.Model) -> keras.Model:
    """Returns a copy of `model` with each Conv2D -> BatchNormalization pair merged.

    The BatchNormalization layers become `FoldedBatchNormalization` no-ops of the same
    names, so layer names (and feature extractors built from them) still work.
    """
    folded = {}
    for layer in model.layers:
        if not isinstance(layer, keras.layers.BatchNormalization):
            continue
        conv = layer._inbound_nodes[0].input_tensors[0]._keras_history.operation
        if not isinstance(conv, keras.layers.Conv2D) or conv.use_bias:
            continue
        folded[conv.name] = _folded_kernel_and_bias(conv, layer)
        folded[layer.name] = None

    def clone(layer):
        if layer.name not in folded:
            return layer.__class__.from_config(layer.get_config())
        if folded[layer.name] is None:
            return FoldedBatchNormalization(name=layer.name)
        config = layer.get_config()
        config["use_bias"] = True
        return keras.layers.Conv2D.from_config(config)

    clone_model = keras.models.clone_model(model, clone_function=clone)
    for source, target in zip(model.layers, clone_model.layers):
        if target.name in folded:
            if folded[target.name] is not None:
                target.set_weights(list(folded[target.name]))
        elif source.weights:
            target.set_weights(source.get_weights())
    return clone_model


def _folded_kernel_and_bias(conv, batch_norm) -> tuple[np.ndarray, np.ndarray]:
    kernel = keras.ops.convert_to_numpy(conv.kernel).astype(np.float64)
    mean = keras.ops.convert_to_numpy(batch_norm.moving_mean).astype(np.float64)
    variance = keras.ops.convert_to_numpy(batch_norm.moving_variance).astype(np.float64)
    beta = (
        keras.ops.convert_to_numpy(batch_norm.beta).astype(np.float64)
        if batch_norm.center else np.zeros_like(mean)
    )
    gamma = (
        keras.ops.convert_to_numpy(batch_norm.gamma).astype(np.float64)
        if batch_norm.scale else np.ones_like(mean)
    )
    inverse_std = gamma / np.sqrt(variance + batch_norm.epsilon)
    return (kernel * inverse_std).astype(np.float32), (beta - mean * inverse_std).astype(np.float32)
