"""Issue 14's torch targets on photos the tests have not seen: agreement at jitter 0, and the dream's strength.

    python benchmarks/check_backend_targets.py --weights PATH [--photos rocket,grace_hopper]
        [--gain-photos rocket,coffee,stereo_motorcycle,grace_hopper]

Runs `tests/backend_cases.py` once per photo of `--photos` on TensorFlow,
JAX and torch, one backend after another (random weights with a fixed
seed, jitter 0: a dream, a render, a video frame's `refine`), and compares
them with the tolerances of `tests/test_backends.py`. The torch process
also dreams each of `--gain-photos` with the trained weights (mixed4,
2 octaves x 6 steps, as the tests measure it) and prints the objective of
the dream over that of the photo.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

TESTS = Path(__file__).resolve().parent.parent / "tests"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True, help="trained weights, for the strength")
    parser.add_argument("--photos", default="rocket,grace_hopper")
    parser.add_argument("--gain-photos", default="rocket,coffee,stereo_motorcycle,grace_hopper")
    args = parser.parse_args()
    sys.path.insert(0, str(TESTS))
    from test_backends import TOLERANCES, start_backend, wait_backend

    print("| photo | backend | case | mean abs difference from TF (limit) | 99.9th percentile (limit) | "
          "correlation | holds |")
    print("|---|---|---|---|---|---|---|")
    gains = None
    for index, name in enumerate(args.photos.split(",")):
        out = Path(tempfile.mkdtemp(prefix=f"backends-{name}-"))
        random_weights = out / "random_notop.h5"
        for backend in ("tensorflow", "jax", "torch"):
            flags = ["--photo", name] + (["--write-weights"] if backend == "tensorflow" else [])
            if backend == "torch" and index == 0:
                flags += ["--trained", args.weights, "--gain-photos", args.gain_photos]
            wait_backend(start_backend(backend, out, random_weights, *flags), backend)
        results = {tuple(path.stem.split("_", 1)): np.load(path) for path in out.glob("*.npy")}
        gains = results.get(("torch", "gains"), gains)
        for backend in ("jax", "torch"):
            for case, (mean_limit, percentile_limit) in sorted(TOLERANCES.items()):
                reference = results["tensorflow", case].astype(np.float32)
                difference = np.abs(results[backend, case].astype(np.float32) - reference)
                mean, percentile = difference.mean(), np.percentile(difference, 99.9)
                correlation = np.corrcoef(results[backend, case].ravel(), reference.ravel())[0, 1]
                holds = mean < mean_limit and percentile <= percentile_limit and correlation > 0.99
                print(f"| {name} | {backend} | {case} | {mean:.4f} ({mean_limit}) | {percentile:.3f} "
                      f"({percentile_limit}) | {correlation:.5f} | {'yes' if holds else 'NO'} |", flush=True)
    print("\ntorch, mixed4 dream (2 octaves x 6 steps, 150x120) over the photo, trained weights:")
    for name, gain in zip(args.gain_photos.split(","), gains):
        print(f"- {name}: {gain:.2f}x ({'holds' if gain > 1.3 else 'below'} the 1.3x target)")


if __name__ == "__main__":
    main()
