"""Inception-v3 for Keras 3, weight-compatible with `keras.applications`.

The graph is built in the same topology and the same layer order as
`keras.applications.InceptionV3`, so the official legacy `.h5` files (which
Keras loads by layer order) load unchanged. Unlike the Keras original, every
layer has a deterministic name (see `inception_keras.names`), so two models
built in one process have identical names.
"""

from __future__ import annotations

import functools
import json
from functools import lru_cache
from importlib import resources

import keras
import numpy as np
from keras import layers

from inception_keras import weights as weights_lib
from inception_keras.folding import folded_weights_of

MIN_INPUT_SIZE = 75
DEFAULT_INPUT_SIZE = 299
# The auxiliary classifier needs mixed7's 17x17 grid, which starts at this input size.
AUX_MIN_INPUT_SIZE = 299


def InceptionV3(
    include_top: bool = True,
    weights: str | None = "imagenet",
    input_tensor=None,
    input_shape: tuple[int, int, int] | None = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation="softmax",
    name: str = "inception_v3",
    *,
    aux_logits: bool = False,
    include_preprocessing: bool = False,
    weights_mirror: str | None = None,
    fold_batch_norm: bool = False,
) -> keras.Model:
    """Instantiates the Inception-v3 architecture.

    Reference:
    - [Rethinking the Inception Architecture for Computer Vision](
        https://arxiv.org/abs/1512.00567) (CVPR 2016)

    Inputs are RGB images scaled to [-1, 1] by `preprocess_input`, unless
    `include_preprocessing=True`, in which case the model takes raw 0..255
    pixels and scales them itself.

    Args:
        include_top: whether to include the global pooling and the
            `predictions` classifier. Defaults to `True`.
        weights: `None` (random initialisation), `"imagenet"` (downloaded
            and verified, see `inception_keras.weights`), or a path to a
            legacy `.h5` or Keras 3 `.weights.h5` file. A no-top file
            loads into a model with `include_top=True` and `classes` other
            than 1000: the trunk is loaded and the new classifier starts
            fresh. Defaults to `"imagenet"`.
        input_tensor: optional Keras tensor to use as the image input.
            Defaults to `None`.
        input_shape: optional `(H, W, 3)` shape; H and W at least 75, and
            exactly 299 with `include_top=True` and ImageNet weights.
            Defaults to `None` (299x299, or any size without the top).
        pooling: `None`, `"avg"` or `"max"`: global pooling applied to the
            last block when `include_top=False`. Defaults to `None`.
        classes: number of classes of the classifier. Defaults to 1000.
        classifier_activation: activation of `predictions` (`None` for
            logits). Defaults to `"softmax"`.
        name: the model's name. Defaults to `"inception_v3"`.
        aux_logits: add the paper's batch-normalised auxiliary classifier
            on `mixed7` and return `[predictions, aux_predictions]`; it
            starts fresh whatever `weights` are loaded. Requires
            `include_top=True`. Defaults to `False`.
        include_preprocessing: take raw 0..255 RGB input and rescale to
            [-1, 1] inside the model. Defaults to `False`.
        weights_mirror: base URL to download `"imagenet"` weights from
            instead of the official one (also read from the
            `INCEPTION_KERAS_WEIGHTS_MIRROR` environment variable).
            Defaults to `None`.
        fold_batch_norm: build for inference with each BatchNormalization
            folded into its convolution: `{unit}_conv` gets a bias and
            outputs the pre-activation, and there are no `{unit}_bn`
            layers. Legacy `.h5` weights are folded while loading (see
            `inception_keras.folding`). Not trainable as the paper's
            network; for feature extraction and DeepDream. Requires
            `aux_logits=False`. Defaults to `False`.

    Returns:
        A `keras.Model`.
    """
    weights_lib.validate_weights_argument(weights)
    if pooling not in (None, "avg", "max"):
        raise ValueError(
            "`pooling` must be None, 'avg' or 'max'. "
            f"Received: pooling={pooling!r}"
        )
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            "With weights='imagenet' and include_top=True, `classes` must be "
            f"1000; use include_top=False for a new head. Received: classes={classes}"
        )
    if aux_logits and not include_top:
        raise ValueError(
            "`aux_logits=True` needs `include_top=True`: the auxiliary "
            "classifier feeds the training loss of the classifier."
        )
    if fold_batch_norm and aux_logits:
        raise ValueError(
            "`fold_batch_norm=True` builds an inference network; the auxiliary classifier "
            "is for training. Received: aux_logits=True"
        )
    input_shape = _resolve_input_shape(input_shape, input_tensor, include_top, weights)
    # Weights that will be loaded need no random initialisation (a third of the build time).
    conv = functools.partial(_conv_bn, fold=fold_batch_norm,
                             kernel_initializer="glorot_uniform" if weights is None else "zeros")

    if input_tensor is None:
        img_input = layers.Input(shape=input_shape, name="input")
    elif not keras.backend.is_keras_tensor(input_tensor):
        img_input = layers.Input(tensor=input_tensor, shape=input_shape, name="input")
    else:
        img_input = input_tensor
    channel_axis = 1 if keras.backend.image_data_format() == "channels_first" else 3

    x = img_input
    if include_preprocessing:
        x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="preprocessing")(x)

    # stem: 299 x 299 x 3 -> 35 x 35 x 192
    x = conv(x, 32, 3, 3, "stem_1a", strides=2, padding="valid")  # 149 x 149 x 32
    x = conv(x, 32, 3, 3, "stem_2a", padding="valid")  # 147 x 147 x 32
    x = conv(x, 64, 3, 3, "stem_2b")  # 147 x 147 x 64
    x = layers.MaxPooling2D(3, strides=2, name="stem_pool_3a")(x)  # 73 x 73 x 64
    x = conv(x, 80, 1, 1, "stem_3b", padding="valid")  # 73 x 73 x 80
    x = conv(x, 192, 3, 3, "stem_4a", padding="valid")  # 71 x 71 x 192
    x = layers.MaxPooling2D(3, strides=2, name="stem_pool_5a")(x)  # 35 x 35 x 192

    # mixed 0, 1, 2: 35 x 35 x 256, 288, 288
    for block, pool_filters in (("mixed0", 32), ("mixed1", 64), ("mixed2", 64)):
        x = _inception_a(x, block, pool_filters, channel_axis, conv)

    # mixed 3: 17 x 17 x 768
    x = _reduction_a(x, "mixed3", channel_axis, conv)

    # mixed 4, 5, 6, 7: 17 x 17 x 768
    for block, inner in (("mixed4", 128), ("mixed5", 160), ("mixed6", 160), ("mixed7", 192)):
        x = _inception_b(x, block, inner, channel_axis, conv)
    mixed7 = x

    # mixed 8: 8 x 8 x 1280
    x = _reduction_b(x, "mixed8", channel_axis, conv)

    # mixed 9, 10: 8 x 8 x 2048
    x = _inception_c(x, "mixed9", "mixed9_0", channel_axis, conv)
    x = _inception_c(x, "mixed10", "mixed9_1", channel_axis, conv)

    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(
            classes, activation=classifier_activation, dtype="float32", name="predictions"
        )(x)
        if aux_logits:
            aux = auxiliary_classifier(mixed7, classes, classifier_activation)
            x = [x, aux]
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)

    if input_tensor is not None:
        inputs = keras.src.ops.operation_utils.get_source_inputs(input_tensor)
    else:
        inputs = img_input
    model = keras.Model(inputs, x, name=name)

    if weights == "imagenet":
        path = weights_lib.imagenet_weights_path(include_top, mirror=weights_mirror)
        weights_lib.load_weights(model, path)
    elif fold_batch_norm and str(weights).endswith(".weights.h5"):
        # A Keras 3 file names the BatchNorm layers: load it unfolded, then fold its arrays.
        unfolded = InceptionV3(include_top, weights, None, input_shape, pooling, classes,
                               classifier_activation, include_preprocessing=include_preprocessing)
        weighted = [layer for layer in model.layers if layer.weights]
        for layer, values in zip(weighted, folded_weights_of(unfolded, weights_lib.BATCH_NORM_EPSILON)):
            layer.set_weights(values)
    elif weights is not None:
        weights_lib.load_weights(model, weights, fresh_classifier=include_top and classes != 1000)
    return model


