"""A new classifier on the Inception-v3 trunk: building it, unfreezing the trunk, saving and loading it.

The classifier takes raw 0..255 RGB (the scaling is inside it), runs its
trunk's BatchNormalization in inference mode, and its outputs are float32
under any mixed-precision policy. A saved classifier is a `.keras` file with
its class names inside.

    model = build_classifier(5, image_size=299, weights="imagenet")
    save_classifier(model, ["daisy", "dandelion", "rose", "sunflower", "tulip"], "flowers.keras")
    model, class_names = load_classifier("flowers.keras")

`inception_keras.fine_tuning.finetune` trains one on a class-per-folder dataset.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import keras

from inception_keras.files import atomic_path, check_output
from inception_keras.inception_v3 import InceptionV3, auxiliary_classifier
from inception_keras.names import resolve_layer_name

TRUNK_NAME = "inception_v3"
# The class names travel inside the .keras archive; Keras ignores the extra entry.
CLASS_NAMES_ENTRY = "inception_keras_classes.json"


def build_classifier(num_classes: int, image_size: int = 299, weights="imagenet",
                     aux_logits: bool = False, dropout: float = 0.2,
                     augmentation: bool = True) -> keras.Model:
    """Returns an Inception-v3 classifier for `num_classes`, its trunk frozen.

    The model takes `(image_size, image_size, 3)` raw 0..255 RGB. It holds
    random flip, rotation and zoom layers (active in training only), the
    trunk as a nested model named `inception_v3` (called in inference mode,
    so BatchNorm statistics never move), global average pooling, dropout
    and a float32 softmax `predictions` layer. With `aux_logits=True` it also
    returns `aux_predictions` from the paper's auxiliary classifier on `mixed7`.

    Args:
        num_classes: number of classes, at least 2.
        image_size: input height and width. Defaults to 299.
        weights: trunk weights: `"imagenet"`, a file (a no-top file is
            enough), or `None`. Defaults to `"imagenet"`.
        aux_logits: add the auxiliary classifier. Defaults to `False`.
        dropout: dropout rate before the classifier. Defaults to 0.2.
        augmentation: include the augmentation layers. Defaults to `True`.

    Returns:
        A `keras.Model` named `inception_v3_classifier`.
    """
    if num_classes < 2:
        raise ValueError(f"A classifier needs at least 2 classes. Received: num_classes={num_classes}")
    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = _augmentation_layers()(inputs) if augmentation else inputs
    base = InceptionV3(include_top=False, weights=weights, input_shape=(image_size, image_size, 3),
                       include_preprocessing=True, name=TRUNK_NAME)
    if aux_logits:
        base = keras.Model(base.input, [base.output, base.get_layer("mixed7").output], name=TRUNK_NAME)
    base.trainable = False
    features = base(x, training=False)
    last_block, mixed7 = features if aux_logits else (features, None)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(last_block)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="predictions")(x)
    if aux_logits:
        outputs = [outputs, auxiliary_classifier(mixed7, num_classes)]
    return keras.Model(inputs, outputs, name="inception_v3_classifier")


def unfreeze_from(model: keras.Model, block: str) -> list[str]:
    """Makes the trunk trainable from `block` (e.g. `"mixed7"`) to its end.

    Layers before the block stay frozen, and every BatchNormalization stays
    frozen.

    Args:
        model: a classifier from `build_classifier`.
        block: a block name or its TF-slim alias (`"Mixed_6e"`).

    Returns:
        The names of the trunk layers now trainable.
    """
    trunk = model.get_layer(TRUNK_NAME)
    name = resolve_layer_name(trunk, block)
    first = next(i for i, layer in enumerate(trunk.layers)
                 if layer.name == name or layer.name.startswith(f"{name}_"))
    trunk.trainable = True
    for index, layer in enumerate(trunk.layers):
        layer.trainable = index >= first and not isinstance(layer, keras.layers.BatchNormalization)
    return [layer.name for layer in trunk.layers if layer.trainable and layer.weights]


def main_output(predictions):
    """The main classifier's scores from a model's output (a list with `aux_logits`)."""
    return predictions[0] if isinstance(predictions, (list, tuple)) else predictions


def save_classifier(model: keras.Model, class_names: list[str], path) -> Path:
    """Saves `model` as a `.keras` file, with its class names inside, atomically.

    Args:
        model: the classifier.
        class_names: the label of each output index.
        path: the file to write, ending in `.keras`, in an existing folder.

    Returns:
        `path`, as a `Path`.
    """
    path = Path(path)
    check_model_path(path)
    with atomic_path(path) as temp_path:
        model.save(temp_path)
        with zipfile.ZipFile(temp_path, "a") as archive:
            archive.writestr(CLASS_NAMES_ENTRY, json.dumps({"class_names": list(class_names)}))
    return path


def load_classifier(path) -> tuple[keras.Model, list[str]]:
    """Loads a model saved by `save_classifier` (safe mode) and its class names.

    A `.keras` file saved otherwise loads too; its classes are then named
    `class_0`, `class_1`, ...

    Args:
        path: the `.keras` file.

    Returns:
        `(model, class_names)`.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"Model file not found: {path}")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a .keras model file (a zip archive saved by Keras 3).")
    model = keras.models.load_model(path, safe_mode=True)
    with zipfile.ZipFile(path) as archive:
        if CLASS_NAMES_ENTRY in archive.namelist():
            return model, json.loads(archive.read(CLASS_NAMES_ENTRY))["class_names"]
    classes = main_output(model.outputs)[0].shape[-1]
    return model, [f"class_{i}" for i in range(classes)]


def check_model_path(path, inputs=()) -> None:
    """Raises `ValueError` unless `path` ends in `.keras` and can be written without replacing one of `inputs`.

    Checked before any work is done (`inception_keras.files.check_output`).
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"The model file must end in .keras. Received: {path}")
    check_output(path, inputs, flag="--out")


def _augmentation_layers() -> keras.Sequential:
    return keras.Sequential([
        keras.layers.RandomFlip("horizontal"),
        keras.layers.RandomRotation(0.05),
        keras.layers.RandomZoom(0.1),
    ], name="augmentation")
