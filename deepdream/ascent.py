"""The ascent programs of one octave: the device loop, and the host tiled loop.

The device loop is one compiled program per octave (`octave_program`): the
image enters the device once, every step (`deepdream.ascent_step.ascent_step`:
roll, gradient, normalisation, update, clip) runs there, and the image and
the losses leave once. It is written once with `keras.ops`
(`keras.ops.fori_loop`) and compiled per backend: on a GPU `tf.function` on
TensorFlow, `jax.jit` with the loop inside on JAX; on a CPU, where both run
the network slower inside a loop, one compiled step per step with the image
kept as a backend tensor; eager on torch (on the device, with no host sync
per step). Only the gradient itself is per backend
(`deepdream.gradients.traceable_gradient`).

The random rolls are drawn up front (`draw_shifts`) from the same random
state as the host loop, so both loops dream the same to float rounding.
The host tiled loop (`host_ascent`) keeps images above the whole-image
limit within memory on a CPU: tiles of the rolled grid, one at a time, into
a NumPy gradient buffer, then the same step's update a band of rows at a
time (`deepdream.ascent_step.ascend_in_place`).
"""

from __future__ import annotations

import time
from typing import Callable

import keras
import numpy as np

from deepdream import hardware
from deepdream.ascent_step import ascend_in_place, ascent_step

# A chunk of steps takes about this long, so a progress bar moves about once a second.
CHUNK_SECONDS = 1.0


def draw_shifts(rng: np.random.RandomState, steps: int, jitter: int) -> np.ndarray:
    """The `(steps, 2)` int32 rolls of an octave, the same draws the host loop makes step by step."""
    if jitter == 0:
        return np.zeros((steps, 2), np.int32)
    return rng.randint(-jitter, jitter + 1, size=(steps, 2)).astype(np.int32)


def octave_loop(image, controls, step_size, lapnorm: bool, gradient: Callable, weights):
    """Steps `start..stop` of an octave (`keras.ops.fori_loop`).

    `controls` is `(steps + 1, 2)` int32: the octave's rolls, then the row
    `(start, stop)`. Returns `(image, losses)`, `losses` `(steps,)` holding
    the loss of each step run and 0 elsewhere.
    """
    steps = keras.ops.shape(controls)[0] - 1
    positions = keras.ops.arange(steps)

    def body(index, state):
        pixels, recorded = state
        pixels, loss = ascent_step(pixels, controls[index], step_size, lapnorm, gradient, weights)
        return pixels, keras.ops.where(positions == index, loss, recorded)

    losses = keras.ops.zeros((steps,), "float32")
    return keras.ops.fori_loop(controls[-1][0], controls[-1][1], body, (image, losses))


def octave_program(gradient: Callable, weights, lapnorm: bool) -> Callable:
    """`program(image, controls, step_size) -> (image, losses)`, compiled for the backend.

    `image` `(N, H, W, 3)` is a device tensor (`to_device`), `controls` a
    NumPy array as `octave_loop` takes it, `step_size` a float.
    On a GPU the whole loop is one program: TensorFlow traces once for all
    shapes; JAX compiles once per image shape, step count and step size. On
    a CPU it is one compiled step per step (`_stepwise_program`). Torch runs
    its steps eagerly on any device, its rolls being host integers, so
    nothing waits on the device.
    """
    backend = keras.backend.backend()
    if backend == "torch" or not hardware.has_gpu():
        return _stepwise_program(gradient, weights, lapnorm)
    if backend == "tensorflow":
        import tensorflow as tf

        compiled = tf.function(
            lambda image, controls, step_size: octave_loop(image, controls, step_size, lapnorm, gradient, weights),
            autograph=False, input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32),
                                              tf.TensorSpec([None, 2], tf.int32), tf.TensorSpec([], tf.float32)])
        return lambda image, controls, step_size: compiled(image, controls, np.float32(step_size))
    import jax

    compiled = jax.jit(lambda image, controls, step_size, weights: octave_loop(
        image, controls, step_size, lapnorm, gradient, weights), static_argnums=2)

    def jax_program(image, controls, step_size):
        return compiled(image, jax.device_put(np.asarray(controls)), float(step_size), weights)

    return jax_program


def _stepwise_program(gradient: Callable, weights, lapnorm: bool) -> Callable:
    """The octave program on a CPU (and torch's everywhere): one step per step, the image staying a backend tensor.

    Both compilers run the network's gradient slower inside a loop than
    compiled alone on a CPU: XLA:CPU about 7x (0.2 against 1.4 s a step at
    960x540 on stem_2a; unrolling compiles the network once per step),
    TensorFlow's `while` loop 1.27x (0.93 against 0.73 s a step at 960x640
    on keras.io's mixed4..7, one `tf.function` step per step 0.74 s;
    benchmarks/RESULTS.md). So on a CPU the loop is Python's, dispatching
    compiled steps with no host transfer between them.
    """
    one_step = lambda image, shift, step_size, weights: ascent_step(  # noqa: E731
        image, shift, step_size, lapnorm, gradient, weights)
    backend = keras.backend.backend()
    if backend == "torch":  # eager: torch.compile measured slower (deepdream.gradients)
        step = lambda image, shift, step_size: one_step(  # noqa: E731
            image, [int(v) for v in shift], float(step_size), weights)
        rows, stacked = (lambda controls: controls), _padded
    elif backend == "tensorflow":
        import tensorflow as tf

        compiled_step = tf.function(lambda image, shift, step_size: one_step(image, shift, step_size, weights),
                                    autograph=False, input_signature=[
                                        tf.TensorSpec([None, None, None, 3], tf.float32),
                                        tf.TensorSpec([2], tf.int32), tf.TensorSpec([], tf.float32)])
        step = lambda image, shift, step_size: compiled_step(image, shift, np.float32(step_size))  # noqa: E731
        rows, stacked = (lambda controls: controls), _padded
    else:
        import jax

        jitted_step = jax.jit(one_step, static_argnums=2)
        step = lambda image, shift, step_size: jitted_step(image, shift, float(step_size), weights)  # noqa: E731
        split = jax.jit(lambda controls: tuple(controls[i] for i in range(controls.shape[0] - 1)))
        rows = lambda controls: split(jax.device_put(controls))  # noqa: E731  one transfer for the rolls
        stacked = jax.jit(_padded, static_argnums=(1, 2))

    def program(image, controls, step_size):
        controls = np.asarray(controls)
        start, stop = int(controls[-1][0]), int(controls[-1][1])
        shifts = rows(controls)
        losses = []
        for index in range(start, stop):
            image, loss = step(image, shifts[index], step_size)
            losses.append(loss)
        return image, stacked(tuple(losses), start, len(controls) - 1)

    return program


