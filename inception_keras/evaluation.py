"""How well a classifier does on labelled batches: its predictions, the confusion matrix as text and as a figure.

    true_labels, predicted = true_and_predicted_labels(model, batches)
    confusion = confusion_matrix(true_labels, predicted, len(class_names))
    print(confusion_report(confusion, class_names))
    save_confusion_figure(confusion, class_names, "flowers_confusion.png")

The batches are those `inception_keras.data_pipeline.image_dataset` streams:
`(images, one-hot targets, sample weights)`, an image that could not be
decoded weighing 0 and left out of the counts.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from inception_keras.classifier import main_output
from inception_keras.files import atomic_path


def true_and_predicted_labels(model: keras.Model, batches) -> tuple[np.ndarray, np.ndarray]:
    """The labels of the decodable images in `batches`, and the model's predicted labels.

    Args:
        model: a classifier (a list output with `aux_logits`: the main one counts).
        batches: `(images, targets, sample_weights)` batches; targets are
            one-hot, or a `(main, aux)` pair of them.

    Returns:
        `(true_labels, predicted_labels)`, int arrays of the same length.
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

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


def confusion_matrix(true_labels, predicted_labels, num_classes: int) -> np.ndarray:
    """Returns `(classes, classes)` int counts; rows are true classes, columns predicted."""
    matrix = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(matrix, (np.asarray(true_labels, int), np.asarray(predicted_labels, int)), 1)
    return matrix


def confusion_report(confusion: np.ndarray, class_names: list[str]) -> str:
    """The accuracy (against chance) and the confusion matrix as text, one row per true class."""
    width = max(len(name) for name in class_names)
    counts = max(len(str(int(confusion.max()))), 4)
    correct, total = int(np.trace(confusion)), int(confusion.sum())
    lines = [
        f"validation accuracy: {correct / max(1, total):.3f} ({correct}/{total}, chance "
        f"{1 / len(class_names):.3f})",
        "confusion matrix (rows: true class, columns: predicted):",
        " " * width + "  " + " ".join(str(i).rjust(counts) for i in range(len(class_names))),
    ]
    for index, (name, row) in enumerate(zip(class_names, confusion)):
        cells = " ".join(str(int(v)).rjust(counts) for v in row)
        lines.append(f"{name.ljust(width)}  {cells}   ({index})")
    return "\n".join(lines)


def save_confusion_figure(confusion: np.ndarray, class_names: list[str], path) -> Path:
    """Draws the confusion matrix with matplotlib and writes it atomically as PNG.

    Args:
        confusion: `(classes, classes)` counts from `confusion_matrix`.
        class_names: the label of each row and column.
        path: the PNG file to write.

    Returns:
        `path`, as a `Path`.
    """
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
