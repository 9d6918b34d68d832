"""`export` (SavedModel, ONNX, LiteRT) of a fine-tuned classifier, and `predict` over folders of photos with each export."""

from __future__ import annotations

import csv
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from inception_keras import export as export_module
from inception_keras.cli import main
from inception_keras.classifier import load_classifier
from inception_keras.export import export_model
from inception_keras.exported import load_exported

PHOTOS = ("coffee", "chelsea")
FORMATS = {"savedmodel": "model_savedmodel", "onnx": "model.onnx", "litert": "model.tflite"}


def write_photo_crops(root: Path, per_class: int, seed: int = 0) -> Path:
    """Writes `per_class` small JPEG crops of each of two scikit-image photos, one class folder per photo."""
    import skimage.data

    rng = np.random.RandomState(seed)
    for name in PHOTOS:
        photo = Image.fromarray(getattr(skimage.data, name)())
        (root / name).mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            side = int(rng.uniform(0.4, 0.9) * min(photo.size))
            left, top = rng.randint(0, photo.width - side + 1), rng.randint(0, photo.height - side + 1)
            crop = photo.crop((left, top, left + side, top + side)).resize((96, 96), Image.BICUBIC)
            crop.save(root / name / f"{name}_{index}.jpg", quality=90)
    return root


@pytest.fixture(scope="module")
def finetuned(finetuned_brightness) -> Path:
    """The `.keras` classifier of the run the test files share (random trunk, 75 px, one epoch, two classes)."""
    result, _ = finetuned_brightness
    return result.model_path


@pytest.fixture(scope="module")
def finetuned_model(finetuned) -> tuple[keras.Model, list[str]]:
    """The shared classifier reloaded from its `.keras` file, and its class names."""
    return load_classifier(finetuned)


@pytest.fixture(scope="module")
def unseen_photos(tmp_path_factory) -> np.ndarray:
    """Five crops of two scikit-image photos, 75 px, float32 0..255."""
    folder = write_photo_crops(tmp_path_factory.mktemp("unseen"), per_class=3, seed=7)
    from inception_keras.image_folders import decode_resized

    return np.stack([decode_resized(path, 75) for path in sorted(folder.rglob("*.jpg"))[:5]]).astype("float32")


@pytest.fixture(scope="module")
def exports(finetuned_model, tmp_path_factory) -> dict[str, Path]:
    """The fine-tuned model exported in every format by the library: {format: path}.

    `export` on the command line is tested on a tiny `.keras` model below and with `--features`.
    """
    model, class_names = finetuned_model
    folder = tmp_path_factory.mktemp("exports")
    return {format: export_model(model, folder / name, format, class_names=class_names).path
            for format, name in FORMATS.items()}


@pytest.mark.slow
@pytest.mark.parametrize("format", list(FORMATS))
def test_each_export_reloads_in_its_runtime_and_agrees_with_keras(format, exports, finetuned_model, unseen_photos):
    model, class_names = finetuned_model
    expected = model.predict(unseen_photos, verbose=0)
    served = load_exported(exports[format])
    assert served.format == format and served.class_names == class_names == ["bright", "dark"]
    assert served.input_size == (75, 75) and served.output_names == ["predictions"]
    for batch in (unseen_photos, unseen_photos[:1], unseen_photos.astype(np.uint8)):  # dynamic batch, uint8 too
        scores = served(batch)["predictions"]
        np.testing.assert_allclose(scores, model.predict(batch.astype("float32"), verbose=0), atol=1e-4)
    assert np.abs(expected[0] - expected[1:]).max() > 1e-6  # the images give different scores
    assert not [p for p in exports[format].parent.iterdir() if ".part" in p.name]


