"""Transfer learning: a new classifier on the Inception-v3 trunk, trained in two phases.

Phase one trains the new head on the frozen trunk; phase two (optional)
unfreezes the trunk from a named block with a lower learning rate. The trunk
always runs its BatchNormalization in inference mode, the model takes raw
0..255 RGB (scaling is inside it), and the classifier outputs are float32
under any mixed-precision policy. The images are streamed from their files
(`inception_keras.data_pipeline`), so a data set need not fit in memory, and
training runs under any `tf.distribute` strategy, several workers included
(`inception_keras.distributed_training`).

    result = finetune("photos/", "flowers.keras", weights="imagenet")
    model, class_names = load_classifier("flowers.keras")
"""

from __future__ import annotations

import contextlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from inception_keras.data_pipeline import ImageDecoder, image_dataset
from inception_keras.distributed_training import fit_distributed, is_chief, is_multi_worker
from inception_keras.files import atomic_path
from inception_keras.image_folders import ImageFolderFiles, list_image_folder, split_validation
from inception_keras.inception_v3 import AUX_MIN_INPUT_SIZE, InceptionV3, auxiliary_classifier
from inception_keras.names import resolve_layer_name
from inception_keras.precision import dtype_policy
from inception_keras.training import classifier_losses, paper_recipe
from inception_keras.weights import imagenet_weights_path, validate_weights_argument

