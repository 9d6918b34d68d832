"""The paper's training recipe as Keras objects.

"Rethinking the Inception Architecture for Computer Vision" (Szegedy et al.,
https://arxiv.org/abs/1512.00567), section 8: RMSProp with decay 0.9 and
epsilon 1.0, learning rate 0.045 decayed every two epochs by an exponential
rate of 0.94, gradient clipping with threshold 2.0; section 7: label-smoothing
regularisation with epsilon 0.1; section 4: the auxiliary classifier's loss
added with weight 0.4 (the weight TF-slim's reference training code uses; the
paper gives none).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import keras

AUX_LOSS_WEIGHT = 0.4


@dataclass
class TrainingRecipe:
    """What `model.compile` needs to train as the paper did.

    Attributes:
        optimizer: the `keras.optimizers.RMSprop` with its schedule and clipping.
        learning_rate: the `keras.optimizers.schedules.ExponentialDecay`.
        loss: one loss, or a list `[main, aux]` for a model with `aux_logits=True`.
        loss_weights: `None`, or `[1.0, aux_loss_weight]` with the auxiliary head.
        metrics: accuracy of the main output.
    """

    optimizer: keras.optimizers.Optimizer
    learning_rate: keras.optimizers.schedules.LearningRateSchedule
    loss: keras.losses.Loss | list
    loss_weights: list | None = None
    metrics: list = field(default_factory=list)

    def compile(self, model: keras.Model) -> keras.Model:
        """Compiles `model` with this recipe and returns it."""
        model.compile(optimizer=self.optimizer, loss=self.loss,
                      loss_weights=self.loss_weights, metrics=self.metrics)
        return model


def paper_recipe(
    steps_per_epoch: int,
    *,
    aux_logits: bool = False,
    learning_rate: float = 0.045,
    decay_rate: float = 0.94,
    decay_epochs: float = 2.0,
    rho: float = 0.9,
    epsilon: float = 1.0,
    clipnorm: float | None = 2.0,
    label_smoothing: float = 0.1,
    aux_loss_weight: float = AUX_LOSS_WEIGHT,
) -> TrainingRecipe:
    """Returns the paper's optimizer, learning-rate schedule and losses; every part overridable.

    Labels are one-hot (`label_smoothing` needs them), e.g. from
    `keras.utils.to_categorical` or `label_mode="categorical"`.

    Args:
        steps_per_epoch: batches per epoch, to express the decay in epochs.
        aux_logits: the model has the auxiliary classifier (two outputs).
            Defaults to `False`.
        learning_rate: initial learning rate. Defaults to 0.045.
        decay_rate: learning-rate factor per decay period. Defaults to 0.94.
        decay_epochs: epochs per decay period (staircase). Defaults to 2.0.
        rho: RMSProp decay of the squared-gradient average. Defaults to 0.9.
        epsilon: RMSProp epsilon, inside the square root as in TensorFlow's
            original RMSProp. Defaults to 1.0.
        clipnorm: clip each gradient tensor to this norm (TF-slim's
            `clip_gradient_norm`); `None` for no clipping. Defaults to 2.0.
        label_smoothing: label-smoothing epsilon (section 7). Defaults to 0.1.
        aux_loss_weight: weight of the auxiliary loss. Defaults to 0.4.

    Returns:
        A `TrainingRecipe`; `recipe.compile(model)` applies it.
    """
    if steps_per_epoch < 1:
        raise ValueError(f"`steps_per_epoch` must be at least 1. Received: steps_per_epoch={steps_per_epoch}")
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"`label_smoothing` must be in [0, 1). Received: label_smoothing={label_smoothing}")
    schedule = keras.optimizers.schedules.ExponentialDecay(
        learning_rate, decay_steps=max(1, round(decay_epochs * steps_per_epoch)),
        decay_rate=decay_rate, staircase=True,
    )
    optimizer = keras.optimizers.RMSprop(
        learning_rate=schedule, rho=rho, epsilon=epsilon, clipnorm=clipnorm,
    )
    return TrainingRecipe(optimizer, schedule, **classifier_losses(label_smoothing, aux_logits, aux_loss_weight))


def classifier_losses(label_smoothing: float = 0.0, aux_logits: bool = False,
                      aux_loss_weight: float = AUX_LOSS_WEIGHT) -> dict:
    """Returns `model.compile`'s `loss`, `loss_weights` and `metrics` for a classifier.

    One smoothed cross-entropy and accuracy; with `aux_logits`, a second
    cross-entropy for `aux_predictions` weighted by `aux_loss_weight`.
    """
    if not aux_logits:
        return {"loss": classification_loss(label_smoothing), "loss_weights": None, "metrics": ["accuracy"]}
    return {
        "loss": [classification_loss(label_smoothing), classification_loss(label_smoothing)],
        "loss_weights": [1.0, aux_loss_weight],
        "metrics": [["accuracy"], []],
    }


def classification_loss(label_smoothing: float = 0.0) -> keras.losses.Loss:
    """Cross-entropy on one-hot labels with label-smoothing regularisation (section 7).

    The target becomes `(1 - label_smoothing) * one_hot + label_smoothing / classes`.
    """
    return keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
