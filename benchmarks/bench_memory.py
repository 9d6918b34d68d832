"""Peak resident memory of a whole `python -m deepdream` run on a large photo, 1 octave and 1 step.

    python benchmarks/bench_memory.py --weights PATH [--sizes 3840x2160,7680x4320]
        [--precisions auto,float32] [--baseline-tree ../main] [--photo PATH] [--octaves 1]

The photo (default: scikit-image's `rocket.jpg`, 640x427) is resized to each
size and written as PNG first; each run is its own process and its peak RSS
(`ru_maxrss` of the child) is reported with its wall time. `--baseline-tree`
runs the same command with another checkout's code (float32: that code
has no `auto`).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from child_process import run_child

TREE = Path(__file__).resolve().parent.parent


def peak_rss(command: list[str], env: dict) -> tuple[float, float]:
    usage = run_child(command, env)
    return (usage.peak_rss_gib, usage.wall_seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--sizes", default="3840x2160,7680x4320", help="WxH list")
    parser.add_argument("--precisions", default="auto,float32")
    parser.add_argument("--baseline-tree", help="another checkout to run the same command with")
    parser.add_argument("--photo", help="photo to resize (default: scikit-image's rocket.jpg)")
    parser.add_argument("--octaves", type=int, default=1, help="octaves (1 step each)")
    args = parser.parse_args()

    sys.path.insert(0, str(TREE))
    from inception_keras.images import load_image, resize_image, save_image

    if args.photo is None:
        import skimage

        args.photo = str(Path(skimage.__file__).parent / "data" / "rocket.jpg")
    photo = load_image(args.photo)
    work = Path(tempfile.mkdtemp())
    env = dict(os.environ, PYTHONPATH=str(TREE), TF_CPP_MIN_LOG_LEVEL="3")
    print(f"{args.octaves} octave(s) x 1 step, photo {Path(args.photo).name}")
    print("| size | code | precision | peak RSS GiB | wall s |")
    print("|---|---|---|---|---|")
    for size in args.sizes.split(","):
        width, height = (int(v) for v in size.split("x"))
        source = save_image(resize_image(photo, height, width), work / f"photo_{size}.png")
        runs = [("this tree", precision, env) for precision in args.precisions.split(",")]
        if args.baseline_tree:
            baseline = dict(env, PYTHONPATH=str(Path(args.baseline_tree).resolve()))
            runs.append(("baseline", "float32", baseline))
        for code, precision, run_env in runs:
            command = [sys.executable, "-m", "deepdream", str(source), "-o", str(work / "out.png"),
                       "--weights", args.weights, "--octaves", str(args.octaves), "--steps", "1", "--quiet",
                       "--precision", precision]
            gib, wall = peak_rss(command, run_env)
            print(f"| {size} | {code} | {precision} | {gib:.2f} | {wall:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
