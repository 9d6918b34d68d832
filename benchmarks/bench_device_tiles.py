"""Tiles on the device against the host tiled loop: seconds a step and peak memory, per backend, in child processes.

    python benchmarks/bench_device_tiles.py --weights PATH [--backends tensorflow,jax]
        [--sizes 3840x2160,7680x4320] [--steps 2] [--rounds 1] [--precision auto] [--layers mixed3:1.0,mixed5:1.5]

Each case is its own process (`KERAS_BACKEND` set per case), so its peak
RSS (`ru_maxrss`) is that path's alone. A case builds the engine with the
whole-image limit of this machine (`deepdream.hardware`), forces the path
(`DeepDream(..., device_tiles=True or False)`) and dreams the photo at 1 octave x
`--steps` steps, timing each step as `on_step` reports it: "first" is the
start and the first step (the compile included), "s / step" the mean of the
others (with a progress callback the device loop runs one step a chunk at
these sizes, so each step is timed on both paths). The photo is scikit-image's coffee resized to each
size. Cases run interleaved (host, device, host, device, ...) so a busy
machine slows both alike; read the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

TREE = Path(__file__).resolve().parent.parent


def case(args) -> None:
    """One case in this process: prints a JSON line with the timings."""
    import numpy as np
    import skimage.data

    from deepdream import DeepDream
    from inception_keras.images import resize_image

    width, height = (int(v) for v in args.case_size.split("x"))
    photo = resize_image(skimage.data.coffee(), height, width)
    engine = DeepDream(args.layers, weights=args.weights, precision=args.precision,
                       device_tiles=args.path == "device")
    assert height * width > engine.whole_image_pixels, "the size must be above the whole-image limit"
    times = [time.perf_counter()]
    dreamed = engine.dream(photo, octaves=1, steps=args.steps, on_step=lambda *_: times.append(time.perf_counter()))
    steps = np.diff(times)
    print(json.dumps({"first": steps[0], "per_step": float(np.mean(steps[1:])), "moved": float(np.abs(
        dreamed.astype(np.int16) - photo).mean()), "precision": engine.precision}))


def run_case(args, backend: str, path: str, size: str) -> dict:
    env = dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=str(TREE), TF_CPP_MIN_LOG_LEVEL="3")
    command = [sys.executable, __file__, "--weights", args.weights, "--steps", str(args.steps),
               "--precision", args.precision, "--layers", args.layers, "--case-path", path, "--case-size", size]
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=str(TREE), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    _, status, usage = os.wait4(process.pid, 0)
    stdout, stderr = process.stdout.read(), process.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{backend} {path} {size} failed:\n{stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result.update(wall=time.perf_counter() - start, peak_gib=usage.ru_maxrss * 1024 / 2**30)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--backends", default="tensorflow,jax")
    parser.add_argument("--sizes", default="3840x2160", help="WxH list, each above the whole-image limit")
    parser.add_argument("--steps", type=int, default=2, help="steps of the dream (at least 2)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--layers", default="mixed3:1.0,mixed5:1.5")
    parser.add_argument("--case-path", choices=["host", "device"], help=argparse.SUPPRESS)
    parser.add_argument("--case-size", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.steps < 2:
        parser.error(f"--steps must be at least 2 (the first step holds the compile). Received: {args.steps}")
    if args.case_path:
        args.path = args.case_path
        case(args)
        return 0

    print(f"layers {args.layers}, precision {args.precision}, 1 octave x {args.steps} steps; 'first' = the start "
          "and first step, compile included; 's / step' = the mean of the others")
    print("| backend | size | path | first s | s / step | peak RSS GiB | moved | round |")
    print("|---|---|---|---|---|---|---|---|")
    for round_index in range(args.rounds):
        for size in args.sizes.split(","):
            for backend in args.backends.split(","):
                for path in ("host", "device"):
                    result = run_case(args, backend, path, size)
                    print(f"| {backend} | {size} | {path} tiles | {result['first']:.1f} | {result['per_step']:.2f} | "
                          f"{result['peak_gib']:.2f} | {result['moved']:.2f} | {round_index + 1} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
