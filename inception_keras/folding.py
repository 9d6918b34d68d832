"""Folding frozen BatchNormalization into the preceding convolutions, on the weight arrays.

In inference mode a `BatchNormalization` after a bias-free `Conv2D` is an
affine map per channel, so it can be merged into the convolution's kernel and
a new bias:

    kernel' = kernel * gamma / sqrt(var + eps)
    bias'   = beta - mean * gamma / sqrt(var + eps)

`InceptionV3(fold_batch_norm=True)` builds the network without BatchNorm
layers (each `{unit}_conv` has a bias) and loads weights folded by the
functions here, so the folded network is built once, never cloned from an
unfolded one. It computes the same function up to float rounding with one op
less per unit; DeepDream uses it because it never trains.
"""

from __future__ import annotations

import keras
import numpy as np


def fold_arrays(kernel: np.ndarray, batch_norm: list[np.ndarray],
                epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    """Returns the folded `(kernel, bias)` of a bias-free convolution and its BatchNorm.

    Args:
        kernel: the `(rows, cols, in, out)` convolution kernel.
        batch_norm: the BatchNorm arrays as Keras stores them:
            `[beta, mean, variance]` (`scale=False`) or
            `[gamma, beta, mean, variance]`.
        epsilon: the BatchNorm's epsilon.
    """
    if len(batch_norm) == 3:
        beta, mean, variance = (np.asarray(a, np.float64) for a in batch_norm)
        gamma = np.ones_like(mean)
    else:
        gamma, beta, mean, variance = (np.asarray(a, np.float64) for a in batch_norm)
    inverse_std = gamma / np.sqrt(variance + epsilon)
    folded_kernel = np.asarray(kernel, np.float64) * inverse_std
    return folded_kernel.astype(np.float32), (beta - mean * inverse_std).astype(np.float32)


def fold_layer_arrays(layers: list[tuple[str, list[np.ndarray]]],
                      epsilon: float) -> list[tuple[str, list[np.ndarray]]]:
    """Folds the weighted layers of an unfolded network, given in model order.

    A bias-free convolution is a layer with one 4-D array; a BatchNorm one
    with three or four 1-D arrays. The k-th BatchNorm belongs to the k-th
    convolution (each follows its convolution directly, so both come in the
    same order); other layers (a classifier) pass through.

    Args:
        layers: `(name, arrays)` per weighted layer, in model order (as a
            legacy `.h5` file lists them).
        epsilon: the BatchNorm epsilon.

    Returns:
        `(convolution name, [kernel, bias])` per convolution and the other
        layers unchanged, in model order: the weighted layers of the folded
        network.

    Raises:
        ValueError: the layers do not pair up as convolution and BatchNorm.
    """
    entries, kernels, norms = [], [], []
    for name, arrays in layers:
        if len(arrays) == 1 and arrays[0].ndim == 4:
            entries.append((name, len(kernels)))
            kernels.append(arrays[0])
        elif len(arrays) in (3, 4) and all(a.ndim == 1 for a in arrays):
            norms.append(arrays)
        else:
            entries.append((name, arrays))
    if len(kernels) != len(norms):
        raise ValueError(
            f"Cannot fold BatchNorm: {len(kernels)} bias-free convolutions but {len(norms)} "
            "BatchNorm layers; the weights are not an Inception-v3 conv-bn network."
        )
    folded = []
    for name, value in entries:
        if not isinstance(value, int):
            folded.append((name, value))
            continue
        kernel, norm = kernels[value], norms[value]
        if norm[0].shape[0] != kernel.shape[-1]:
            raise ValueError(
                f"Cannot fold BatchNorm into '{name}': {kernel.shape[-1]} filters but "
                f"{norm[0].shape[0]} BatchNorm channels."
            )
        folded.append((name, list(fold_arrays(kernel, norm, epsilon))))
    return folded


def folded_weights_of(model: keras.Model, epsilon: float) -> list[list[np.ndarray]]:
    """The weights of the folded network, from a built unfolded `model` (model order)."""
    layers = [(layer.name, [np.asarray(keras.ops.convert_to_numpy(w)) for w in layer.weights])
              for layer in model.layers if layer.weights]
    return [arrays for _, arrays in fold_layer_arrays(layers, epsilon)]


def is_folded(model: keras.Model) -> bool:
    """Whether `model` was built with `fold_batch_norm=True` (convolutions with biases, no BatchNorm)."""
    return not any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers) and any(
        isinstance(layer, keras.layers.Conv2D) and layer.use_bias for layer in model.layers
    )
