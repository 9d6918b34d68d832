"""The compiled gradient step, one small function per backend.

Everything else in the engine is written with `keras.ops`; only taking the
gradient of a loss with respect to the image differs between backends.
"""

from __future__ import annotations

from typing import Callable

import keras


def compile_gradient(extractor: keras.Model, objective: Callable, on_trace: Callable[[], None]):
    """Returns `image -> (loss, d loss / d image)`, compiled once for the backend.

    Args:
        extractor: model mapping an image batch to a dict of activations.
        objective: maps that dict to a scalar float32 loss.
        on_trace: called each time the function is (re)traced, so callers
            can count compilations.

    TensorFlow traces once for every image shape (the spatial dimensions are
    left unknown); JAX traces once per distinct shape, so the engine feeds it
    fixed-size tiles; torch runs eagerly (no trace: `on_trace` is called on
    the first call only) and serves every shape.
    """
    backend = keras.backend.backend()
    if backend not in ("tensorflow", "jax", "torch"):
        raise ValueError(
            f"DeepDream supports the 'tensorflow', 'jax' and 'torch' Keras backends, not {backend!r}: "
            "set KERAS_BACKEND to one of them."
        )
    gradient, weights = traceable_gradient(extractor, objective, on_trace)
    if backend == "tensorflow":
        import tensorflow as tf

        # No autograph: the step has no tensor-dependent Python control flow, and converting the
        # objective's source would only lengthen the trace.
        return tf.function(lambda image: gradient(image, weights), autograph=False,
                           input_signature=[tf.TensorSpec([1, None, None, 3], tf.float32)])
    if backend == "jax":
        import jax

        compiled = jax.jit(gradient)
        return lambda image: compiled(image, weights)
    return lambda image: gradient(image, weights)


def supports_any_shape() -> bool:
    """Whether one compiled gradient serves every image shape on this backend."""
    return keras.backend.backend() in ("tensorflow", "torch")


def _torch_gradient(extractor, objective, on_trace):
    import torch

    # Eager, not torch.compile: on a CPU inductor compiled the mixed4 loss for 158 s at 960x640, again
    # for each new shape, and its steps were slower (0.73x; benchmarks/bench_torch_compile.py).
    traced = []

    def gradient(image):
        if not traced:
            traced.append(True)
            on_trace()
        image = keras.ops.convert_to_tensor(image, "float32").detach().requires_grad_(True)
        loss = objective(extractor(image, training=False))
        (image_gradient,) = torch.autograd.grad(loss, image)
        return loss.detach(), image_gradient

    return gradient


def traceable_gradient(extractor: keras.Model, objective: Callable, on_trace: Callable[[], None]):
    """Returns `(gradient, weights)`: `gradient(image, weights) -> (loss, d loss / d image)` to call
    inside a compiled program (`deepdream.ascent`), and the `weights` to pass it.

    The program is compiled by the caller; this is only the backend's way of
    taking a gradient. JAX needs the variables' values as arguments (a
    stateless call); TensorFlow and torch read the variables and get an empty
    tuple. `on_trace` is called once per trace (on torch, once).
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        def tensorflow_gradient(image, weights):
            on_trace()
            with tf.GradientTape() as tape:
                tape.watch(image)
                loss = objective(extractor(image, training=False))
            return loss, tape.gradient(loss, image)

        return tensorflow_gradient, ()
    if backend == "jax":
        import jax

        def loss_of(image, weights):
            on_trace()
            features, _ = extractor.stateless_call(weights[0], weights[1], image, training=False)
            return objective(features)

        weights = ([v.value for v in extractor.trainable_variables],
                   [v.value for v in extractor.non_trainable_variables])
        return jax.value_and_grad(loss_of), weights
    eager = _torch_gradient(extractor, objective, on_trace)
    return (lambda image, weights: eager(image)), ()


def use_jax_compilation_cache(cache_dir: str | None = None) -> str | None:
    """Turns on JAX's persistent compilation cache, so a later process skips compiling the same programs.

    The folder is `$KERAS_HOME/jax_compilation_cache/jax-<version>` (else
    `~/.keras/...`); JAX keys each entry by the program, the jax and jaxlib
    versions, the device and the compile options, so one folder is safe for
    every model and machine. A cache folder the user set already is kept.
    Does nothing on other backends. Returns the folder in use, or `None`.
    """
    if keras.backend.backend() != "jax":
        return None
    import os

    import jax

    if jax.config.jax_compilation_cache_dir:
        return jax.config.jax_compilation_cache_dir
    home = os.path.expanduser(cache_dir or os.environ.get("KERAS_HOME") or "~/.keras")
    folder = os.path.join(home, "jax_compilation_cache", f"jax-{jax.__version__}")
    os.makedirs(folder, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", folder)
    return folder
