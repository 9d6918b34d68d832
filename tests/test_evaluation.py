"""Evaluation of a classifier on streamed batches: the labels, the confusion matrix, its report and its figure."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from conftest import brightness_classifier
from inception_keras.data_pipeline import image_dataset
from inception_keras.evaluation import (
    confusion_matrix,
    confusion_report,
    save_confusion_figure,
    true_and_predicted_labels,
)
from inception_keras.image_folders import ImageDecoder, list_image_folder


def test_the_confusion_counts_the_decodable_images_and_its_report_and_figure_say_so(brightness_dataset, tmp_path):
    (brightness_dataset / "bright" / "truncated.png").write_bytes(
        (brightness_dataset / "bright" / "bright_0.png").read_bytes()[:300])
    Image.new("RGB", (30, 30), (240, 240, 240)).save(brightness_dataset / "dark" / "mislabelled.png")
    files = list_image_folder(brightness_dataset)
    batches = image_dataset(files, ImageDecoder(8), 5, aux_targets=True)  # targets (main, aux): the main counts

    with pytest.warns(UserWarning, match="truncated.png"):
        true_labels, predicted = true_and_predicted_labels(brightness_classifier(), batches)
    assert len(true_labels) == len(predicted) == 17  # 18 files, the truncated one left out
    confusion = confusion_matrix(true_labels, predicted, 2)
    np.testing.assert_array_equal(confusion, [[8, 0], [1, 8]])  # rows true (bright, dark), columns predicted

    report = confusion_report(confusion, files.class_names).splitlines()
    assert report[0] == "validation accuracy: 0.941 (16/17, chance 0.500)"
    assert report[3].split() == ["bright", "8", "0", "(0)"] and report[4].split() == ["dark", "1", "8", "(1)"]

    figure = save_confusion_figure(confusion, files.class_names, tmp_path / "confusion.png")
    assert figure == tmp_path / "confusion.png" and Image.open(figure).size[0] > 100
    assert sorted(p.name for p in tmp_path.iterdir()) == ["confusion.png", "data"]
