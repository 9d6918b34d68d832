"""What a dream maximises: weighted layer activations, one channel, or a guide image.

An objective spec is a string like `"mixed4"`, `"mixed4:1.0,mixed5:1.5"` or
`"Mixed_6b:2"`; weights default to 1.
"""

from __future__ import annotations

import keras

from deepdream.options import LayerTerm, parse_layer_spec  # noqa: F401  (terms are options; kept importable here)
from inception_keras.names import PRE_RELU_SUFFIX


def layer_loss(activation, term: LayerTerm):
    """The float32 loss of one term on one activation tensor `(N, H, W, C)`."""
    activation = keras.ops.cast(activation, "float32")
    if term.channel is not None:
        return term.weight * keras.ops.mean(activation[..., term.channel])
    return term.weight * keras.ops.mean(keras.ops.square(activation))


def guide_loss(activation, guide_features):
    """Google's guided dream: pull each position toward its best-matching guide feature.

    Args:
        activation: `(N, H, W, C)` activations of the dream.
        guide_features: `(M, C)` activations of the guide image.

    Returns:
        The mean dot product of each activation with the guide feature that
        matches it best; its gradient is that guide feature.
    """
    activation = keras.ops.cast(activation, "float32")
    channels = activation.shape[-1]
    flat = keras.ops.reshape(activation, (-1, channels))
    similarity = keras.ops.matmul(flat, keras.ops.transpose(guide_features))
    best = keras.ops.take(guide_features, keras.ops.argmax(similarity, axis=1), axis=0)
    return keras.ops.mean(keras.ops.sum(flat * keras.ops.stop_gradient(best), axis=1))


def relu_channel_source(model: keras.Model, layer: str, channel: int) -> tuple[str, int] | None:
    """The convolution unit and channel whose ReLU output is `channel` of `layer`.

    `layer` is a unit's `{unit}_relu` or a concatenation of them (a `mixedN`
    block); the answer is `(unit, channel within the unit)`, whose
    pre-activation is the layer `{unit}_pre_relu` names. `None` where the
    channel comes from something else (a pooling branch, a pre-activation).
    """
    current = model.get_layer(layer)
    while True:
        if current.name.endswith("_relu"):
            return current.name[: -len("_relu")], channel
        if not isinstance(current, keras.layers.Concatenate):
            return None
        for tensor in current._inbound_nodes[0].input_tensors:
            width = tensor.shape[-1]
            if channel < width:
                current = tensor._keras_history.operation
                break
            channel -= width
        else:
            return None


def with_pre_relu_terms(model: keras.Model, terms: list[LayerTerm], weight: float = 1.0) -> list[LayerTerm]:
    """Adds, for each post-ReLU channel term, a term on the same channel before the ReLU.

    A post-ReLU channel that is zero everywhere on the start image (grey
    noise leaves many dead) has a zero gradient, so ascent never moves it.
    The added term `weight * mean(pre-activation)` always has a gradient;
    it plays the part of lucid's ReLU gradient override, as an objective
    (so the one compiled gradient serves). Terms on other layers, or without
    a channel, are kept as they are.
    """
    added = []
    for term in terms:
        source = relu_channel_source(model, term.layer, term.channel) if term.channel is not None else None
        if source is not None:
            unit, channel = source
            added.append(LayerTerm(f"{unit}{PRE_RELU_SUFFIX}", term.weight * weight, channel))
    return list(terms) + added