def _resolve_input_shape(input_shape, input_tensor, include_top, weights):
    """Returns the `(H, W, C)` input shape after validating it."""
    channels_first = keras.backend.image_data_format() == "channels_first"
    if input_shape is None and input_tensor is not None:
        input_shape = tuple(input_tensor.shape[1:])
    if input_shape is None:
        size = DEFAULT_INPUT_SIZE if include_top else None
        return (3, size, size) if channels_first else (size, size, 3)
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError(
            "`input_shape` must be (height, width, 3). "
            f"Received: input_shape={input_shape}"
        )
    height, width, channels = (
        (input_shape[1], input_shape[2], input_shape[0]) if channels_first else input_shape
    )
    if channels != 3:
        raise ValueError(
            f"`input_shape` must have 3 channels (RGB). Received: input_shape={input_shape}"
        )
    for side in (height, width):
        if side is not None and side < MIN_INPUT_SIZE:
            raise ValueError(
                f"Input height and width must be at least {MIN_INPUT_SIZE}. "
                f"Received: input_shape={input_shape}"
            )
    if include_top and weights is not None and (height, width) != (299, 299):
        raise ValueError(
            "With include_top=True and pretrained weights the input must be "
            "299x299; use include_top=False (with pooling='avg') for other sizes. "
            f"Received: input_shape={input_shape}"
        )
    return input_shape