TRUNK_NAME = "inception_v3"
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
RECIPES = ("adam", "paper")
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
    frozen. Returns the names of the trunk layers now trainable.
    """
    trunk = model.get_layer(TRUNK_NAME)
    name = resolve_layer_name(trunk, block)
    first = next(i for i, layer in enumerate(trunk.layers)
                 if layer.name == name or layer.name.startswith(f"{name}_"))
    trunk.trainable = True
    for index, layer in enumerate(trunk.layers):
        layer.trainable = index >= first and not isinstance(layer, keras.layers.BatchNormalization)
    return [layer.name for layer in trunk.layers if layer.trainable and layer.weights]


@dataclass
class FinetuneResult:
    """What `finetune` produced.

    Attributes:
        model: the trained classifier.
        class_names: the label of each output index.
        validation_accuracy: accuracy of the main output on the validation set.
        confusion: `(classes, classes)` counts, rows true, columns predicted.
        history: the `keras.callbacks.History` of each phase.
        model_path: where the model was saved (`None` if not saved, as on
            a worker that is not the chief).
        figure_path: where the confusion-matrix figure was saved.
    """

    model: keras.Model
    class_names: list[str]
    validation_accuracy: float
    confusion: np.ndarray
    history: list
    model_path: Path | None = None
    figure_path: Path | None = None

    def report(self) -> str:
        """The validation accuracy and the confusion matrix as text."""
        width = max(len(n) for n in self.class_names)
        counts = max(len(str(int(self.confusion.max()))), 4)
        lines = [
            f"validation accuracy: {self.validation_accuracy:.3f} "
            f"({int(np.trace(self.confusion))}/{int(self.confusion.sum())}, chance "
            f"{1 / len(self.class_names):.3f})",
            "confusion matrix (rows: true class, columns: predicted):",
            " " * width + "  " + " ".join(str(i).rjust(counts) for i in range(len(self.class_names))),
        ]
        for index, (name, row) in enumerate(zip(self.class_names, self.confusion)):
            cells = " ".join(str(int(v)).rjust(counts) for v in row)
            lines.append(f"{name.ljust(width)}  {cells}   ({index})")
        return "\n".join(lines)


def finetune(data_dir, out=None, *, weights="imagenet", epochs: int = 5, fine_tune_epochs: int = 3,
             image_size: int = 299, batch_size: int = 32, unfreeze_from_block: str | None = None,
             label_smoothing: float | None = None, aux_logits: bool = False,
             precision: str = "float32", recipe: str = "adam", learning_rate: float | None = None,
             validation_split: float = 0.2, validation_dir=None, seed: int = 0, cache_dir=None,
             strategy=None, callbacks: list | None = None, verbose: int | str = "auto") -> FinetuneResult:
    """Fine-tunes an Inception-v3 classifier on a class-per-folder dataset.

    Args:
        data_dir: one sub-folder of images per class.
        out: where to save the `.keras` model (and `<stem>_confusion.png`
            beside it); under a multi-worker strategy every worker is given
            the same `out` and the chief alone writes it. Defaults to
            `None`: nothing is saved.
        weights: trunk weights, as in `build_classifier`. Defaults to `"imagenet"`.
        epochs: phase-one epochs (new head, frozen trunk). Defaults to 5.
        fine_tune_epochs: phase-two epochs, run when `unfreeze_from_block`
            is given. Defaults to 3.
        image_size: square input size. Defaults to 299.
        batch_size: global batch size. Defaults to 32.
        unfreeze_from_block: block from which phase two trains the trunk,
            e.g. `"mixed7"`. Defaults to `None` (no phase two).
        label_smoothing: label-smoothing epsilon. Defaults to `None`: 0.1
            with the paper recipe, 0 otherwise.
        aux_logits: train the auxiliary classifier too (weight 0.4).
            Defaults to `False`.
        precision: `"float32"`, `"mixed_bfloat16"` or `"mixed_float16"`.
            Defaults to `"float32"`.
        recipe: `"adam"` (Adam, learning rate 1e-2 for the new head) or `"paper"`
            (`inception_keras.training.paper_recipe`). Defaults to `"adam"`.
        learning_rate: phase-one learning rate; phase two uses a hundredth
            of it. Defaults to `None`: the recipe's.
        validation_split: fraction of each class held out when
            `validation_dir` is not given. Defaults to 0.2.
        validation_dir: a separate class-per-folder validation set.
            Defaults to `None`.
        seed: seed of the split, the initialisation, the shuffling and the
            augmentation. Defaults to 0.
        cache_dir: keep decoded images in this folder for later epochs and
            runs. Defaults to `None`: decode them every epoch.
        strategy: a `tf.distribute.Strategy` to build and train under, e.g.
            from `inception_keras.distributed_training.make_strategy`; a
            `MultiWorkerMirroredStrategy` trains with `fit_distributed`.
            Defaults to `None` (the default strategy).
        callbacks: Keras callbacks for both phases' `fit`. Defaults to `None`.
        verbose: Keras `fit` verbosity (a progress bar per epoch by default).

    Returns:
        A `FinetuneResult`.
    """
    _validate_finetune_arguments(epochs, fine_tune_epochs, image_size, batch_size, label_smoothing,
                                 precision, recipe, learning_rate, out)
    if aux_logits and image_size < AUX_MIN_INPUT_SIZE:
        raise ValueError(
            "The auxiliary classifier needs the 17x17 grid of `mixed7`, which an image size of at "
            f"least {AUX_MIN_INPUT_SIZE} gives. Received: image_size={image_size}"
        )
    if unfreeze_from_block is not None:
        resolve_layer_name(InceptionV3(include_top=False, weights=None, input_shape=(75, 75, 3)),
                           unfreeze_from_block)
    replicas = strategy.num_replicas_in_sync if strategy is not None else 1
    if is_multi_worker(strategy) and batch_size % replicas:
        raise ValueError(f"`batch_size` is global: it must be a multiple of the {replicas} replicas of all "
                         f"workers. Received: batch_size={batch_size}")
    weights = _resolved_trunk_weights(weights)
    files = list_image_folder(data_dir)
    if validation_dir is not None:
        train, validation = files, list_image_folder(validation_dir, files.class_names)
    else:
        train, validation = split_validation(files, validation_split, seed)
    streams = _Streams(train, validation, ImageDecoder(image_size, cache_dir), batch_size, aux_logits, seed)

    keras.utils.set_random_seed(seed)
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with dtype_policy(precision), scope:
        model = build_classifier(len(files.class_names), image_size, weights, aux_logits)
        _compile(model, recipe, learning_rate, label_smoothing, aux_logits, streams.steps_per_epoch, phase=1)
    history = [streams.fit(model, strategy, epochs, callbacks, verbose)]
    if unfreeze_from_block is not None and fine_tune_epochs > 0:
        with scope:
            unfreeze_from(model, unfreeze_from_block)
            _compile(model, recipe, learning_rate, label_smoothing, aux_logits, streams.steps_per_epoch, phase=2)
        history.append(streams.fit(model, strategy, fine_tune_epochs, callbacks, verbose))

    true_labels, predicted = _true_and_predicted_labels(model, streams.validation_batches())
    confusion = confusion_matrix(true_labels, predicted, len(files.class_names))
    result = FinetuneResult(model, files.class_names, float(np.mean(predicted == true_labels)),
                            confusion, history)
    if out is not None and is_chief(strategy):
        result.model_path = save_classifier(model, files.class_names, out)
        result.figure_path = save_confusion_figure(
            confusion, files.class_names, Path(out).with_name(f"{Path(out).stem}_confusion.png"))
    return result


def main_output(predictions):
    """The main classifier's scores from a model's output (list with `aux_logits`)."""
    return predictions[0] if isinstance(predictions, (list, tuple)) else predictions


def confusion_matrix(true_labels, predicted_labels, num_classes: int) -> np.ndarray:
    """Returns `(classes, classes)` int counts; rows are true classes, columns predicted."""
    matrix = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(matrix, (np.asarray(true_labels, int), np.asarray(predicted_labels, int)), 1)
    return matrix


def save_confusion_figure(confusion: np.ndarray, class_names: list[str], path) -> Path:
    """Draws the confusion matrix with matplotlib and writes it atomically as PNG."""
    from matplotlib.figure import Figure

    size = 2.5 + 0.45 * len(class_names)
    figure = Figure(figsize=(size + 1, size))
    axes = figure.add_subplot()
    image = axes.imshow(confusion, cmap="Blues")
    figure.colorbar(image, ax=axes)
    ticks = range(len(class_names))
    axes.set_xticks(ticks, class_names, rotation=45, ha="right")
    axes.set_yticks(ticks, class_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    threshold = confusion.max() / 2
    for (row, column), count in np.ndenumerate(confusion):
        axes.text(column, row, str(count), ha="center", va="center",
                  color="white" if count > threshold else "black")
    accuracy = np.trace(confusion) / max(1, confusion.sum())
    axes.set_title(f"validation accuracy {accuracy:.3f}")
    figure.tight_layout()
    path = Path(path)
    with atomic_path(path) as temp_path:
        figure.savefig(temp_path, format="png", dpi=100)
    return path


def save_classifier(model: keras.Model, class_names: list[str], path) -> Path:
    """Saves `model` as a `.keras` file, with its class names inside, atomically."""
    path = Path(path)
    _check_model_path(path)
    with atomic_path(path) as temp_path:
        model.save(temp_path)
        with zipfile.ZipFile(temp_path, "a") as archive:
            archive.writestr(CLASS_NAMES_ENTRY, json.dumps({"class_names": list(class_names)}))
    return path


def load_classifier(path) -> tuple[keras.Model, list[str]]:
    """Loads a model saved by `save_classifier` (safe mode) and its class names.

    A `.keras` file saved otherwise loads too; its classes are then named
    `class_0`, `class_1`, ...
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


