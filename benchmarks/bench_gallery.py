"""A channel gallery rendered channel by channel against batches of channels, in one process.

    python benchmarks/bench_gallery.py --weights PATH [--channels 16] [--size 128] [--steps 20]
        [--batch-sizes 1,4,8,16] [--layer mixed4]

Each batch size renders the same channels from the same noise and seed with
a fresh `Renderer` (so compiling each channel's or batch's program counts,
as it does in a gallery); batch size 1 is the channel-by-channel gallery.
Prints seconds per configuration, the speed-up over batch size 1 and the
largest pixel difference from its renders (float rounding only).
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--layer", default="mixed4")
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-sizes", default="1,4,8,16")
    args = parser.parse_args()

    import keras

    from deepdream.render import Renderer

    channels = list(range(args.channels))
    size = (args.size, args.size)
    seconds, renders = {}, {}
    for batch in (int(v) for v in args.batch_sizes.split(",")):
        renderer = Renderer(args.layer, weights=args.weights)
        start = time.perf_counter()
        if batch == 1:
            renders[batch] = [renderer.render(channel, size, steps=args.steps) for channel in channels]
        else:
            renders[batch] = []
            for first in range(0, len(channels), batch):
                renders[batch] += renderer.render_batch(channels[first: first + batch], size, steps=args.steps)
        seconds[batch] = time.perf_counter() - start
    print(f"{args.channels} channels of {args.layer} at {args.size}px, {args.steps} steps per octave, "
          f"backend {keras.backend.backend()}")
    print("| batch size | seconds | speed-up over 1 | max pixel difference from 1 |\n|---|---|---|---|")
    reference = renders.get(1)
    for batch, value in seconds.items():
        difference = "" if reference is None else max(
            int(np.abs(a.astype(int) - b).max()) for a, b in zip(renders[batch], reference))
        speedup = f"{seconds[1] / value:.2f}x" if 1 in seconds else ""
        print(f"| {batch} | {value:.1f} | {speedup} | {difference} |")


if __name__ == "__main__":
    main()
