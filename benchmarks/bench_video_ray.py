"""Whole-process time of a 3-shot clip: `--ray local --workers 1` against the local run, and the targets.

    python benchmarks/bench_video_ray.py --weights PATH [--rounds 2] [--size 320x240] [--frames-per-shot 6]

The clip is made here from scikit-image photos the tests do not use
(retina, colorwheel, coins: three shots, two hard cuts, or pass
`--shots 4` for a fourth, hubble_deep_field, and three cuts), each a slow
pan, with an AAC tone as audio. Each run is its own `python -m deepdream`
process, timed from launch to exit, the two modes interleaved round by
round, so the ratio (Ray over local) carries Ray's start-up, its actors'
model builds and the frames' transfers. The last round's outputs are then
compared as the targets ask: cuts found by `--list-shots`, per-frame mean
difference (levels), frame count, rate and audio duration.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
PHOTOS = ("retina", "colorwheel", "coins", "hubble_deep_field")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--size", default="320x240")
    parser.add_argument("--frames-per-shot", type=int, default=6)
    parser.add_argument("--shots", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()

    import numpy as np
    import skimage.data
    from video_clips import audio_seconds, panning_shots, write_frames_clip

    from deepdream.video_io import probe_video, read_video

    width, height = (int(n) for n in args.size.split("x"))
    folder = Path(tempfile.mkdtemp(prefix="bench_video_ray_"))
    photos = [getattr(skimage.data, name)() for name in PHOTOS[: args.shots]]
    clip = write_frames_clip(folder / "clip.mp4", panning_shots(photos, args.frames_per_shot, width, height))
    cuts = [args.frames_per_shot * i for i in range(1, args.shots)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    base = [sys.executable, "-m", "deepdream", str(clip), "--weights", args.weights, "--octaves", "2", "--steps", "4",
            "--frame-steps", "2", "--quiet"]
    listed = subprocess.run([*base, "--list-shots", "--format", "json"], env=env, capture_output=True, text=True,
                            check=True)
    shots = json.loads(listed.stdout)
    times = {"local": [], "ray": []}
    for round_ in range(args.rounds):
        for mode, extra in (("local", []), ("ray", ["--ray", "local", "--workers", str(args.workers)])):
            output = folder / f"{mode}.mp4"
            output.unlink(missing_ok=True)
            start = time.perf_counter()
            subprocess.run([*base, "-o", str(output), *extra], env=env, check=True, capture_output=True)
            times[mode].append(time.perf_counter() - start)
            print(f"round {round_ + 1} {mode}: {times[mode][-1]:.1f} s", flush=True)
    local, ray = list(read_video(folder / "local.mp4")), list(read_video(folder / "ray.mp4"))
    differences = [float(np.mean(np.abs(a.astype(float) - b))) for a, b in zip(local, ray)]
    source = probe_video(clip)
    report = dict(
        clip=f"{width}x{height}, {len(local)} frames, cuts at {cuts}",
        shots_found=[[s["start"], s["end"]] for s in shots],
        local_s=[round(t, 1) for t in times["local"]], ray_s=[round(t, 1) for t in times["ray"]],
        ray_over_local=round(statistics.median(times["ray"]) / statistics.median(times["local"]), 2),
        per_frame_local_s=round(statistics.median(times["local"]) / len(local), 2),
        mean_difference=round(float(np.mean(differences)), 2), max_frame_difference=round(max(differences), 2),
        frames=[source.frame_count, len(local), len(ray)],
        fps=[str(source.fps), str(probe_video(folder / "local.mp4").fps), str(probe_video(folder / "ray.mp4").fps)],
        audio_s=[round(audio_seconds(p), 3) for p in (clip, folder / "local.mp4", folder / "ray.mp4")],
    )
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
