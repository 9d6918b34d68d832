"""This tree against a baseline checkout, in one run: keras.io's dream and the start-up to a 1-step dream.

    git worktree add /tmp/base42 42bd0c1
    python benchmarks/bench_refactor_baseline.py --weights PATH --baseline-tree /tmp/base42
        [--rounds 3] [--steps 20] [--size 960x640] [--backend tensorflow]

Two cases, each run by each tree in its own child process (the tree first on
`sys.path`, its `deepdream` checked to come from it), taking turns round by
round (this tree first, then the baseline first, ...) so load on a shared
machine hits both alike:

- `keras.io`: keras.io's DeepDream example's settings, `mixed4:1.0,mixed5:1.5,
  mixed6:2.0,mixed7:2.5` on a `--size` photo (scikit-image's astronaut),
  3 octaves of `--steps` steps, octave scale 1.4, step 0.01, float32. The
  engine is built and a 1-step dream compiles it first; the time is the
  dream after that.
- `start-up`: `python -m deepdream tiny.png --octaves 1 --steps 1 --quiet
  --precision float32` (160x120), the whole process, as
  `benchmarks/bench_startup.py` times it.

Prints the medians, the ratio this tree / baseline (below 1 is faster) and
the CPU (`lscpu`: model, AVX-512, bf16, AMX).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from child_process import run_child

TREE = Path(__file__).resolve().parent.parent
KERAS_IO = "mixed4:1.0,mixed5:1.5,mixed6:2.0,mixed7:2.5"


def keras_io_dream(tree: str, weights: str, size: tuple[int, int], steps: int) -> dict:
    """Runs in the child: keras.io's dream with `tree`'s code; returns its seconds (compiled)."""
    sys.path.insert(0, tree)
    import skimage.data

    import deepdream
    from deepdream import DeepDream
    from inception_keras.images import resize_image

    if not Path(deepdream.__file__).resolve().is_relative_to(Path(tree).resolve()):
        raise RuntimeError(f"deepdream came from {deepdream.__file__}, not from {tree}")
    photo = resize_image(skimage.data.astronaut(), *size)
    engine = DeepDream(KERAS_IO, weights=weights, precision="float32")
    options = dict(octaves=3, octave_scale=1.4, step_size=0.01)
    engine.dream(photo, steps=1, **options)  # compiles
    start = time.perf_counter()
    engine.dream(photo, steps=steps, **options)
    return {"seconds": time.perf_counter() - start, "deepdream": deepdream.__file__}


def run_keras_io(tree: Path, args, env: dict) -> float:
    command = [sys.executable, __file__, "--child", str(tree), "--weights", args.weights, "--size", args.size,
               "--steps", str(args.steps)]
    done = subprocess.run(command, env=dict(env, PYTHONPATH=str(tree)), cwd=str(tree), capture_output=True,
                          text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"keras.io dream in {tree} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])["seconds"]


def run_startup(tree: Path, image: Path, weights: str, env: dict) -> float:
    command = [sys.executable, "-m", "deepdream", str(image), "-o", str(image.with_name("out.png")),
               "--weights", weights, "--octaves", "1", "--steps", "1", "--quiet", "--precision", "float32"]
    return run_child(command, dict(env, PYTHONPATH=str(tree))).wall_seconds


def cpu() -> str:
    """`lscpu`'s model name and which of AVX-512, bf16 and AMX its flags list."""
    fields = dict(line.split(":", 1) for line in subprocess.run(
        ["lscpu"], capture_output=True, text=True).stdout.splitlines() if ":" in line)
    flags = set(fields.get("Flags", "").split())
    wanted = ["avx512f", "avx512_bf16", "amx_bf16", "amx_tile"]
    return (f"{fields.get('Model name', '?').strip()}, {os.cpu_count()} cores; "
            + ", ".join(f"{flag} {'yes' if flag in flags else 'no'}" for flag in wanted))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--baseline-tree", help="a checkout of the baseline (e.g. 42bd0c1); required")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20, help="steps per octave of the keras.io dream")
    parser.add_argument("--size", default="960x640", help="WxH of the keras.io dream")
    parser.add_argument("--backend", default="tensorflow")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    if args.child:
        print("RESULT " + json.dumps(keras_io_dream(args.child, args.weights, (height, width), args.steps)))
        return 0
    if args.baseline_tree is None:
        parser.error("--baseline-tree is required: a checkout of the baseline, e.g. `git worktree add /tmp/base42 42bd0c1`")

    from PIL import Image

    import numpy as np

    image = Path(tempfile.mkdtemp()) / "tiny.png"
    Image.fromarray((np.random.RandomState(0).rand(120, 160, 3) * 255).astype(np.uint8)).save(image)
    env = dict(os.environ, KERAS_BACKEND=args.backend, TF_CPP_MIN_LOG_LEVEL="3")
    trees = {"this tree": TREE, "baseline": Path(args.baseline_tree).resolve()}
    for tree in trees.values():
        run_startup(tree, image, args.weights, env)  # fills each tree's folded-weights cache
    seconds = {(name, case): [] for name in trees for case in ("keras.io", "start-up")}
    for round_index in range(args.rounds):
        order = list(trees) if round_index % 2 == 0 else list(trees)[::-1]
        for name in order:
            seconds[name, "start-up"].append(run_startup(trees[name], image, args.weights, env))
            seconds[name, "keras.io"].append(run_keras_io(trees[name], args, env))
            print(f"round {round_index + 1}, {name}: keras.io {seconds[name, 'keras.io'][-1]:.1f} s, "
                  f"start-up {seconds[name, 'start-up'][-1]:.1f} s", file=sys.stderr, flush=True)
    print(f"{args.backend}, {cpu()}")
    print(f"keras.io: {args.size}, 3 octaves x {args.steps} steps, {KERAS_IO}, float32; "
          f"median of {args.rounds} rounds, interleaved")
    print("| case | this tree s | baseline s | this / baseline | every round, this | every round, baseline |")
    print("|---|---|---|---|---|---|")
    for case in ("keras.io", "start-up"):
        ours, base = seconds["this tree", case], seconds["baseline", case]
        print(f"| {case} | {statistics.median(ours):.2f} | {statistics.median(base):.2f} | "
              f"{statistics.median(ours) / statistics.median(base):.3f} | {', '.join(f'{s:.1f}' for s in ours)} | "
              f"{', '.join(f'{s:.1f}' for s in base)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
