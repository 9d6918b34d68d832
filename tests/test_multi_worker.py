"""`finetune --strategy multi-worker`: two worker processes over loopback train one model, saved once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from inception_keras.cli import main
from inception_keras.distributed_training import fit_distributed, weights_fingerprint
from inception_keras.training import paper_recipe
from inception_keras.classifier import load_classifier

ROOT = Path(__file__).resolve().parents[1]


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


@pytest.mark.slow
def test_two_workers_train_in_sync_and_only_the_chief_writes(brightness_dataset, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "model.keras"
    cluster = {"worker": [f"127.0.0.1:{port}" for port in _free_ports(2)]}
    argv = [sys.executable, "-m", "inception_keras", "finetune", str(brightness_dataset), "--out", str(out),
            "--weights", "none", "--image-size", "75", "--epochs", "2", "--batch-size", "4",
            "--strategy", "multi-worker", "--quiet"]
    workers = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3",
                              "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})})
        for index in range(2)
    ]
    outputs = [worker.communicate(timeout=300) for worker in workers]
    for worker, (_, stderr) in zip(workers, outputs):
        assert worker.returncode == 0, stderr[-3000:]
    chief, other = (stdout for stdout, _ in outputs)
    assert f"saved {out}" in chief and "not the chief" in other
    fingerprints = [line.split("weights sha256 ")[1] for stdout in (chief, other)
                    for line in stdout.splitlines() if "weights sha256" in line]
    assert len(fingerprints) == 2 and fingerprints[0] == fingerprints[1]
    assert sorted(p.name for p in out_dir.iterdir()) == ["model.keras", "model_confusion.png"]

    model, class_names = load_classifier(out)
    assert class_names == ["bright", "dark"]
    assert weights_fingerprint(model) == fingerprints[0]
    scores = model.predict(np.full((2, 75, 75, 3), 128.0, "float32"), verbose=0)
    assert scores.shape == (2, 2) and np.allclose(scores.sum(axis=1), 1.0, atol=1e-5)


def test_multi_worker_without_tf_config_is_one_line(brightness_dataset, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    argv = ["finetune", str(brightness_dataset), "--out", str(tmp_path / "m.keras"), "--weights", "none",
            "--strategy", "multi-worker"]
    assert main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "TF_CONFIG" in error
    monkeypatch.setenv("TF_CONFIG", "{not json")
    assert main(argv) == 2
    assert "not a cluster description" in capsys.readouterr().err


class _CallCounter(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append((epoch, sorted(logs)))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("batch", batch))


def _tiny_classifier(recipe_steps: int) -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6,))
    outputs = keras.layers.Dense(3, activation="softmax")(keras.layers.Dense(5, activation="relu")(inputs))
    model = keras.Model(inputs, outputs)
    paper_recipe(recipe_steps, learning_rate=0.1, decay_epochs=1.0).compile(model)
    return model


def test_fit_distributed_follows_the_same_recipe_as_fit():
    rng = np.random.RandomState(0)
    images = rng.normal(size=(24, 6)).astype("float32")
    labels = np.eye(3, dtype="float32")[rng.randint(0, 3, 24)]
    batches = tf.data.Dataset.from_tensor_slices((images, labels)).batch(8)

    reference, reference_calls = _tiny_classifier(3), _CallCounter()
    history = reference.fit(batches, epochs=3, validation_data=batches, callbacks=[reference_calls], verbose=0,
                            shuffle=False)
    model, calls = _tiny_classifier(3), _CallCounter()
    distributed = fit_distributed(model, tf.distribute.get_strategy(), lambda context: batches.repeat(), 3, 3,
                                  validation_dataset_fn=lambda context: batches.repeat(), validation_steps=3,
                                  callbacks=[calls], verbose=0)

    assert calls.calls == reference_calls.calls
    assert sorted(distributed.history) == sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    for name, values in history.history.items():
        np.testing.assert_allclose(distributed.history[name], values, rtol=1e-5)
    assert int(model.optimizer.iterations) == 9
    for mine, theirs in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
