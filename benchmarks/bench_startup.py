"""Whole-process start-up: a tiny 1-step dream against `python -c "import tensorflow, keras"`.

    python benchmarks/bench_startup.py --weights PATH [--rounds 5] [--baseline-tree ../main]

Each round runs every case once, in turn (interleaved, so a busy machine slows
all cases alike), and the table gives the median wall time and the median CPU
time (user + system, of the process and its threads) per case, with the
ratio to the import. Cases:

- `import`: `python -c "import tensorflow, keras"`, the floor.
- `help`: `python -m deepdream --help`.
- `dream`: `python -m deepdream tiny.png --octaves 1 --steps 1 --quiet`
  (160x120), the folded-weights cache warm (precision `auto`).
- `dream_float32`: the same with `--precision float32` (the baseline's precision).
- `dream_no_cache` (`--no-cache-case`): the same with an empty Keras cache directory (the legacy
  .h5 file is read and folded, and the cache written).
- `dream_baseline`: the same dream with another checkout's code
  (`--baseline-tree`, e.g. main), to measure the change in the same run.

`--pieces` also prints where the time of one in-process engine start goes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from child_process import run_child

HERE = Path(__file__).resolve().parent
TREE = HERE.parent


def timed(command: list[str], env: dict) -> tuple[float, float]:
    usage = run_child(command, env)
    return (usage.wall_seconds, usage.cpu_seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline-tree", help="another checkout to time the same dream with")
    parser.add_argument("--pieces", action="store_true", help="also time the pieces of one engine start")
    parser.add_argument("--no-cache-case", action="store_true", help="also time the dream with an empty cache")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp())
    image, output = work / "tiny.png", work / "tiny_dream.png"
    from PIL import Image

    import numpy as np

    Image.fromarray((np.random.RandomState(0).rand(120, 160, 3) * 255).astype(np.uint8)).save(image)
    python = sys.executable
    env = dict(os.environ, PYTHONPATH=str(TREE), TF_CPP_MIN_LOG_LEVEL="3")
    dream = [python, "-m", "deepdream", str(image), "-o", str(output), "--weights", args.weights,
             "--octaves", "1", "--steps", "1", "--quiet"]
    cases = {
        "import": ([python, "-c", "import tensorflow, keras"], env),
        "help": ([python, "-m", "deepdream", "--help"], env),
        "dream": (dream, env),
        "dream_float32": (dream + ["--precision", "float32"], env),
    }
    if args.no_cache_case:
        cases["dream_no_cache"] = (dream, None)
    if args.baseline_tree:
        cases["dream_baseline"] = (dream + ["--precision", "float32"],
                                   dict(env, PYTHONPATH=str(Path(args.baseline_tree).resolve())))
    timed(dream, env)  # fills the folded-weights cache for "dream"
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, (command, case_env) in cases.items():
            if case_env is None:
                case_env = dict(env, KERAS_HOME=tempfile.mkdtemp(dir=work))
            results[name].append(timed(command, case_env))
    floor_wall = statistics.median(w for w, _ in results["import"])
    floor_cpu = statistics.median(c for _, c in results["import"])
    print(f"| case | wall s (median of {args.rounds}) | CPU s | wall / import | CPU / import |")
    print("|---|---|---|---|---|")
    for name, runs in results.items():
        wall, cpu = statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {wall / floor_wall:.2f}x | {cpu / floor_cpu:.2f}x |")
    if args.pieces:
        subprocess.run([python, str(HERE / "bench_startup.py"), "--weights", args.weights, "--in-process"],
                       env=env, check=True)
    return 0


def pieces(weights: str) -> None:
    """Times the pieces of one engine start in this process (run after a warm cache)."""
    start = time.perf_counter()
    laps = []

    def lap(name):
        nonlocal start
        now = time.perf_counter()
        laps.append((name, now - start))
        start = now

    import keras
    import tensorflow  # noqa: F401

    lap("import tensorflow, keras")
    import numpy as np

    from deepdream import DeepDream
    from inception_keras.inception_v3 import InceptionV3

    lap("import deepdream")
    InceptionV3(include_top=False, weights=None, input_shape=(None, None, 3), fold_batch_norm=True)
    lap("build folded network, random init")
    InceptionV3(include_top=False, weights=weights, input_shape=(None, None, 3), fold_batch_norm=True)
    lap("build folded network + cached folded weights")
    with tempfile.TemporaryDirectory() as home:
        os.environ["KERAS_HOME"] = home
        InceptionV3(include_top=False, weights=weights, input_shape=(None, None, 3), fold_batch_norm=True)
        lap("build folded network + read, fold, cache the .h5")
        del os.environ["KERAS_HOME"]
    engine = DeepDream("mixed3:1.0,mixed5:1.5", weights=weights)
    lap("DeepDream(...) (build + cached weights + extractor)")
    image = np.random.RandomState(0).uniform(-1, 1, (1, 120, 160, 3)).astype("float32")
    keras.ops.convert_to_numpy(engine.gradient(image)[1])
    lap("trace + first 160x120 gradient")
    keras.ops.convert_to_numpy(engine.gradient(image)[1])
    lap("second 160x120 gradient")
    for name, seconds in laps:
        print(f"{seconds:7.2f} s  {name}")


if __name__ == "__main__":
    if "--in-process" in sys.argv:
        pieces(sys.argv[sys.argv.index("--weights") + 1])
        sys.exit(0)
    sys.exit(main())
