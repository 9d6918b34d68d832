"""Faithful re-implementations of two published DeepDream algorithms, for timing only.

- `kerasio_dream`: the keras.io "Deep Dream" example: a `tf.function` step
  (retraced for every octave shape), called step by step from Python, the
  whole image's gradient at once, mean-abs normalisation, lost-detail
  re-injection between octaves.
- `tutorial_dream`: the TensorFlow tutorial's tiled version: one
  `tf.function` with an input signature; a random roll each step; for each
  512-pixel tile, the gradient of the tile's loss with respect to the whole
  rolled image; std normalisation.

Both take the same feature extractor, layer weights, octave shapes and step
counts as the engine, so the benchmark compares the same work.
"""

from __future__ import annotations

import tensorflow as tf


def kerasio_dream(extractor, image, layer_weights: dict, shapes, steps: int, step_size: float):
    """The keras.io algorithm on `image` `(1, H, W, 3)` in [-1, 1]; returns the dream tensor."""

    def compute_loss(input_image):
        features = extractor(input_image)
        loss = tf.zeros(shape=())
        for name, coeff in layer_weights.items():
            activation = features[name]
            scaling = tf.reduce_prod(tf.cast(tf.shape(activation), "float32"))
            loss += coeff * tf.reduce_sum(tf.square(activation[:, 2:-2, 2:-2, :])) / scaling
        return loss

    @tf.function
    def gradient_ascent_step(img, learning_rate):
        with tf.GradientTape() as tape:
            tape.watch(img)
            loss = compute_loss(img)
        grads = tape.gradient(loss, img)
        grads /= tf.maximum(tf.reduce_mean(tf.abs(grads)), 1e-6)
        img += learning_rate * grads
        return loss, img

    original = tf.convert_to_tensor(image)
    shrunk_original = tf.image.resize(original, shapes[0])
    img = tf.identity(original)
    for shape in shapes:
        img = tf.image.resize(img, shape)
        for _ in range(steps):
            loss, img = gradient_ascent_step(img, step_size)
            float(loss)  # the example checks max_loss on the host every step
        upscaled_shrunk = tf.image.resize(shrunk_original, shape)
        same_size_original = tf.image.resize(original, shape)
        img += same_size_original - upscaled_shrunk
        shrunk_original = tf.image.resize(original, shape)
    return img


def tutorial_dream(extractor, image, layer_weights: dict, shapes, steps: int, step_size: float,
                   tile_size: int = 512):
    """The TensorFlow tutorial's tiled algorithm on `image` `(1, H, W, 3)` in [-1, 1]."""

    def calc_loss(img):
        features = extractor(img[None])
        return tf.add_n([w * tf.reduce_mean(features[name]) for name, w in layer_weights.items()])

    @tf.function(input_signature=(
        tf.TensorSpec(shape=[None, None, 3], dtype=tf.float32),
        tf.TensorSpec(shape=[2], dtype=tf.int32),
        tf.TensorSpec(shape=[], dtype=tf.int32),
    ))
    def tiled_gradients(img, img_size, tile):
        shift = tf.random.uniform(shape=[2], minval=-tile, maxval=tile, dtype=tf.int32)
        img_rolled = tf.roll(img, shift=shift, axis=[0, 1])
        gradients = tf.zeros_like(img_rolled)
        xs = tf.range(0, img_size[1], tile)[:-1]
        if not tf.cast(len(xs), bool):
            xs = tf.constant([0])
        ys = tf.range(0, img_size[0], tile)[:-1]
        if not tf.cast(len(ys), bool):
            ys = tf.constant([0])
        for x in xs:
            for y in ys:
                with tf.GradientTape() as tape:
                    tape.watch(img_rolled)
                    img_tile = img_rolled[y:y + tile, x:x + tile]
                    loss = calc_loss(img_tile)
                gradients = gradients + tape.gradient(loss, img_rolled)
        gradients = tf.roll(gradients, shift=-shift, axis=[0, 1])
        gradients /= tf.math.reduce_std(gradients) + 1e-8
        return gradients

    img = tf.convert_to_tensor(image)[0]
    for shape in shapes:
        img = tf.image.resize(img, shape)
        for _ in range(steps):
            gradients = tiled_gradients(img, tf.constant(shape, tf.int32), tf.constant(tile_size))
            img = tf.clip_by_value(img + gradients * step_size, -1, 1)
    return img[None]
