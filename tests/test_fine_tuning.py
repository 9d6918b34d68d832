"""Class-per-folder data, `finetune` (function, CLI and example), saved classifiers and `predict --model`."""

from __future__ import annotations

import runpy
import sys
import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from conftest import write_brightness_dataset
from inception_keras.cli import main
from inception_keras.image_folders import read_image_folder, split_validation
from inception_keras.classifier import load_classifier
from inception_keras.fine_tuning import finetune

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "transfer_learning.py"


def test_image_folder_reads_mixed_sizes_and_modes_and_skips_bad_files(brightness_dataset):
    (brightness_dataset / "dark" / "broken.jpg").write_text("not a picture")
    (brightness_dataset / "dark" / "notes.txt").write_text("ignored: not an image suffix")
    with pytest.warns(UserWarning, match="broken.jpg"):
        data = read_image_folder(brightness_dataset, 80)
    assert data.class_names == ["bright", "dark"]
    assert data.images.shape == (16, 80, 80, 3) and data.images.dtype == np.uint8
    assert data.images[data.labels == 0].mean() > 150 > 100 > data.images[data.labels == 1].mean()
    train, validation = split_validation(data, 0.25, seed=3)
    assert sorted(np.bincount(validation.labels)) == [2, 2]
    assert not set(train.paths) & set(validation.paths)
    assert len(train) + len(validation) == len(data)


@pytest.mark.parametrize(
    "layout, message",
    [
        ({}, "no class sub-folders"),
        ({"cats": 3}, "only one class"),
        ({"cats": 3, "dogs": 0}, "without images in"),
        ({"cats": 1, "dogs": 3}, "at least two per class"),
        ({"train/cats": 2, "train/dogs": 2, "val/cats": 2, "val/dogs": 2}, "looks like a split dataset"),
    ],
)
def test_bad_datasets_get_one_line_exit_2_and_nothing_written(layout, message, tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    for name, count in layout.items():
        (data / name).mkdir(parents=True)
        for index in range(count):
            Image.new("RGB", (90, 90), (index * 40, 0, 0)).save(data / name / f"{index}.png")
    out = tmp_path / "model.keras"
    assert main(["finetune", str(data), "--out", str(out), "--weights", "none", "--image-size", "75"]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and message in error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--epochs", "0"], "epochs"),
        (["--image-size", "32"], "image_size"),
        (["--label-smoothing", "1.5"], "label_smoothing"),
        (["--unfreeze-from", "mixed77"], "mixed7"),
        (["--aux"], "17x17"),
        (["--validation-split", "1.5"], "between 0 and 1"),
        (["--recipe", "sgd"], "invalid choice"),
    ],
)
def test_bad_finetune_arguments_exit_2(extra, message, brightness_dataset, tmp_path, capsys):
    out = tmp_path / "model.keras"
    argv = ["finetune", str(brightness_dataset), "--out", str(out), "--weights", "none", "--image-size", "96"]
    assert main(argv + extra) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and message in error
    assert not out.exists()


def test_bad_output_paths_and_missing_data_exit_2(brightness_dataset, tmp_path, capsys):
    for out, data, message in [
        (tmp_path / "model.h5", brightness_dataset, "end in .keras"),
        (tmp_path / "nowhere" / "m.keras", brightness_dataset, "does not exist"),
        (tmp_path / "m.keras", tmp_path / "missing", "not found"),
    ]:
        assert main(["finetune", str(data), "--out", str(out), "--weights", "none"]) == 2
        assert message in capsys.readouterr().err


