"""Whole-image against tiled gradients, per step, by image size: where tiling starts to pay on this device.

    python benchmarks/bench_tiling.py --weights PATH [--sizes 960x640,1280x1024,1920x1080,2560x1440]
        [--precision auto] [--steps 3]

One process, two engines on keras.io's layers: one takes every gradient on
the whole image, the other in 512-pixel tiles (32-pixel margins). For each
size, after one untimed step each, the steps alternate between the two
(so load on a shared machine hits both alike) and the median seconds per
step are compared. Memory is not measured here (see bench_memory.py): the
whole-image step's activations grow with the image, the tiled step's with
the tile.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

LAYERS = "mixed4:1.0,mixed5:1.5,mixed6:2.0,mixed7:2.5"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--sizes", default="960x640,1280x1024,1920x1080,2560x1440")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()

    from deepdream import DeepDream

    whole = DeepDream(LAYERS, weights=args.weights, precision=args.precision, whole_image_pixels=10**9)
    tiled = DeepDream(LAYERS, weights=args.weights, precision=args.precision, whole_image_pixels=0)
    print(f"precision {whole.precision}")
    print("| size | whole s/step | tiled s/step | tiled / whole |\n|---|---|---|---|")
    for size in args.sizes.split(","):
        width, height = (int(v) for v in size.split("x"))
        image = np.random.RandomState(0).uniform(-1, 1, (height, width, 3)).astype(np.float32)
        out = np.empty_like(image)
        times = {"whole": [], "tiled": []}
        for step in range(args.steps + 1):
            for name, engine in (("whole", whole), ("tiled", tiled)):
                start = time.perf_counter()
                engine.ascent.gradient_into(image, (step, -step), out)
                if step:
                    times[name].append(time.perf_counter() - start)
        w, t = statistics.median(times["whole"]), statistics.median(times["tiled"])
        print(f"| {size} | {w:.2f} | {t:.2f} | {t / w:.2f} |", flush=True)


if __name__ == "__main__":
    main()
