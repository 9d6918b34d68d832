"""What a channel gallery's time goes to, and whether batching the channels would pay (TensorFlow backend).

    python benchmarks/bench_gallery.py --weights PATH [--channels 8] [--size 128]

Prints, measured in one process (ratios only; the CPU is shared):
- per channel: compiling its gradient (one trace of the objective) vs one ascent step;
- a prototype of a batched gradient (N images, image n maximising channel n,
  one call) vs N calls of the one-image gradient the engine compiles.
The engine compiles a one-image gradient with the channel baked into the
trace, so the prototype builds its own; it is a measurement, not a mode.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    from deepdream.render import Renderer

    renderer = Renderer("mixed4", weights=args.weights)
    size = args.size
    image = keras.ops.convert_to_tensor(np.random.RandomState(0).uniform(-0.3, -0.1, (1, size, size, 3)).astype("float32"))

    compile_times, step_times = [], []
    for channel in range(args.channels):
        start = time.perf_counter()
        engine = renderer.engine_for(channel)
        engine.gradient(image)
        compile_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        for _ in range(args.repeats):
            engine.gradient(image)
        step_times.append((time.perf_counter() - start) / args.repeats)
    compile_time, step_time = np.median(compile_times), np.median(step_times)
    print(f"per channel: first call (compile) {compile_time:.2f} s, one step {step_time * 1000:.1f} ms, "
          f"a compile costs {compile_time / step_time:.0f} steps")

    extractor = renderer.engine.extractor
    channels = tf.constant(list(range(args.channels)))

    @tf.function
    def batched_gradient(images):
        with tf.GradientTape() as tape:
            tape.watch(images)
            activation = tf.cast(extractor(images, training=False)["mixed4"], tf.float32)
            per_image = tf.reduce_mean(tf.gather(activation, channels, axis=3, batch_dims=0), axis=(1, 2))
            loss = tf.reduce_sum(tf.linalg.diag_part(per_image))
        return loss, tape.gradient(loss, images)

    batch = tf.concat([image] * args.channels, axis=0)
    batched_gradient(batch)
    engines = [renderer.engine_for(channel) for channel in range(args.channels)]
    single, batched = [], []
    for _ in range(args.repeats):  # interleaved
        start = time.perf_counter()
        for engine in engines:
            engine.gradient(image)
        single.append(time.perf_counter() - start)
        start = time.perf_counter()
        batched_gradient(batch)
        batched.append(time.perf_counter() - start)
    print(f"{args.channels} channels at {size}px: {args.channels} one-image gradients {np.median(single):.3f} s, "
          f"one batched gradient {np.median(batched):.3f} s, speed-up {np.median(single) / np.median(batched):.2f}x")


if __name__ == "__main__":
    main()
