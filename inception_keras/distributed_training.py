"""Training across devices and processes with tf.distribute: strategies by name, and `fit` for several workers.

Keras 3's `Model.fit` does not run under `MultiWorkerMirroredStrategy` (it
fails converting a `PerReplica` value: keras-team/keras#20585,
tensorflow/tensorflow#72388). `fit_distributed` is the loop that does: each
step is the compiled model's own `train_step` (its losses and loss weights,
metrics, optimizer, learning-rate schedule and clipping; the loss averaged over
the global batch) run by `strategy.run` inside a `tf.function`, on a dataset
distributed with `strategy.distribute_datasets_from_function`. Callbacks see
what `fit` shows them, and it returns the same `History`.

Every worker runs the same program; only the chief (`is_chief`) writes.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi-worker")


def make_strategy(name: str) -> tf.distribute.Strategy | None:
    """Returns the strategy called `name`: `"default"` (`None`: one device), `"mirrored"` or `"multi-worker"`.

    `"mirrored"` uses every local GPU (or the CPU); `"multi-worker"` builds a
    `MultiWorkerMirroredStrategy` from the `TF_CONFIG` environment variable,
    and must be made before TensorFlow runs anything else.

    Raises:
        ValueError: an unknown name, a strategy on a backend other than
            TensorFlow, or `TF_CONFIG` missing or not a cluster.
    """
    if name not in STRATEGIES:
        raise ValueError(f"`strategy` must be one of {', '.join(STRATEGIES)}. Received: {name!r}")
    if name == "default":
        return None
    if keras.backend.backend() != "tensorflow":
        raise ValueError(f"--strategy {name} is a tf.distribute strategy: it needs KERAS_BACKEND=tensorflow "
                         f"(this run uses {keras.backend.backend()}); use --strategy default.")
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    _check_tf_config(os.environ.get("TF_CONFIG"))
    return tf.distribute.MultiWorkerMirroredStrategy()


def is_multi_worker(strategy: tf.distribute.Strategy | None) -> bool:
    """Whether `strategy` spans processes (and so needs `fit_distributed` rather than `Model.fit`)."""
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def worker_index_and_count(strategy: tf.distribute.Strategy | None) -> tuple[int, int]:
    """This process's `(task index, number of workers)`; `(0, 1)` outside a cluster."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or resolver.task_type is None:
        return 0, 1
    cluster = resolver.cluster_spec().as_dict()
    return resolver.task_id, sum(len(tasks) for kind, tasks in cluster.items() if kind in ("chief", "worker"))


def is_chief(strategy: tf.distribute.Strategy | None) -> bool:
    """Whether this process writes the results: the `chief` task, else worker 0, or any single process."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or resolver.task_type in (None, "chief"):
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def weights_fingerprint(model: keras.Model) -> str:
    """SHA-256 of every weight's bytes, in order: equal on workers that trained in sync."""
    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()


def fit_distributed(model: keras.Model, strategy: tf.distribute.Strategy,
                    train_dataset_fn: Callable[[tf.distribute.InputContext], tf.data.Dataset],
                    epochs: int, steps_per_epoch: int, *,
                    validation_dataset_fn: Callable[[tf.distribute.InputContext], tf.data.Dataset] | None = None,
                    validation_steps: int = 0, callbacks: list | None = None,
                    verbose: int | str = "auto") -> keras.callbacks.History:
    """`model.fit` for a model compiled under `strategy`, which may span several workers.

    Args:
        model: built and compiled inside `strategy.scope()`.
        strategy: the `tf.distribute` strategy.
        train_dataset_fn: returns this input pipeline's endless dataset of
            per-replica batches (`context.get_per_replica_batch_size`), its
            own shard of the files (`context.input_pipeline_id`).
        epochs: passes of `steps_per_epoch` steps.
        steps_per_epoch: steps per epoch, equal on every worker.
        validation_dataset_fn: as `train_dataset_fn`, for validation after
            each epoch. Defaults to `None`.
        validation_steps: validation steps per epoch. Defaults to 0.
        callbacks: Keras callbacks, called as `fit` calls them. Defaults to `None`.
        verbose: 0 for no progress bar; the chief alone shows one.

    Returns:
        The `keras.callbacks.History` (`loss`, metrics, `val_` ones).
    """
    train_batches = iter(strategy.distribute_datasets_from_function(train_dataset_fn))
    validation_batches = (iter(strategy.distribute_datasets_from_function(validation_dataset_fn))
                          if validation_dataset_fn is not None and validation_steps > 0 else None)

    @tf.function
    def train_step(iterator):
        strategy.run(model.train_step, args=(next(iterator),))

    @tf.function
    def test_step(iterator):
        strategy.run(model.test_step, args=(next(iterator),))

    show_progress = verbose != 0 and is_chief(strategy)
    callback_list = keras.callbacks.CallbackList(
        callbacks, add_history=True, add_progbar=show_progress, model=model,
        verbose=1 if verbose == "auto" else verbose, epochs=epochs, steps=steps_per_epoch,
    )
    model.stop_training = False
    callback_list.on_train_begin()
    logs = {}
    for epoch in range(epochs):
        model.reset_metrics()
        callback_list.on_epoch_begin(epoch)
        for step in range(steps_per_epoch):
            callback_list.on_train_batch_begin(step)
            train_step(train_batches)
            callback_list.on_train_batch_end(step, _metric_logs(model))
        logs = _metric_logs(model)
        if validation_batches is not None:
            model.reset_metrics()
            for _ in range(validation_steps):
                test_step(validation_batches)
            logs.update({f"val_{name}": value for name, value in _metric_logs(model).items()})
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
    return model.history


def _metric_logs(model: keras.Model) -> dict[str, float]:
    # Reading a metric sums it over every replica and worker: all workers must read together.
    return {name: float(value) for name, value in model.get_metrics_result().items()}


def _check_tf_config(value: str | None) -> None:
    example = ('TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
               '"task": {"type": "worker", "index": 0}}\'')
    if not value:
        raise ValueError(f"--strategy multi-worker reads the cluster from TF_CONFIG, which is not set; e.g. {example}")
    try:
        config = json.loads(value)
        workers = config["cluster"].get("worker", []) + config["cluster"].get("chief", [])
        config["task"]["type"], int(config["task"]["index"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ValueError(f"TF_CONFIG is not a cluster description: {value!r}; e.g. {example}") from None
    if not workers:
        raise ValueError(f"TF_CONFIG names no workers: {value!r}; e.g. {example}")
