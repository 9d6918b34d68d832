"""The normalise-and-update of one step on a large image: in-place bands against whole-image tensors.

    python benchmarks/bench_normalization.py [--size 3840x2160] [--repeats 5]

"tensor": the step's update on whole-image tensors, `ascended(image, direction
* scale)` of `step_update(gradient)` (`deepdream.ascent_step`, as the device
loop runs it; each op makes an image-sized temporary). "bands": the host
loop's `ascend_in_place` on NumPy buffers, the statistic and the update 256
rows at a time, in place. "lapnorm": the same with the Laplacian pyramid
normalisation (whole-image tensors; it needs a global RMS per band).
Reports the median seconds and the growth of peak RSS over the two buffers
(image and gradient), measured in a fresh process per variant.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

VARIANTS = ("tensor", "bands", "lapnorm")


def run(variant: str, height: int, width: int, repeats: int) -> dict:
    """Times one variant in this process; returns seconds and the peak RSS growth in MiB."""
    import keras
    import numpy as np

    from deepdream import ascent_step

    rng = np.random.RandomState(0)
    image = rng.uniform(-1, 1, (height, width, 3)).astype(np.float32)
    gradient = rng.standard_normal((height, width, 3)).astype(np.float32)
    keras.ops.convert_to_numpy(keras.ops.abs(keras.ops.zeros((8, 8))))  # backend warm
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        if variant == "tensor":
            direction, scale = ascent_step.step_update(keras.ops.convert_to_tensor(gradient[None]), 0.01, False)
            image = keras.ops.convert_to_numpy(ascent_step.ascended(image[None], direction * scale))[0]
        else:
            ascent_step.ascend_in_place(image, gradient, 0.01, lapnorm=variant == "lapnorm")
        times.append(time.perf_counter() - start)
    growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return {"variant": variant, "seconds": statistics.median(times), "rss_growth_mib": growth,
            "buffer_mib": image.nbytes / 2**20}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="3840x2160")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    if args.variant:
        print(json.dumps(run(args.variant, height, width, args.repeats)))
        return 0
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent), TF_CPP_MIN_LOG_LEVEL="3")
    print(f"{args.size}, one image or gradient buffer = {width * height * 12 / 2**20:.0f} MiB")
    print("| variant | seconds (median) | peak RSS growth MiB |\n|---|---|---|")
    for variant in VARIANTS:
        done = subprocess.run([sys.executable, __file__, "--size", args.size, "--repeats", str(args.repeats),
                               "--variant", variant], env=env, capture_output=True, text=True, check=True)
        row = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"| {variant} | {row['seconds']:.2f} | {row['rss_growth_mib']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