def test_an_export_that_disagrees_is_refused_in_one_line_and_nothing_is_written(tmp_path, monkeypatch, capsys):
    inputs = keras.Input((8, 8, 3), name="image")
    outputs = keras.layers.Dense(2, activation="softmax", name="predictions")(keras.layers.Flatten()(inputs))
    tiny = tmp_path / "tiny.keras"
    keras.Model(inputs, outputs).save(tiny)
    out = tmp_path / "tiny_savedmodel"
    assert main(["export", str(tiny), "--format", "savedmodel", "-o", str(out)]) == 0
    assert load_exported(out).class_names == ["class_0", "class_1"]
    capsys.readouterr()

    monkeypatch.setattr(export_module, "_max_difference", lambda expected, outputs, format: 0.5)
    assert main(["export", str(tiny), "--format", "savedmodel", "-o", str(tmp_path / "again")]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "differs from the Keras model by 0.5" in error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.keras", "tiny_savedmodel"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--format", "onnx", "-o", "{tmp}/m.tflite"], "ending in .onnx"),
        (["--format", "savedmodel", "-o", "{tmp}/m.onnx"], "is a folder"),
        (["--format", "litert", "-o", "{tmp}/missing/m.tflite"], "does not exist"),
        (["--format", "tfjs", "-o", "{tmp}/m"], "invalid choice"),
        (["--format", "onnx", "-o", "{tmp}/m.onnx", "--features", "mixed77", "--weights", "none",
          "--image-size", "75"], "mixed7"),
    ],
)
def test_export_errors_are_one_line(argv, message, tmp_path, capsys):
    assert main(["export", *[a.format(tmp=tmp_path) for a in argv]]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and message in error
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_feature_extractor_exports_its_tap_points_as_named_outputs(tmp_path, capsys):
    out = tmp_path / "features"
    argv = ["export", "--features", "mixed4,Mixed_7c", "--weights", "none", "--image-size", "75",
            "--format", "savedmodel", "-o", str(out)]
    assert main(argv) == 0
    assert "outputs mixed4, Mixed_7c" in capsys.readouterr().out
    served = load_exported(out)
    outputs = served(np.full((2, 75, 75, 3), 128.0, "float32"))
    assert {name: value.shape for name, value in outputs.items()} == {"mixed4": (2, 3, 3, 768),
                                                                     "Mixed_7c": (2, 1, 1, 2048)}
    assert served.class_names is None


@pytest.mark.slow
def test_predict_with_each_export_gives_the_keras_rows(exports, finetuned, tmp_path, capsys):
    photos = write_photo_crops(tmp_path / "photos", per_class=3, seed=11)
    rows = {}
    for kind, model in [("keras", finetuned), *exports.items()]:
        out = tmp_path / f"{kind}.csv"
        assert main(["predict", str(photos), "--model", str(model), "--csv", str(out)]) == 0
        rows[kind] = list(csv.reader(out.open()))
    capsys.readouterr()
    assert len(rows["keras"]) == 7
    for kind in FORMATS:
        assert [[row[0], *row[1::2]] for row in rows[kind]] == [[row[0], *row[1::2]] for row in rows["keras"]]
        scores = np.array([row[2::2] for row in rows[kind][1:]], float)
        np.testing.assert_allclose(scores, np.array([row[2::2] for row in rows["keras"][1:]], float), atol=1e-4)


def test_a_mixed_precision_model_is_exported_as_its_float32_copy(tmp_path):
    from inception_keras.precision import dtype_policy

    with dtype_policy("mixed_bfloat16"):
        inputs = keras.Input((8, 8, 3), name="image")
        features = keras.layers.Flatten()(keras.layers.Conv2D(4, 3, name="conv")(inputs))
        model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", dtype="float32",
                                                       name="predictions")(features))
    result = export_model(model, tmp_path / "mixed.onnx", "onnx", class_names=["a", "b", "c"])
    assert model.get_layer("conv").compute_dtype == "bfloat16"  # the model itself is left as it was
    served = load_exported(result.path)
    assert served.class_names == ["a", "b", "c"] and result.max_difference < 1e-4
    images = np.random.RandomState(0).uniform(0, 255, (3, 8, 8, 3)).astype("float32")
    float32_copy = export_module.serving_model(model)
    assert {layer.compute_dtype for layer in float32_copy.layers if layer.weights} == {"float32"}
    np.testing.assert_allclose(served(images)["predictions"], float32_copy.predict(images, verbose=0)["predictions"],
                               atol=1e-4)