def _resolved_trunk_weights(weights):
    """Checks a weights file, or downloads the ImageNet conv base, before any data is read."""
    validate_weights_argument(weights)
    if weights == "imagenet":
        return imagenet_weights_path(include_top=False)
    return weights


def _augmentation_layers() -> keras.Sequential:
    return keras.Sequential([
        keras.layers.RandomFlip("horizontal"),
        keras.layers.RandomRotation(0.05),
        keras.layers.RandomZoom(0.1),
    ], name="augmentation")


def _compile(model, recipe, learning_rate, label_smoothing, aux_logits, steps_per_epoch, phase):
    default_rate = 0.045 if recipe == "paper" else 1e-2
    rate = (learning_rate or default_rate) / (1 if phase == 1 else 100)
    if recipe == "paper":
        smoothing = 0.1 if label_smoothing is None else label_smoothing
        paper_recipe(steps_per_epoch, aux_logits=aux_logits, learning_rate=rate,
                     label_smoothing=smoothing).compile(model)
        return
    model.compile(optimizer=keras.optimizers.Adam(rate), **classifier_losses(label_smoothing or 0.0, aux_logits))


@dataclass
class _Streams:
    """The training and validation images of one `finetune` run, as tf.data streams."""

    train: ImageFolderFiles
    validation: ImageFolderFiles
    decoder: ImageDecoder
    batch_size: int
    aux_logits: bool
    seed: int

    @property
    def steps_per_epoch(self) -> int:
        return -(-len(self.train) // self.batch_size)

    def fit(self, model, strategy, epochs, callbacks, verbose) -> keras.callbacks.History:
        """One phase of training: `Model.fit`, or `fit_distributed` across workers."""
        if not is_multi_worker(strategy):
            return model.fit(self._batches(self.train, self.batch_size, shuffle=True), epochs=epochs, shuffle=False,
                             validation_data=self.validation_batches(), callbacks=callbacks, verbose=verbose)
        return fit_distributed(
            model, strategy, lambda context: self._worker_batches(self.train, context, shuffle=True),
            epochs, self.steps_per_epoch,
            validation_dataset_fn=lambda context: self._worker_batches(self.validation, context, shuffle=False),
            validation_steps=-(-len(self.validation) // self.batch_size), callbacks=callbacks, verbose=verbose,
        )

    def validation_batches(self):
        return self._batches(self.validation, self.batch_size, shuffle=False)

    def _batches(self, files, batch_size, shuffle, **options):
        return image_dataset(files, self.decoder, batch_size, shuffle_seed=self.seed if shuffle else None,
                             aux_targets=self.aux_logits, **options)

    def _worker_batches(self, files, context, shuffle):
        # Endless, so every worker runs the same number of steps; each decodes only its share of the files.
        return self._batches(files, context.get_per_replica_batch_size(self.batch_size), shuffle, repeat=True,
                             shard=(context.num_input_pipelines, context.input_pipeline_id))


def _true_and_predicted_labels(model, batches) -> tuple[np.ndarray, np.ndarray]:
    """The labels of the decodable images in `batches`, and the model's predictions."""
    if keras.backend.backend() == "tensorflow":
        # Compiled: eager calls doubled finetune's peak memory. (`model.predict` fails across workers.)
        predict = tf.function(lambda images: main_output(model(images, training=False)))
    else:
        def predict(images):
            return main_output(model.predict_on_batch(images.numpy()))
    true_labels, predicted = [], []
    for images, targets, weights in batches:
        decoded = np.asarray(weights) > 0
        true_labels.append(np.argmax(main_output(targets), axis=1)[decoded])
        predicted.append(np.argmax(keras.ops.convert_to_numpy(predict(images)), axis=1)[decoded])
    return np.concatenate(true_labels), np.concatenate(predicted)


def _validate_finetune_arguments(epochs, fine_tune_epochs, image_size, batch_size, label_smoothing,
                                 precision, recipe, learning_rate, out):
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"`epochs` must be a whole number >= 1. Received: epochs={epochs}")
    if not isinstance(fine_tune_epochs, int) or fine_tune_epochs < 0:
        raise ValueError(f"`fine_tune_epochs` must be a whole number >= 0. Received: {fine_tune_epochs}")
    if not isinstance(image_size, int) or image_size < 75:
        raise ValueError(f"`image_size` must be at least 75. Received: image_size={image_size}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a whole number >= 1. Received: batch_size={batch_size}")
    if label_smoothing is not None and not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"`label_smoothing` must be in [0, 1). Received: label_smoothing={label_smoothing}")
    if precision not in PRECISIONS:
        raise ValueError(f"`precision` must be one of {', '.join(PRECISIONS)}. Received: {precision!r}")
    if recipe not in RECIPES:
        raise ValueError(f"`recipe` must be one of {', '.join(RECIPES)}. Received: {recipe!r}")
    if learning_rate is not None and not (np.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"`learning_rate` must be a positive number. Received: {learning_rate}")
    if out is not None:
        _check_model_path(Path(out))


def _check_model_path(path: Path) -> None:
    if path.suffix != ".keras":
        raise ValueError(f"The model file must end in .keras. Received: {path}")
    if not path.parent.is_dir():
        raise ValueError(f"Output folder does not exist: {path.parent}")

