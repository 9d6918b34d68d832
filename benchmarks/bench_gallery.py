"""A channel gallery rendered channel by channel against batches of channels, in one process.

    python benchmarks/bench_gallery.py --weights PATH [--channels 16] [--size 128] [--steps 20]
        [--batch-sizes 1,4,8,16] [--layer mixed4] [--rounds 1] [--trace-channels 4] [--float64]
        [--save RUN.npz] [--previous RUN.npz]

Each batch size renders the same channels from the same noise and seed with
a fresh `Renderer` (so compiling each channel's or batch's program counts,
as it does in a gallery) at the gallery's defaults (`gallery`'s size, 4
octaves capped at 75 px, `--steps` steps each, jitter 32); batch size 1 is
the channel-by-channel gallery. `--steps` may list several step counts;
`--rounds` repeats the timings, the batch sizes interleaved, and reports
each one's median.

"The same renders up to float rounding" is measured, not assumed. Beside
each batch size's difference from the channel-by-channel renders stands the
rounding envelope: the channel-by-channel renders against themselves with
the start noise moved by one ulp (up, then down). Batches render the same
up to float rounding where they differ from channel by channel no more than
that, in the mean and in the share of pixels more than 8 levels apart. A
batch that normalised, rolled or scored its samples together would differ
far more, and from the first step on: the second table follows the first
octave step by step, the batch's samples against each channel alone (the
same start) and one channel alone against its start moved by one ulp.
`--save` keeps a run's renders, and `--previous` adds rows for them against
those of an earlier run of the same command (another process).
`--float64` (TensorFlow) runs it all in float64, where rounding is 1e-16
instead of 1e-7: the network, the image, the steps and the resize between
octaves (a float64 bilinear resize stands in for TensorFlow's, which
returns float32).
"""

from __future__ import annotations

import argparse
import time
from unittest import mock

import numpy as np

