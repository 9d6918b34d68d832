"""`--plan`'s estimates against the dream they plan: peak RSS, time, and the plan's own time.

    python benchmarks/check_plan.py --weights PATH [--cases 3840x2160:2:2,...] [--photo PATH]
    python benchmarks/check_plan.py --weights PATH --atlas WORKERS

Each case is `WxH:OCTAVES:STEPS[:LAYERS[:TILE[:PRECISION]]]`. For each, the
photo (default: scikit-image's `coffee.png`) is resized to the size and
written as PNG, then two processes run: `python -m deepdream PHOTO --plan
--format json` with an empty calibration cache (a fresh `KERAS_HOME`), and
the dream itself, whose peak RSS (`ru_maxrss` of the child) and wall time
are compared with the plan's estimates. Targets (issue 22): RSS within
0.67x to 1.5x of the estimate, time within 0.5x to 2x, the plan under a
quarter of the dream's time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from child_process import GIB, run_child

TREE = Path(__file__).resolve().parent.parent
DEFAULT_CASES = "3840x2160:2:2"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--cases", default=DEFAULT_CASES, help="WxH:OCTAVES:STEPS[:LAYERS[:TILE[:PRECISION]]], ...")
    parser.add_argument("--photo", help="photo to resize (default: scikit-image's coffee.png)")
    parser.add_argument("--atlas", type=int, metavar="WORKERS",
                        help="instead: the plan of every channel of mixed0 to mixed10, 128-pixel pixel renders in "
                             "galleries' batches, here and on WORKERS Ray workers like this machine")
    args = parser.parse_args()
    if args.atlas:
        return atlas_plan(args.weights, args.atlas)

    sys.path.insert(0, str(TREE))
    from inception_keras.images import load_image, resize_image, save_image

    if args.photo is None:
        import skimage

        args.photo = str(Path(skimage.__file__).parent / "data" / "coffee.png")
    photo = load_image(args.photo)
    work = Path(tempfile.mkdtemp())
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((line.split(":", 1)[1].strip() for line in cpu.splitlines() if line.startswith("Model name")), "?")
    print(f"CPU: {model}; photo {Path(args.photo).name}")
    print("| size | octaves x steps | layers | tile | precision | tiles | est. GiB | RSS GiB | RSS / est. "
          "| est. s | dream s | dream / est. | plan s | plan / dream |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for case in args.cases.split(","):
        size, octaves, steps, *rest = case.split(":")
        layers = rest[0] if len(rest) > 0 and rest[0] else "mixed3:1.0,mixed5:1.5"
        tile = rest[1] if len(rest) > 1 and rest[1] else "512"
        precision = rest[2] if len(rest) > 2 and rest[2] else "auto"
        width, height = (int(v) for v in size.split("x"))
        source = save_image(resize_image(photo, height, width), work / f"photo_{size}.png")
        command = [sys.executable, "-m", "deepdream", str(source), "-o", str(work / "out.png"), "--weights",
                   args.weights, "--octaves", octaves, "--steps", steps, "--quiet", "--precision", precision,
                   "--tile-size", tile, "--layer", layers.replace(";", ",")]
        env = dict(os.environ, PYTHONPATH=str(TREE), TF_CPP_MIN_LOG_LEVEL="3",
                   KERAS_HOME=tempfile.mkdtemp(dir=work))
        start = time.perf_counter()
        shown = subprocess.run([*command, "--plan", "--format", "json"], env=env, cwd=TREE, capture_output=True,
                               text=True, check=True)
        plan_seconds = time.perf_counter() - start
        plan = json.loads(shown.stdout)
        usage = run_child(command, env)
        estimate_gib = plan["peak_memory_bytes"] / GIB
        print(f"| {size} | {octaves} x {steps} | {layers.replace(';', ',')} | {tile} | {plan['precision']} "
              f"| {plan['tiles']} | {estimate_gib:.2f} | {usage.peak_rss_gib:.2f} "
              f"| {usage.peak_rss_gib / estimate_gib:.2f} | {plan['seconds']:.0f} | {usage.wall_seconds:.0f} "
              f"| {usage.wall_seconds / plan['seconds']:.2f} | {plan_seconds:.1f} "
              f"| {plan_seconds / usage.wall_seconds:.2f} |", flush=True)
    return 0


def atlas_plan(weights: str, workers: int) -> int:
    """Prints `plan_render`'s estimate for each layer's channels and the whole atlas (calibrating each layer)."""
    sys.path.insert(0, str(TREE))
    os.environ.setdefault("KERAS_HOME", tempfile.mkdtemp())
    from deepdream import jobs, plan
    from deepdream.gallery import DEFAULT_GALLERY_BATCH
    from deepdream.options import DreamOptions, EngineOptions, RenderOptions

    print(f"| layer | channels | octaves | peak GiB | hours (batches of {DEFAULT_GALLERY_BATCH}) |")
    print("|---|---|---|---|---|")
    total = 0.0
    for index in range(11):
        engine = EngineOptions(layers=f"mixed{index}", weights=weights)
        renderer = jobs.build_renderer(engine)
        channels = renderer.channels()
        planned = plan.plan_render(engine, DreamOptions(), RenderOptions(noise="128x128"), count=channels,
                                   batch=DEFAULT_GALLERY_BATCH, renderer=renderer)
        total += planned.seconds
        print(f"| mixed{index} | {channels} | {planned.octaves} | {planned.peak_memory_bytes / GIB:.2f} "
              f"| {planned.seconds / 3600:.2f} |", flush=True)
    print(f"whole atlas: {total / 3600:.1f} h here; {total / 3600 / workers:.1f} h on {workers} Ray workers "
          "like this machine (the channels split evenly; each worker's start-up aside)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
