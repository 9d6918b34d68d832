"""Inception-v3 for Keras 3: the model, its weights, introspection and fine-tuning.

Names are imported on first use, so `python -m inception_keras` can configure
the backend's logging before Keras loads.
"""

import importlib

__version__ = "0.3.0"

_EXPORTS = {
    "InceptionV3": "inception_keras.inception_v3",
    "decode_predictions": "inception_keras.inception_v3",
    "imagenet_class_index": "inception_keras.inception_v3",
    "preprocess_input": "inception_keras.inception_v3",
    "LayerInfo": "inception_keras.introspection",
    "TapPoint": "inception_keras.introspection",
    "conv_layer_shapes": "inception_keras.introspection",
    "feature_extractor": "inception_keras.introspection",
    "layer_table": "inception_keras.introspection",
    "tap_points": "inception_keras.introspection",
    "SLIM_ALIASES": "inception_keras.names",
    "canonical_layer_name": "inception_keras.names",
    "resolve_layer_name": "inception_keras.names",
    "imagenet_weights_path": "inception_keras.weights",
    "load_weights": "inception_keras.weights",
    "load_image": "inception_keras.images",
    "save_image": "inception_keras.images",
    "resize_image": "inception_keras.images",
    "paper_recipe": "inception_keras.training",
    "build_classifier": "inception_keras.classifier",
    "finetune": "inception_keras.fine_tuning",
    "load_classifier": "inception_keras.classifier",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'inception_keras' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