TRACE_STEPS = (1, 2, 3, 5, 10, 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--layer", default="mixed4")
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", default="20", help="steps per octave; a comma list runs each")
    parser.add_argument("--batch-sizes", default="1,4,8,16")
    parser.add_argument("--rounds", type=int, default=1, help="timings per batch size, interleaved; the median")
    parser.add_argument("--trace-channels", type=int, default=4,
                        help="channels followed step by step (0 skips the trace)")
    parser.add_argument("--float64", action="store_true", help="everything in float64 (TensorFlow only)")
    parser.add_argument("--save", help="an .npz file to keep this run's renders in")
    parser.add_argument("--previous", help="an .npz file that --save wrote in an earlier run of the same command")
    args = parser.parse_args()

    import keras

    from deepdream import render as render_module
    from deepdream.render import Renderer

    if args.float64:
        _use_float64(render_module)

    channels = list(range(args.channels))
    size = (args.size, args.size)
    batch_sizes = [int(v) for v in args.batch_sizes.split(",")]
    if batch_sizes[0] != 1:
        parser.error("--batch-sizes must start with 1, the channel-by-channel gallery the others are compared with")
    print(f"{args.channels} channels of {args.layer} at {args.size}px, backend {keras.backend.backend()}, "
          f"{'float64' if args.float64 else 'float32'}; "
          "differences in levels of the uint8 renders, over all channels' pixels")
    saved = {}
    previous = np.load(args.previous) if args.previous else {}
    for steps in (int(v) for v in args.steps.split(",")):
        timings, renders = {batch: [] for batch in batch_sizes}, {}
        for _ in range(args.rounds):
            for batch in batch_sizes:
                renderer = Renderer(args.layer, weights=args.weights)
                start = time.perf_counter()
                if batch == 1:
                    renders[batch] = [renderer.render(channel, size, steps=steps) for channel in channels]
                else:
                    renders[batch] = []
                    for first in range(0, len(channels), batch):
                        renders[batch] += renderer.render_batch(channels[first: first + batch], size, steps=steps)
                timings[batch].append(time.perf_counter() - start)
                if batch == 1:
                    single = renderer
        seconds = {batch: float(np.median(values)) for batch, values in timings.items()}
        envelope = []
        for direction in (np.inf, -np.inf):
            with mock.patch.object(render_module, "grey_noise", _moved_by_one_ulp(render_module.grey_noise, direction)):
                envelope += [single.render(channel, size, steps=steps) for channel in channels]
        reference = renders[1]
        envelope_stats = _differences(envelope, reference + reference)
        print(f"\n{steps} steps per octave\n")
        print("| batch size | seconds | speed-up over 1 | max difference | mean difference | pixels > 8 levels "
              "| within the rounding envelope |\n|---|---|---|---|---|---|---|")
        for batch in batch_sizes:
            stats = _differences(renders[batch], reference)
            # The mean and the share above 8 levels, not the largest difference: that one pixel of a
            # million reaches over 100 levels on any rounding change, batch or not.
            within = "" if batch == 1 else (
                "yes" if stats[1] <= envelope_stats[1] and stats[2] <= envelope_stats[2] else "no")
            print(f"| {batch} | {seconds[batch]:.1f} | {seconds[1] / seconds[batch]:.2f}x | {stats[0]} "
                  f"| {stats[1]:.2f} | {stats[2]:.1%} | {within} |")
        print(f"| rounding envelope: 1 alone, start moved 1 ulp up and down | | | {envelope_stats[0]} "
              f"| {envelope_stats[1]:.2f} | {envelope_stats[2]:.1%} | |")
        for batch in batch_sizes:
            saved[f"steps{steps}_batch{batch}"] = np.stack(renders[batch])
            if f"steps{steps}_batch{batch}" in previous:
                stats = _differences(renders[batch], previous[f"steps{steps}_batch{batch}"])
                print(f"| {batch} against {batch} in the earlier run (--previous) | | | {stats[0]} | {stats[1]:.2f} "
                      f"| {stats[2]:.1%} | |")
    if args.save:
        np.savez_compressed(args.save, **saved)
    if args.trace_channels:
        _trace(single, channels[: args.trace_channels], size)


def _use_float64(render_module) -> None:
    """Builds the network in float64 and runs the renders' start, octave programs and resizes in float64."""
    import keras
    import tensorflow as tf

    from deepdream import ascent

    if keras.backend.backend() != "tensorflow":
        raise SystemExit("--float64 runs on the TensorFlow backend only")
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")

    def program(gradient, weights, lapnorm):
        compiled = tf.function(lambda image, controls, step_size: ascent.octave_loop(
            image, controls, step_size, lapnorm, gradient, weights), autograph=False)
        return lambda image, controls, step_size: compiled(image, np.asarray(controls, np.int64),
                                                           np.float64(step_size))

    def bilinear(size_in: int, size_out: int) -> np.ndarray:
        # TensorFlow's bilinear weights (half-pixel centres, no antialiasing) as a matrix.
        source = np.clip((np.arange(size_out) + 0.5) * size_in / size_out - 0.5, 0, size_in - 1)
        low = np.floor(source).astype(int)
        weights = np.zeros((size_out, size_in))
        np.add.at(weights, (np.arange(size_out), low), 1 - (source - low))
        np.add.at(weights, (np.arange(size_out), np.minimum(low + 1, size_in - 1)), source - low)
        return weights

    def resize(image, shape, interpolation="bilinear"):
        rows, columns = bilinear(image.shape[1], shape[0]), bilinear(image.shape[2], shape[1])
        return tf.einsum("ij,njkc,lk->nilc", rows, tf.cast(image, tf.float64), columns)

    noise = render_module.grey_noise
    ascent.octave_program = program
    keras.ops.image.resize = resize
    render_module.grey_noise = lambda height, width, seed=0: noise(height, width, seed).astype("float64")


def _moved_by_one_ulp(noise, direction: float):
    """`noise` (`grey_noise`) with every value moved to the next float32 toward `direction`."""
    return lambda height, width, seed=0: np.nextafter(noise(height, width, seed), np.float32(direction))


def _differences(renders, reference) -> tuple[int, float, float]:
    """`(max, mean, share above 8)` of the absolute level differences of `renders` from `reference`."""
    levels = np.stack([np.abs(a.astype(int) - b) for a, b in zip(renders, reference)])
    return int(levels.max()), float(levels.mean()), float(np.mean(levels > 8))


def _trace(renderer, channels: list[int], size: tuple[int, int]) -> None:
    """Prints the first octave step by step: batch against alone, and alone against a 1-ulp move."""
    import keras

    from deepdream.octaves import octave_shapes
    from deepdream.options import DreamOptions
    from deepdream.render import grey_noise
    from inception_keras.inception_v3 import MIN_INPUT_SIZE

    shape = octave_shapes(*size, 4, 1.4, MIN_INPUT_SIZE)[0]
    start = grey_noise(*shape, 0)[None] / 127.5 - 1.0
    moved = np.nextafter(start, np.float32(np.inf))
    singles = [renderer.engine_for(channel) for channel in channels]
    batch = renderer.engine.with_sample_terms([engine.terms for engine in singles])
    states = {"batch": keras.ops.convert_to_tensor(np.repeat(start, len(channels), axis=0)),
              "moved": keras.ops.convert_to_tensor(moved)}
    states.update({n: keras.ops.convert_to_tensor(start) for n in range(len(channels))})
    rngs = {key: np.random.RandomState(0) for key in states}
    print(f"\nFirst octave ({shape[0]}x{shape[1]}) step by step, {start.dtype} images in [-1, 1]: the largest "
          f"|difference| and the pixels that differ at all, over channels {channels} (one batch) against "
          f"each alone, and channel {channels[0]} alone against its start moved 1 ulp up\n")
    print("| step | batch - alone | values differing | alone, moved start - alone | values differing |\n"
          "|---|---|---|---|---|")
    for step in range(1, max(TRACE_STEPS) + 1):
        for key, engine in [("batch", batch), ("moved", singles[0])] + list(enumerate(singles)):
            states[key], _ = engine.ascend_pixels(states[key], 1, DreamOptions.step_size, 32, False, rngs[key])
        if step in TRACE_STEPS:
            together = keras.ops.convert_to_numpy(states["batch"])
            alone = np.concatenate([keras.ops.convert_to_numpy(states[n]) for n in range(len(channels))])
            first = keras.ops.convert_to_numpy(states[0])
            moved_now = keras.ops.convert_to_numpy(states["moved"])
            print(f"| {step} | {np.abs(together - alone).max():.1e} | {np.mean(together != alone):.2%} "
                  f"| {np.abs(moved_now - first).max():.1e} | {np.mean(moved_now != first):.2%} |")


if __name__ == "__main__":
    main()