def _conv_bn(x, filters, rows, cols, unit, strides=1, padding="same", fold=False,
             kernel_initializer="glorot_uniform"):
    """Conv2D (no bias) -> BatchNormalization (no scale) -> ReLU, named `unit_*`.

    With `fold`, Conv2D (with the folded bias) -> ReLU: no `unit_bn` layer.
    """
    bn_axis = 1 if keras.backend.image_data_format() == "channels_first" else 3
    x = layers.Conv2D(
        filters, (rows, cols), strides=strides, padding=padding,
        use_bias=fold, kernel_initializer=kernel_initializer, name=f"{unit}_conv",
    )(x)
    if not fold:
        x = layers.BatchNormalization(
            axis=bn_axis, scale=False, epsilon=weights_lib.BATCH_NORM_EPSILON, name=f"{unit}_bn"
        )(x)
    return layers.Activation("relu", name=f"{unit}_relu")(x)


def _average_pool_branch(x, block, filters, conv):
    x = layers.AveragePooling2D(3, strides=1, padding="same", name=f"{block}_branchpool_pool")(x)
    return conv(x, filters, 1, 1, f"{block}_branchpool_1")


def _inception_a(x, block, pool_filters, channel_axis, conv):
    """35x35 block with 1x1, 5x5, double 3x3 and pool branches (figure 5)."""
    branch1x1 = conv(x, 64, 1, 1, f"{block}_branch1x1_1")

    branch5x5 = conv(x, 48, 1, 1, f"{block}_branch5x5_1")
    branch5x5 = conv(branch5x5, 64, 5, 5, f"{block}_branch5x5_2")

    branch3x3dbl = conv(x, 64, 1, 1, f"{block}_branch3x3dbl_1")
    branch3x3dbl = conv(branch3x3dbl, 96, 3, 3, f"{block}_branch3x3dbl_2")
    branch3x3dbl = conv(branch3x3dbl, 96, 3, 3, f"{block}_branch3x3dbl_3")

    branch_pool = _average_pool_branch(x, block, pool_filters, conv)
    return layers.concatenate(
        [branch1x1, branch5x5, branch3x3dbl, branch_pool], axis=channel_axis, name=block
    )


