"""DeepDream on Inception-v3: octaves, tiled gradients, Laplacian normalisation, guides."""

from deepdream.engine import DEFAULT_LAYERS, DeepDream, dream
from deepdream.objectives import LayerTerm, parse_layer_spec
from deepdream.octaves import octave_shapes
from inception_keras.images import load_image, save_image

__all__ = [
    "DEFAULT_LAYERS",
    "DeepDream",
    "LayerTerm",
    "dream",
    "load_image",
    "octave_shapes",
    "parse_layer_spec",
    "save_image",
]
