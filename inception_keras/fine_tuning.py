"""Fine-tuning: a new classifier on the Inception-v3 trunk, trained in two phases on a class-per-folder dataset.

Phase one trains the new head on the frozen trunk; phase two (optional)
unfreezes the trunk from a named block with a lower learning rate. The
classifier is `inception_keras.classifier.build_classifier`'s, and the run
ends with its validation accuracy and confusion matrix
(`inception_keras.evaluation`). The images are streamed from their files
(`inception_keras.data_pipeline`), so a data set need not fit in memory, and
training runs under any `tf.distribute` strategy, several workers included
(`inception_keras.distributed_training`).

    result = finetune("photos/", "flowers.keras", weights="imagenet")
    print(result.report())
    model, class_names = load_classifier("flowers.keras")   # inception_keras.classifier
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from inception_keras.classifier import build_classifier, check_model_path, save_classifier, unfreeze_from
from inception_keras.data_pipeline import image_dataset
from inception_keras.distributed_training import fit_distributed, is_chief, is_multi_worker
from inception_keras.evaluation import (
    confusion_matrix,
    confusion_report,
    save_confusion_figure,
    true_and_predicted_labels,
)
from inception_keras.image_folders import ImageDecoder, ImageFolderFiles, list_image_folder, split_validation
from inception_keras.inception_v3 import AUX_MIN_INPUT_SIZE, InceptionV3
from inception_keras.names import resolve_layer_name
from inception_keras.precision import dtype_policy
from inception_keras.training import classifier_losses, paper_recipe
from inception_keras.weights import imagenet_weights_path, validate_weights_argument

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
RECIPES = ("adam", "paper")


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
        return confusion_report(self.confusion, self.class_names)


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
                                 precision, recipe, learning_rate, out,
                                 inputs=[data_dir, validation_dir, weights if isinstance(weights, (str, Path)) else None])
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

    true_labels, predicted = true_and_predicted_labels(model, streams.validation_batches())
    confusion = confusion_matrix(true_labels, predicted, len(files.class_names))
    result = FinetuneResult(model, files.class_names, float(np.mean(predicted == true_labels)),
                            confusion, history)
    if out is not None and is_chief(strategy):
        result.model_path = save_classifier(model, files.class_names, out)
        result.figure_path = save_confusion_figure(
            confusion, files.class_names, Path(out).with_name(f"{Path(out).stem}_confusion.png"))
    return result


def _resolved_trunk_weights(weights):
    """Checks a weights file, or downloads the ImageNet conv base, before any data is read."""
    validate_weights_argument(weights)
    if weights == "imagenet":
        return imagenet_weights_path(include_top=False)
    return weights


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


def _validate_finetune_arguments(epochs, fine_tune_epochs, image_size, batch_size, label_smoothing,
                                 precision, recipe, learning_rate, out, inputs=()):
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"`epochs` must be a whole number >= 1. Received: epochs={epochs}")
    if not isinstance(fine_tune_epochs, int) or fine_tune_epochs < 0:
        raise ValueError(f"`fine_tune_epochs` must be a whole number >= 0. Received: fine_tune_epochs={fine_tune_epochs}")
    if not isinstance(image_size, int) or image_size < 75:
        raise ValueError(f"`image_size` must be at least 75. Received: image_size={image_size}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a whole number >= 1. Received: batch_size={batch_size}")
    if label_smoothing is not None and not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"`label_smoothing` must be in [0, 1). Received: label_smoothing={label_smoothing}")
    if precision not in PRECISIONS:
        raise ValueError(f"`precision` must be one of {', '.join(PRECISIONS)}. Received: precision={precision!r}")
    if recipe not in RECIPES:
        raise ValueError(f"`recipe` must be one of {', '.join(RECIPES)}. Received: recipe={recipe!r}")
    if learning_rate is not None and not (np.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"`learning_rate` must be a positive number. Received: learning_rate={learning_rate}")
    if out is not None:
        check_model_path(out, inputs)