def _reduction_a(x, block, channel_axis, conv):
    """35x35 -> 17x17 grid reduction with parallel stride-2 branches (figure 10)."""
    branch3x3 = conv(x, 384, 3, 3, f"{block}_branch3x3_1", strides=2, padding="valid")

    branch3x3dbl = conv(x, 64, 1, 1, f"{block}_branch3x3dbl_1")
    branch3x3dbl = conv(branch3x3dbl, 96, 3, 3, f"{block}_branch3x3dbl_2")
    branch3x3dbl = conv(
        branch3x3dbl, 96, 3, 3, f"{block}_branch3x3dbl_3", strides=2, padding="valid",
    )

    branch_pool = layers.MaxPooling2D(3, strides=2, name=f"{block}_branchpool_pool")(x)
    return layers.concatenate(
        [branch3x3, branch3x3dbl, branch_pool], axis=channel_axis, name=block
    )


def _inception_b(x, block, inner, channel_axis, conv):
    """17x17 block with 7x7 convolutions factorised into 1x7 and 7x1 (figure 6)."""
    branch1x1 = conv(x, 192, 1, 1, f"{block}_branch1x1_1")

    branch7x7 = conv(x, inner, 1, 1, f"{block}_branch7x7_1")
    branch7x7 = conv(branch7x7, inner, 1, 7, f"{block}_branch7x7_2")
    branch7x7 = conv(branch7x7, 192, 7, 1, f"{block}_branch7x7_3")

    branch7x7dbl = conv(x, inner, 1, 1, f"{block}_branch7x7dbl_1")
    branch7x7dbl = conv(branch7x7dbl, inner, 7, 1, f"{block}_branch7x7dbl_2")
    branch7x7dbl = conv(branch7x7dbl, inner, 1, 7, f"{block}_branch7x7dbl_3")
    branch7x7dbl = conv(branch7x7dbl, inner, 7, 1, f"{block}_branch7x7dbl_4")
    branch7x7dbl = conv(branch7x7dbl, 192, 1, 7, f"{block}_branch7x7dbl_5")

    branch_pool = _average_pool_branch(x, block, 192, conv)
    return layers.concatenate(
        [branch1x1, branch7x7, branch7x7dbl, branch_pool], axis=channel_axis, name=block
    )


def _reduction_b(x, block, channel_axis, conv):
    """17x17 -> 8x8 grid reduction."""
    branch3x3 = conv(x, 192, 1, 1, f"{block}_branch3x3_1")
    branch3x3 = conv(
        branch3x3, 320, 3, 3, f"{block}_branch3x3_2", strides=2, padding="valid",
    )

    branch7x7x3 = conv(x, 192, 1, 1, f"{block}_branch7x7x3_1")
    branch7x7x3 = conv(branch7x7x3, 192, 1, 7, f"{block}_branch7x7x3_2")
    branch7x7x3 = conv(branch7x7x3, 192, 7, 1, f"{block}_branch7x7x3_3")
    branch7x7x3 = conv(
        branch7x7x3, 192, 3, 3, f"{block}_branch7x7x3_4", strides=2, padding="valid",
    )

    branch_pool = layers.MaxPooling2D(3, strides=2, name=f"{block}_branchpool_pool")(x)
    return layers.concatenate(
        [branch3x3, branch7x7x3, branch_pool], axis=channel_axis, name=block
    )


