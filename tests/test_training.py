"""The paper's recipe, the auxiliary classifier, mixed precision and distributed training."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

import inception_keras as ik
from inception_keras.precision import dtype_policy
from inception_keras.training import classification_loss, paper_recipe
from inception_keras.classifier import build_classifier, unfreeze_from

ROOT = Path(__file__).resolve().parents[1]


def test_paper_recipe_is_the_papers():
    recipe = paper_recipe(steps_per_epoch=100)
    optimizer = recipe.optimizer
    assert isinstance(optimizer, keras.optimizers.RMSprop)
    assert (optimizer.rho, optimizer.epsilon, optimizer.clipnorm) == (0.9, 1.0, 2.0)
    schedule = recipe.learning_rate
    assert float(schedule(0)) == pytest.approx(0.045)
    assert float(schedule(199)) == pytest.approx(0.045)
    assert float(schedule(200)) == pytest.approx(0.045 * 0.94)
    assert float(schedule(1000)) == pytest.approx(0.045 * 0.94**5)
    assert recipe.loss.get_config()["label_smoothing"] == pytest.approx(0.1)
    assert recipe.loss_weights is None


def test_paper_recipe_parts_are_overridable_and_aux_weighted():
    recipe = paper_recipe(10, aux_logits=True, learning_rate=0.01, label_smoothing=0.2,
                          aux_loss_weight=0.3, clipnorm=None)
    assert float(recipe.learning_rate(0)) == pytest.approx(0.01)
    assert recipe.optimizer.clipnorm is None
    assert [loss.get_config()["label_smoothing"] for loss in recipe.loss] == [0.2, 0.2]
    assert recipe.loss_weights == [1.0, 0.3]
    with pytest.raises(ValueError, match="label_smoothing"):
        paper_recipe(10, label_smoothing=1.0)


def test_label_smoothing_loss_equals_the_papers_formula():
    labels = np.array([[0.0, 1.0, 0.0, 0.0]], "float32")
    scores = np.array([[0.1, 0.6, 0.2, 0.1]], "float32")
    epsilon, classes = 0.1, 4
    target = (1 - epsilon) * labels + epsilon / classes
    expected = -np.sum(target * np.log(scores))
    assert float(classification_loss(epsilon)(labels, scores)) == pytest.approx(expected, rel=1e-5)
    assert float(classification_loss(0.0)(labels, scores)) == pytest.approx(-np.log(0.6), rel=1e-5)


@pytest.mark.slow
def test_aux_logits_loads_official_layout_weights_and_trains_one_step(reference_top, reference_notop):
    top_file, notop_file = reference_top[1], reference_notop[1]
    model = ik.InceptionV3(aux_logits=True, weights=top_file)
    assert [t.name for t in model.outputs] and len(model.outputs) == 2
    _assert_same_weights_by_name(model, ik.InceptionV3(weights=top_file))

    fresh_head = ik.InceptionV3(aux_logits=True, weights=notop_file, classes=5)
    _assert_same_weights_by_name(fresh_head, ik.InceptionV3(include_top=False, weights=notop_file))
    paper_recipe(steps_per_epoch=1, aux_logits=True).compile(fresh_head)
    before = fresh_head.get_layer("aux_predictions").get_weights()[0].copy()
    images = np.random.RandomState(0).uniform(-1, 1, (2, 299, 299, 3)).astype("float32")
    labels = keras.utils.to_categorical([1, 3], 5)
    logs = fresh_head.train_on_batch(images, [labels, labels], return_dict=True)
    assert np.isfinite(logs["loss"])
    assert not np.array_equal(before, fresh_head.get_layer("aux_predictions").get_weights()[0])


def _assert_same_weights_by_name(model, reference):
    compared = 0
    for layer in reference.layers:
        for mine, theirs in zip(model.get_layer(layer.name).get_weights(), layer.get_weights()):
            np.testing.assert_array_equal(mine, theirs)
            compared += 1
    assert compared >= 94 * 3


def test_aux_logits_needs_the_17x17_grid():
    with pytest.raises(ValueError, match="17x17"):
        ik.InceptionV3(aux_logits=True, weights=None, input_shape=(200, 200, 3))


@pytest.mark.slow
def test_mixed_precision_training_keeps_float32_outputs():
    with dtype_policy("mixed_bfloat16"):
        model = build_classifier(3, image_size=299, weights=None, aux_logits=True)
    conv = model.get_layer("inception_v3").get_layer("stem_1a_conv")
    assert conv.compute_dtype == "bfloat16"
    assert [str(t.dtype) for t in model.outputs] == ["float32", "float32"]
    paper_recipe(steps_per_epoch=1, aux_logits=True).compile(model)
    images = np.random.RandomState(0).randint(0, 256, (2, 299, 299, 3)).astype("float32")
    labels = keras.utils.to_categorical([0, 2], 3)
    logs = model.train_on_batch(images, [labels, labels], return_dict=True)
    assert np.isfinite(logs["loss"])
    main, aux = model(images, training=False)
    assert keras.backend.standardize_dtype(main.dtype) == "float32"
    assert keras.backend.standardize_dtype(aux.dtype) == "float32"
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras.ops.sum(main, axis=1)), 1.0, rtol=1e-5)


def test_unfreeze_from_trains_the_trunk_from_that_block_with_batchnorm_frozen():
    model = build_classifier(2, image_size=75, weights=None)
    head = {w.path for w in model.trainable_weights}
    assert head and all(not path.startswith("inception_v3/") for path in head)
    names = unfreeze_from(model, "Mixed_7c")  # the TF-slim alias of mixed10
    assert names and all(name.startswith("mixed10") for name in names)
    trunk = model.get_layer("inception_v3")
    assert not any(layer.trainable for layer in trunk.layers if isinstance(layer, keras.layers.BatchNormalization))
    assert not trunk.get_layer("mixed9_branch1x1_1_conv").trainable
    assert trunk.get_layer("mixed10_branch1x1_1_conv").trainable


MIRRORED_SCRIPT = textwrap.dedent("""
    import json, sys
    import tensorflow as tf
    cpu, = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from inception_keras.fine_tuning import finetune
    import keras

    class HeadKernels(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.initial = self.model.get_layer("predictions").kernel.numpy()

    head = HeadKernels()
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    # 12 training images in three full batches of 4 (2 a replica): one compiled step.
    result = finetune(sys.argv[1], None, weights=None, epochs=4, image_size=75, batch_size=4,
                      strategy=strategy, callbacks=[head], verbose=0)
    kernel = result.model.get_layer("predictions").kernel
    print(json.dumps({
        "replicas": strategy.num_replicas_in_sync,
        "variable": type(kernel.value).__name__,
        "loss": result.history[0].history["loss"],
        "kernel_moved": float(abs(kernel.numpy() - head.initial).max()),
    }))
""")


@pytest.mark.slow
def test_finetune_trains_under_mirrored_strategy_on_two_logical_cpus(brightness_dataset):
    done = subprocess.run(
        [sys.executable, "-c", MIRRORED_SCRIPT, str(brightness_dataset)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
        env={**__import__("os").environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    assert report["variable"] == "MirroredVariable"
    # A random trunk's features are tiny, so the loss moves little, but it must move down.
    assert report["loss"][-1] < report["loss"][0] - 1e-3
    assert report["kernel_moved"] > 1e-3