def _padded(losses, start: int, steps: int):
    """The `(steps,)` float32 losses of an octave: `losses` from step `start` on, 0 elsewhere."""
    zero = keras.ops.zeros((), "float32")
    return keras.ops.stack([zero] * start + list(losses) + [zero] * (steps - start - len(losses)))


def octave_controls(shifts: np.ndarray, start: int = 0, stop: int | None = None) -> np.ndarray:
    """The `controls` of `octave_loop`: the rolls, then `(start, stop)` (all steps by default)."""
    stop = len(shifts) if stop is None else stop
    return np.concatenate([shifts, [[start, stop]]]).astype(np.int32)


def run_octave(program: Callable, image, shifts: np.ndarray, step_size: float,
               on_chunk: Callable[[np.ndarray], None] | None = None,
               on_image: Callable[[object], None] | None = None):
    """Runs an octave's program in chunks of steps; returns `(image, losses)`, the image still on the device.

    The chunks are sized to about `CHUNK_SECONDS` (the first is one step,
    which also times a step), and `on_chunk(losses)` gets each chunk's
    losses as they come back, so a progress bar moves. Each chunk is one
    transfer in (the rolls) and one out (the losses); `on_image(image)`,
    when given, gets the image on the device after each chunk.
    """
    steps = len(shifts)
    recorded = np.zeros(steps, np.float32)
    start, chunk = 0, 1
    while start < steps:
        stop = min(steps, start + chunk)
        controls = octave_controls(shifts, start, stop)
        began = time.perf_counter()
        image, losses = program(image, controls, step_size)
        recorded[start:stop] = to_host(losses)[start:stop]
        if on_chunk is not None:
            on_chunk(recorded[start:stop])
        if on_image is not None:
            on_image(image)
        per_step = (time.perf_counter() - began) / (stop - start)
        chunk = max(1, int(CHUNK_SECONDS / max(per_step, 1e-6)))
        start = stop
    return image, recorded


def host_ascent(image: np.ndarray, shifts: np.ndarray, step_size: float, lapnorm: bool,
                gradient_into: Callable[[np.ndarray, tuple[int, int], np.ndarray], float],
                on_step: Callable[[float], None] | None = None) -> list[float]:
    """The host loop: one step per roll of `shifts`, in place on the `(H, W, 3)` float32 NumPy `image`.

    `gradient_into(image, shift, out)` writes the gradient of `image` rolled
    by `shift`, rolled back, into `out` and returns the loss (the engine's
    tiled gradient, `deepdream.tiling.tile_grid_gradient`); the rest of the
    step is `deepdream.ascent_step.ascend_in_place`, a band of rows at a
    time. So a step holds the image, one gradient buffer and one tile: what
    keeps images above the whole-image limit within memory on a CPU.
    """
    gradient = np.empty_like(image)
    losses = []
    for shift in shifts:
        loss = gradient_into(image, (int(shift[0]), int(shift[1])), gradient)
        ascend_in_place(image, gradient, step_size, lapnorm)
        losses.append(loss)
        if on_step is not None:
            on_step(loss)
    return losses


def compiled(function: Callable, static_argnums=()) -> Callable:
    """`function` (written with `keras.ops`) compiled for the backend: `tf.function`, `jax.jit`; eager on torch.

    So the work between octave programs (converting the photo, the dream
    back to pixels, a video frame's carry) is compiled code too, and on JAX
    eager work makes no implicit transfer. The arguments at `static_argnums`
    are Python values (an octave's shape): JAX compiles once per value;
    TensorFlow runs such a function eagerly (a resize is one kernel, and a
    trace per octave shape would make TensorFlow warn of retracing). Without
    them TensorFlow traces once and generalises tensor shapes; the functions
    have no tensor-dependent Python control flow, so no AutoGraph.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return function if static_argnums != () else tf.function(function, autograph=False,
                                                                   reduce_retracing=True)
    if backend == "jax":
        import jax

        return jax.jit(function, static_argnums=static_argnums)
    return function


def to_device(arrays):
    """A NumPy array (or a tuple or list of them) as tensors on the backend's device.

    On JAX one explicit `jax.device_put` for all of them.
    """
    if keras.backend.backend() == "jax":
        import jax

        return jax.device_put(arrays)
    return keras.tree.map_structure(lambda a: None if a is None else keras.ops.convert_to_tensor(a), arrays)


def to_host(tensors):
    """A backend tensor (or a tuple or list of them) as NumPy arrays; on JAX one explicit `jax.device_get`."""
    if keras.backend.backend() == "jax":
        import jax

        return keras.tree.map_structure(np.asarray, jax.device_get(tensors))
    return keras.tree.map_structure(lambda t: None if t is None else keras.ops.convert_to_numpy(t), tensors)