@pytest.mark.slow
def test_finetune_cli_saves_a_reloadable_mixed_precision_model_that_predict_uses(tmp_path, capsys):
    # 7 a class and a truncated file: 12 training images in three full batches of 4, one compiled step a phase.
    data = write_brightness_dataset(tmp_path / "data", per_class=7)
    (data / "bright" / "truncated.png").write_bytes((data / "bright" / "bright_0.png").read_bytes()[:300])
    out = tmp_path / "model.keras"
    argv = ["finetune", str(data), "--out", str(out), "--weights", "none", "--image-size", "75",
            "--epochs", "1", "--batch-size", "4", "--unfreeze-from", "mixed10", "--fine-tune-epochs", "1",
            "--precision", "mixed_bfloat16", "--quiet"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "truncated.png" in captured.err and len(captured.err.strip().splitlines()) == 1
    assert "validation accuracy:" in captured.out and "confusion matrix" in captured.out
    figure = tmp_path / "model_confusion.png"
    assert Image.open(figure).size[0] > 100
    assert not [p for p in tmp_path.iterdir() if ".part" in p.name]

    assert keras.config.dtype_policy().name == "float32"  # the policy was set for the run only
    model = keras.models.load_model(out, safe_mode=True)
    assert model.output_shape == (None, 2)
    assert model.get_layer("inception_v3").get_layer("mixed10_branch1x1_1_conv").compute_dtype == "bfloat16"
    scores = model.predict(np.full((1, 75, 75, 3), 200.0, "float32"), verbose=0)
    assert scores.dtype == np.float32 and np.isclose(scores.sum(), 1.0, atol=1e-5)
    _, class_names = load_classifier(out)
    assert class_names == ["bright", "dark"]

    photo = tmp_path / "new.png"
    Image.new("RGB", (120, 90), (230, 230, 230)).save(photo)
    assert main(["predict", str(photo), "--model", str(out), "--top", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == str(photo)
    assert sorted(line.split()[1] for line in lines[1:]) == ["bright", "dark"]


def test_predict_model_errors_are_one_line(tmp_path, grace_hopper_path, capsys):
    not_a_model = tmp_path / "model.keras"
    not_a_model.write_text("nope")
    for argv, message in [
        (["predict", str(grace_hopper_path), "--model", str(not_a_model)], "not a .keras model"),
        (["predict", str(grace_hopper_path), "--model", str(tmp_path / "none.keras")], "not found"),
        (["predict", str(grace_hopper_path), "--model", str(not_a_model), "--weights", "none"], "not both"),
    ]:
        assert main(argv) == 2
        assert message in capsys.readouterr().err


@pytest.mark.slow
def test_finetune_uses_adam_and_the_label_smoothing_asked_for(finetuned_brightness):
    plain, _ = finetuned_brightness  # `conftest.finetuned_brightness`: adam, label_smoothing=0.2
    assert isinstance(plain.model.optimizer, keras.optimizers.Adam)
    assert plain.model.loss.get_config()["label_smoothing"] == pytest.approx(0.2)
    assert plain.confusion.sum() == 4 and plain.confusion.shape == (2, 2)
    assert len(plain.history) == 1


def run_example(monkeypatch, capsys, *argv: str) -> str:
    """Runs `examples/transfer_learning.py` in this process, as `python` would; returns what it printed."""
    monkeypatch.setattr(sys, "argv", [str(EXAMPLE), *argv])
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    return capsys.readouterr().out


@pytest.mark.slow
def test_transfer_learning_example_beats_chance_with_trained_weights(trained_weights_path, tmp_path, monkeypatch,
                                                                    capsys):
    out = tmp_path / "textures.keras"
    printed = run_example(monkeypatch, capsys, "--weights", str(trained_weights_path), "--epochs", "2",
                          "--image-size", "96", "--patches", "16", "--out", str(out))
    accuracy = float(printed.split("validation accuracy:")[1].split()[0])
    assert accuracy >= 0.75  # chance is 1/3
    with zipfile.ZipFile(out) as archive:
        assert "inception_keras_classes.json" in archive.namelist()


@pytest.mark.slow
def test_transfer_learning_example_runs_without_trained_weights(monkeypatch, capsys):
    printed = run_example(monkeypatch, capsys, "--weights", "none", "--epochs", "1", "--image-size", "75",
                          "--patches", "4")
    assert "validation accuracy:" in printed
    assert all(name in printed for name in ("brick", "grass", "gravel"))


@pytest.mark.slow
def test_finetune_with_the_paper_recipe_trains_both_heads_then_the_trunk(brightness_dataset, tmp_path):
    # The auxiliary head needs 299 px; 12 training images in three full batches of 4, one compiled step a phase.
    result = finetune(brightness_dataset, tmp_path / "aux.keras", weights=None, epochs=1, image_size=299,
                      batch_size=4, aux_logits=True, recipe="paper", unfreeze_from_block="mixed10",
                      fine_tune_epochs=1, verbose=0)
    optimizer = result.model.optimizer
    assert isinstance(optimizer, keras.optimizers.RMSprop)
    assert (optimizer.rho, optimizer.epsilon, optimizer.clipnorm) == (0.9, 1.0, 2.0)
    assert float(optimizer.learning_rate) == pytest.approx(0.045 / 100)  # phase two
    assert [loss.get_config()["label_smoothing"] for loss in result.model.loss] == pytest.approx([0.1, 0.1])
    assert len(result.history) == 2

    assert result.model.output_names == ["predictions", "aux_predictions"]
    assert result.model.get_compile_config()["loss_weights"] == [1.0, 0.4]
    history = result.history[0].history
    assert any(key.startswith("aux_predictions") and key.endswith("loss") for key in history), history
    model, class_names = load_classifier(tmp_path / "aux.keras")
    assert class_names == ["bright", "dark"] and len(model.outputs) == 2


def test_validation_folder_must_have_the_training_classes(brightness_dataset, tmp_path, capsys):
    validation = tmp_path / "validation"
    for name in ("bright", "other"):
        (validation / name).mkdir(parents=True)
        Image.new("RGB", (80, 80)).save(validation / name / "a.png")
    argv = ["finetune", str(brightness_dataset), "--out", str(tmp_path / "m.keras"), "--weights", "none",
            "--image-size", "75", "--validation-dir", str(validation)]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert "differ from the training classes" in error and not (tmp_path / "m.keras").exists()
