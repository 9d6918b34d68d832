"""Inception-v3 for Keras 3: the model, its weights, and introspection."""

from inception_keras.inception_v3 import (
    InceptionV3,
    decode_predictions,
    imagenet_class_index,
    preprocess_input,
)
from inception_keras.introspection import (
    LayerInfo,
    TapPoint,
    conv_layer_shapes,
    feature_extractor,
    layer_table,
    tap_points,
)
from inception_keras.names import SLIM_ALIASES, canonical_layer_name, resolve_layer_name
from inception_keras.weights import imagenet_weights_path, load_weights

__version__ = "0.1.0"

__all__ = [
    "InceptionV3",
    "LayerInfo",
    "SLIM_ALIASES",
    "TapPoint",
    "canonical_layer_name",
    "conv_layer_shapes",
    "decode_predictions",
    "feature_extractor",
    "imagenet_class_index",
    "imagenet_weights_path",
    "layer_table",
    "load_weights",
    "preprocess_input",
    "resolve_layer_name",
    "tap_points",
]