def _inception_c(x, block, branch3x3_name, channel_axis, conv):
    """8x8 block with expanded 1x3 / 3x1 filter banks (figure 7)."""
    branch1x1 = conv(x, 320, 1, 1, f"{block}_branch1x1_1")

    branch3x3 = conv(x, 384, 1, 1, f"{block}_branch3x3_1")
    branch3x3_1 = conv(branch3x3, 384, 1, 3, f"{block}_branch3x3_2a")
    branch3x3_2 = conv(branch3x3, 384, 3, 1, f"{block}_branch3x3_2b")
    branch3x3 = layers.concatenate(
        [branch3x3_1, branch3x3_2], axis=channel_axis, name=branch3x3_name
    )

    branch3x3dbl = conv(x, 448, 1, 1, f"{block}_branch3x3dbl_1")
    branch3x3dbl = conv(branch3x3dbl, 384, 3, 3, f"{block}_branch3x3dbl_2")
    branch3x3dbl_1 = conv(branch3x3dbl, 384, 1, 3, f"{block}_branch3x3dbl_3a")
    branch3x3dbl_2 = conv(branch3x3dbl, 384, 3, 1, f"{block}_branch3x3dbl_3b")
    branch3x3dbl = layers.concatenate(
        [branch3x3dbl_1, branch3x3dbl_2], axis=channel_axis, name=f"{block}_branch3x3dbl_concat"
    )

    branch_pool = _average_pool_branch(x, block, 192, conv)
    return layers.concatenate(
        [branch1x1, branch3x3, branch3x3dbl, branch_pool], axis=channel_axis, name=block
    )


def auxiliary_classifier(x, classes: int, classifier_activation="softmax"):
    """The paper's BN-auxiliary classifier (section 4) on a 17 x 17 x 768 `mixed7` tensor.

    Average pooling 5x5 stride 3, a 1x1 conv to 128 and a 5x5 conv to 768 (each
    with BatchNormalization), then a float32 `aux_predictions` classifier.
    """
    height, width = x.shape[1:3] if keras.backend.image_data_format() == "channels_last" else x.shape[2:4]
    if (height is not None and height < 17) or (width is not None and width < 17):
        raise ValueError(
            "The auxiliary classifier needs the 17x17 grid of `mixed7`, which an input of at "
            f"least {AUX_MIN_INPUT_SIZE}x{AUX_MIN_INPUT_SIZE} gives. Received: mixed7 of "
            f"{height}x{width}; use a larger input size."
        )
    x = layers.AveragePooling2D(5, strides=3, name="aux_pool")(x)  # 5 x 5 x 768
    x = _conv_bn(x, 128, 1, 1, "aux_1")  # 5 x 5 x 128
    x = _conv_bn(x, 768, 5, 5, "aux_2", padding="valid")  # 1 x 1 x 768
    x = layers.GlobalAveragePooling2D(name="aux_flatten")(x)
    return layers.Dense(
        classes, activation=classifier_activation, dtype="float32", name="aux_predictions"
    )(x)


def preprocess_input(x, data_format=None):
    """Scales RGB pixels from 0..255 to [-1, 1] without touching the input.

    Args:
        x: array-like or tensor of RGB images in 0..255 (any layout).
        data_format: ignored; accepted for `keras.applications` parity.
            Defaults to `None`.

    Returns:
        A new float32 array (or tensor, for tensor input) in [-1, 1].
    """
    del data_format
    if isinstance(x, (np.ndarray, list, tuple, int, float)):
        return np.asarray(x, dtype=np.float32) / 127.5 - 1.0
    return keras.ops.cast(x, "float32") / 127.5 - 1.0


@lru_cache(maxsize=1)
def imagenet_class_index() -> dict[int, tuple[str, str]]:
    """Returns {class id: (WordNet id, label)} for the 1000 ImageNet classes."""
    text = resources.files("inception_keras").joinpath("data/imagenet_class_index.json").read_text()
    return {int(k): (wnid, label) for k, (wnid, label) in json.loads(text).items()}


def decode_predictions(preds, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """Decodes ImageNet predictions offline.

    Args:
        preds: array of shape `(batch, 1000)`.
        top: how many of the best classes to return per image. Defaults to 5.

    Returns:
        One list per image of `(wordnet_id, label, score)`, best first.
    """
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError(
            "`decode_predictions` expects a batch of 1000 ImageNet scores, shape "
            f"(batch, 1000). Received: shape={preds.shape}"
        )
    index = imagenet_class_index()
    results = []
    for row in preds:
        best = np.argsort(row)[::-1][:top]
        results.append([(*index[int(i)], float(row[i])) for i in best])
    return results
