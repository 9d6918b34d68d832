"""Layer names: the naming scheme and the TF-slim / torchvision aliases.

Every layer of `inception_keras.InceptionV3` is named from its place in the
network, never from a session counter:

- convolution units are `{unit}_conv`, `{unit}_bn`, `{unit}_relu`;
- stem units are `stem_1a`, `stem_2a`, `stem_2b`, `stem_3b`, `stem_4a`, and the
  stem pools `stem_pool_3a`, `stem_pool_5a` (after TF-slim's positions);
- inside block `mixedN` a unit is `mixedN_{branch}_{k}` where branch is one of
  `branch1x1`, `branch3x3`, `branch5x5`, `branch3x3dbl`, `branch7x7`,
  `branch7x7dbl`, `branch7x7x3`, `branchpool`, and k counts from 1 along the
  branch (`2a`/`2b`, `3a`/`3b` where a branch splits in two); the pooling
  layer of the pool branch is `mixedN_branchpool_pool`, and the inner concat
  of `mixed9`/`mixed10`'s double-3x3 branch is `mixedN_branch3x3dbl_concat`;
- Keras's public names are kept: `mixed0`..`mixed10`, `mixed9_0`,
  `mixed9_1`, `avg_pool`, `predictions`, and the input is `input`.

`{unit}_pre_relu` names a unit's pre-activation (convolution and BatchNorm,
before the ReLU). It is not a layer of its own: it resolves to `{unit}_bn`
where the model has that layer, else to `{unit}_conv` (a network built with
`fold_batch_norm=True`, as DeepDream builds it, has no `_bn` layers and its
convolutions output the pre-activation).
"""

from __future__ import annotations

import difflib

import keras

# TF-slim / torchvision end-point name -> this package's layer name.
SLIM_ALIASES = {
    "Conv2d_1a_3x3": "stem_1a_relu",
    "Conv2d_2a_3x3": "stem_2a_relu",
    "Conv2d_2b_3x3": "stem_2b_relu",
    "MaxPool_3a_3x3": "stem_pool_3a",
    "Conv2d_3b_1x1": "stem_3b_relu",
    "Conv2d_4a_3x3": "stem_4a_relu",
    "MaxPool_5a_3x3": "stem_pool_5a",
    "Mixed_5b": "mixed0",
    "Mixed_5c": "mixed1",
    "Mixed_5d": "mixed2",
    "Mixed_6a": "mixed3",
    "Mixed_6b": "mixed4",
    "Mixed_6c": "mixed5",
    "Mixed_6d": "mixed6",
    "Mixed_6e": "mixed7",
    "Mixed_7a": "mixed8",
    "Mixed_7b": "mixed9",
    "Mixed_7c": "mixed10",
    "AuxLogits": "aux_predictions",
    "Logits": "predictions",
}
_ALIASES_BY_LOWER = {alias.lower(): name for alias, name in SLIM_ALIASES.items()}
PRE_RELU_SUFFIX = "_pre_relu"
# Where a unit's pre-activation lives, in order of preference.
PRE_RELU_LAYER_SUFFIXES = ("_bn", "_conv")


def canonical_layer_name(name: str) -> str:
    """Maps a TF-slim/torchvision alias to this package's name; others pass through."""
    return _ALIASES_BY_LOWER.get(name.lower(), name)


def resolve_layer_name(model: keras.Model, name: str) -> str:
    """Returns the name of the layer of `model` that `name` (or its alias) means.

    `{unit}_pre_relu` resolves to the layer holding the unit's
    pre-activation: `{unit}_bn`, or `{unit}_conv` where there is no `_bn`.

    Raises:
        ValueError: no such layer; the message lists the closest valid names.
    """
    layer_names = [layer.name for layer in model.layers]
    by_lower = {n.lower(): n for n in layer_names}
    canonical = canonical_layer_name(name)
    if canonical.lower().endswith(PRE_RELU_SUFFIX):
        unit = canonical[: -len(PRE_RELU_SUFFIX)]
        for suffix in PRE_RELU_LAYER_SUFFIXES:
            if f"{unit}{suffix}".lower() in by_lower:
                return by_lower[f"{unit}{suffix}".lower()]
    if canonical in layer_names:
        return canonical
    if canonical.lower() in by_lower:
        return by_lower[canonical.lower()]
    candidates = layer_names + pre_relu_names(model) + list(SLIM_ALIASES)
    close = difflib.get_close_matches(name, candidates, n=5, cutoff=0.5)
    hint = f" Closest valid names: {', '.join(close)}." if close else ""
    raise ValueError(
        f"Unknown layer name: {name!r}.{hint} "
        "List them with `python -m inception_keras layers`."
    )


def pre_relu_names(model: keras.Model) -> list[str]:
    """The `{unit}_pre_relu` name of every convolution unit of `model` (one with a `{unit}_relu`)."""
    layer_names = {layer.name for layer in model.layers}
    units = [name[: -len("_relu")] for name in (layer.name for layer in model.layers) if name.endswith("_relu")]
    return [
        f"{unit}{PRE_RELU_SUFFIX}" for unit in units
        if any(f"{unit}{suffix}" in layer_names for suffix in PRE_RELU_LAYER_SUFFIXES)
    ]
