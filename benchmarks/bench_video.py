"""Flow-guided video dreams against dreaming every frame from scratch, on a pan and zoom over a photo.

    python benchmarks/bench_video.py --weights PATH [--size 480x270] [--frames 32]
        [--cases input,no-flow,flow] [--frame-steps 5] [--blend 0.9] [--precision float32]
        [--baseline OLD_video_dream.py]
    python benchmarks/bench_video.py --weights PATH --cli-trees main=/work/main,branch=. [--cli-frames 4,12]
    python benchmarks/bench_video.py --cli-trees main=/work/main,branch=. --stand-in-ms 100 [--size 640x360]

The clip is a camera panning across and zooming into a real photo, so the true
motion between frames is known exactly. Cases (one engine, one process, the
same clip): `input` (the clip itself), `no-flow` (every frame dreamed from
scratch with the still settings, DeepDreamVideo's way) and `flow` (first
frame dreamed, later frames carried along DIS optical flow then refined;
`--frame-steps` and `--blend` take comma lists to sweep). `--baseline` adds
the `flow` cases dreamed by another `video_dream.py` (e.g. main's, from `git
show main:deepdream/video_dream.py`), loaded beside this one with the same
engine and the same `deepdream.flow`, so before and after share one run. Measures:

- seconds per frame (after a warm-up dream that compiles every shape; the
  median of `--repeats` interleaved rounds), and the share of it spent on
  optical flow and warping;
- the temporal warping error of Lai et al. 2018 ("Learning Blind Video
  Temporal Consistency"): the mean squared difference, pixels in [0, 1],
  between output frame t+1 and output frame t warped by the clip's true
  motion, over the pixels that motion keeps inside the frame;
- strength: the layer objective of each output frame over that of its input
  frame, averaged over the clip, and over its first and last quarter (drift).

`--cli-trees` instead times the whole command, `python -m deepdream CLIP`
(decode, flow, dream, store, encode; wall and CPU seconds), from each source
tree on the same clip, interleaved, at two `--max-frames` counts: seconds per frame is the time
difference over the frame difference, so start-up and the first frame's full
dream cancel out. With `--stand-in-ms` the engine is a stand-in that only
waits that long per frame (a device faster than this CPU), so what is timed
is what the loop adds around the dream: decoding, flow, carry, storing and
encoding, overlapped or not.

Writes a markdown table and `bench_video.json` into `$OUT` when it is set,
else prints both.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def load_photo(path: str | None) -> np.ndarray:
    """The photo the camera moves over: `--photo`, else scikit-image's coffee, else matplotlib's Grace Hopper."""
    from inception_keras.images import load_image

    if path:
        return load_image(path)
    try:
        import skimage.data

        return skimage.data.coffee()
    except ImportError:
        pass
    try:
        import matplotlib.cbook

        return load_image(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    except ImportError:
        raise SystemExit("no photo: install scikit-image or matplotlib, or pass --photo PATH") from None


def camera_matrices(photo_shape, width: int, height: int, frames: int, pan: float = 0.25, zoom: float = 1.35,
                    span: int = 32):
    """Affine maps photo -> frame for each frame: over `span` frames the view pans by `pan` of the photo
    and zooms in `zoom`x; a shorter clip moves as fast and stops early, a longer one goes on."""
    photo_height, photo_width = photo_shape[:2]
    # The first view: the largest frame-shaped window that leaves room to pan.
    view_width = min(photo_width * (1 - pan), photo_height * width / height)
    matrices = []
    for index in range(frames):
        t = index / (span - 1)
        scale_view = view_width / zoom**t
        centre_x = photo_width / 2 + (t - 0.5) * pan * photo_width * 0.9
        centre_y = photo_height / 2
        scale = width / scale_view
        matrices.append(np.array([[scale, 0, width / 2 - scale * centre_x],
                                  [0, scale, height / 2 - scale * centre_y]], np.float64))
    return matrices


def render_clip(photo: np.ndarray, matrices, width: int, height: int) -> list[np.ndarray]:
    import cv2

    return [cv2.warpAffine(photo, m, (width, height), flags=cv2.INTER_AREA if m[0, 0] < 1 else cv2.INTER_CUBIC,
                           borderMode=cv2.BORDER_REFLECT) for m in matrices]


def true_flow(later, earlier, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Flow from frame `later` to frame `earlier` (matrices) and where it stays inside the frame."""
    def full(m):
        return np.vstack([m, [0, 0, 1]])

    mapping = full(earlier) @ np.linalg.inv(full(later))
    columns, rows = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    x = mapping[0, 0] * columns + mapping[0, 1] * rows + mapping[0, 2]
    y = mapping[1, 0] * columns + mapping[1, 1] * rows + mapping[1, 2]
    flow = np.stack([x - columns, y - rows], axis=-1).astype(np.float32)
    return flow, (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)


def warping_error(frames, matrices, width: int, height: int) -> float:
    """Lai et al.'s temporal warping error with the true motion, pixels in [0, 1]."""
    from deepdream.flow import warp

    errors = []
    for index in range(1, len(frames)):
        flow, valid = true_flow(matrices[index], matrices[index - 1], width, height)
        warped = warp(frames[index - 1].astype(np.float32) / 255.0, flow)
        squared = np.square(frames[index].astype(np.float32) / 255.0 - warped).mean(axis=2)
        errors.append(float(squared[valid].mean()))
    return float(np.mean(errors))


def objective_of(engine, image: np.ndarray) -> float:
    import keras

    tensor = keras.ops.convert_to_tensor(image[None].astype("float32") / 127.5 - 1.0)
    return float(keras.ops.convert_to_numpy(engine.objective(engine.extractor(tensor, training=False))))


def load_baseline(path: str):
    """Another version of `deepdream/video_dream.py`, imported beside this tree's as `baseline_video_dream`."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("baseline_video_dream", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_case(engine, case: dict, clip, matrices, args) -> tuple[dict, list[np.ndarray]]:
    from deepdream import flow as optical
    from deepdream.video_dream import dream_frames

    if case.get("baseline"):
        dream_frames = args.baseline_module.dream_frames
    dream_options = dict(octaves=args.octaves, steps=args.steps, seed=0)
    start = time.perf_counter()
    after_first = start
    if case["kind"] == "input":
        outputs = list(clip)
    else:
        outputs = []
        for output in dream_frames(engine, clip, dream_options, frame_steps=case.get("frame_steps", 1),
                                   blend=case.get("blend", 1.0), flow=case["kind"] == "flow",
                                   flow_preset=args.flow_preset, hold_level=case.get("hold_level", True),
                                   lookahead=args.lookahead):
            outputs.append(output)
            if len(outputs) == 1:
                after_first = time.perf_counter()
    end = time.perf_counter()
    seconds = end - start
    row = dict(case=case["name"], size=f"{args.width}x{args.height}", frames=len(clip),
               seconds_per_frame=seconds / len(clip), clip_seconds=seconds,
               later_seconds_per_frame=(end - after_first) / max(1, len(clip) - 1))
    if case["kind"] == "flow" and not case.get("baseline"):
        start = time.perf_counter()
        for previous, current, output in zip(clip, clip[1:], outputs):
            optical.motion_between(previous, current, args.flow_preset).carry(output.astype(np.float32))
        row["flow_seconds_per_frame"] = (time.perf_counter() - start) / max(1, len(clip) - 1)
    row["warping_error"] = warping_error(outputs, matrices, args.width, args.height)
    gains = [objective_of(engine, out) / objective_of(engine, frame) for out, frame in zip(outputs, clip)]
    quarter = max(1, len(gains) // 4)
    row.update(strength=float(np.mean(gains)), strength_first_quarter=float(np.mean(gains[:quarter])),
               strength_last_quarter=float(np.mean(gains[-quarter:])))
    row["drift"] = row["strength_last_quarter"] / row["strength_first_quarter"]
    return row, outputs


def cases_from(args) -> list[dict]:
    cases = []
    for name in args.cases.split(","):
        if name == "flow":
            for steps in args.frame_steps.split(","):
                for blend in args.blend.split(","):
                    for hold in args.hold_level.split(","):
                        for baseline in ([True, False] if args.baseline else [False]):
                            cases.append(dict(kind="flow", baseline=baseline,
                                              name=f"{'baseline ' if baseline else ''}flow steps={steps} "
                                                   f"blend={blend} hold={hold}",
                                              frame_steps=int(steps), blend=float(blend), hold_level=hold == "on"))
        elif name in ("input", "no-flow"):
            cases.append(dict(kind=name, name=name))
        else:
            raise SystemExit(f"unknown case {name!r}: use input, no-flow, flow")
    return cases


def markdown(rows, args, device: str) -> str:
    lines = [
        f"Clip: {args.frames} frames {args.width}x{args.height}, pan and zoom over a photo; layer {args.layer}; "
        f"first frame / no-flow: {args.octaves} octaves x {args.steps} steps; precision {args.precision}; "
        f"flow preset {args.flow_preset}; device: {device}.",
        "",
        "| case | s/frame | flow+warp s/frame | clip time vs no-flow | warping error | vs no-flow | "
        "strength | first -> last quarter | drift |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    baseline = next((r for r in rows if r["case"] == "no-flow"), None)
    for r in rows:
        flow_cost = f"{r['flow_seconds_per_frame']:.3f}" if "flow_seconds_per_frame" in r else ""
        time_ratio = f"{r['clip_seconds'] / baseline['clip_seconds']:.2f}x" if baseline and r["case"] != "input" else ""
        error_ratio = f"{r['warping_error'] / baseline['warping_error']:.3f}x" if baseline else ""
        lines.append(
            f"| {r['case']} | {r['seconds_per_frame']:.3f} | {flow_cost} | {time_ratio} | {r['warping_error']:.5f} | "
            f"{error_ratio} | {r['strength']:.2f}x | {r['strength_first_quarter']:.2f}x -> "
            f"{r['strength_last_quarter']:.2f}x | {r['drift']:.2f} |"
        )
    pairs = [(r, next((b for b in rows if b["case"] == "baseline " + r["case"]), None)) for r in rows]
    pairs = [(r, b) for r, b in pairs if b is not None]
    if pairs:
        lines += ["", "| case: this tree over the baseline | s/frame | s/frame after the first | warping error | "
                  "strength | drift |", "|---|---|---|---|---|---|"]
        for r, b in pairs:
            lines.append(f"| {r['case']} | {r['seconds_per_frame'] / b['seconds_per_frame']:.3f}x | "
                         f"{r['later_seconds_per_frame'] / b['later_seconds_per_frame']:.3f}x | "
                         f"{r['warping_error'] / b['warping_error']:.3f}x | {r['strength'] / b['strength']:.3f}x | "
                         f"{r['drift'] / b['drift']:.3f}x |")
    return "\n".join(lines) + "\n"


def device_name() -> str:
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        return f"jax {device.platform} {getattr(device, 'device_kind', '')}".strip()
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{backend} CPU {cpu}, {os.cpu_count()} cores"


def peak_memory(args) -> list[dict]:
    """Peak RSS of `python -m deepdream CLIP` on the first N frames of one clip, for each N of `--memory`."""
    import subprocess
    import tempfile

    from deepdream.video_io import write_video

    width, height = (int(v) for v in args.memory_size.split("x"))
    counts = [int(n) for n in args.memory.split(",")]
    photo = load_photo(args.photo)
    matrices = camera_matrices(photo.shape, width, height, max(counts))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        clip = write_video(render_clip(photo, matrices, width, height), Path(folder) / "clip.mp4", fps=24)
        for count in counts:
            command = [sys.executable, "-m", "deepdream", str(clip), "-o", str(Path(folder) / f"out{count}.mp4"),
                       "--weights", args.weights, "--layer", args.layer, "--octaves", "1", "--steps", "1",
                       "--frame-steps", "1", "--max-frames", str(count), "--quiet"]
            env = dict(os.environ, PYTHONPATH=str(ROOT))
            start = time.perf_counter()
            process = subprocess.Popen(command, env=env)
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
            if process.returncode != 0:
                raise SystemExit(f"{' '.join(command)} failed with status {process.returncode}")
            rows.append(dict(size=f"{width}x{height}", frames=count, peak_rss_mb=usage.ru_maxrss / 1024,
                             seconds=time.perf_counter() - start))
            print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def cli_seconds_per_frame(args) -> list[dict]:
    """Seconds per frame of `python -m deepdream CLIP` from each tree of `--cli-trees`, interleaved."""
    import subprocess
    import tempfile

    from deepdream.video_io import write_video

    trees = dict(entry.split("=", 1) for entry in args.cli_trees.split(","))
    short, long = (int(n) for n in args.cli_frames.split(","))
    photo = load_photo(args.photo)
    matrices = camera_matrices(photo.shape, args.width, args.height, long)
    times: dict = {(name, count): [] for name in trees for count in (short, long)}
    with tempfile.TemporaryDirectory() as folder:
        clip = write_video(render_clip(photo, matrices, args.width, args.height), Path(folder) / "clip.mp4", fps=24)
        for _ in range(args.cli_repeats):
            for count in (short, long):
                for name, tree in trees.items():
                    output = Path(folder) / f"{name}_{count}.mp4"
                    command = [sys.executable, "-m", "deepdream", str(clip), "-o", str(output), "--weights",
                               args.weights, "--layer", args.layer, "--octaves", str(args.octaves), "--steps",
                               str(args.steps), "--frame-steps", args.frame_steps.split(",")[0], "--blend",
                               args.blend.split(",")[0], "--flow-preset", args.flow_preset,
                               "--max-frames", str(count), "--quiet"]
                    env = dict(os.environ, PYTHONPATH=str(Path(tree).resolve()))
                    start = time.perf_counter()
                    process = subprocess.Popen(command, env=env)
                    _, status, usage = os.wait4(process.pid, 0)
                    if os.waitstatus_to_exitcode(status) != 0:
                        raise SystemExit(f"{' '.join(command)} failed with status {status}")
                    times[name, count].append((time.perf_counter() - start, usage.ru_utime + usage.ru_stime))
                    output.unlink()
                    print(json.dumps(dict(tree=name, frames=count, seconds=times[name, count][-1])), file=sys.stderr)
    rows = []
    for name in trees:
        pairs = list(zip(times[name, short], times[name, long]))
        wall = [(b[0] - a[0]) / (long - short) for a, b in pairs]
        cpu = [(b[1] - a[1]) / (long - short) for a, b in pairs]
        rows.append(dict(tree=name, path=trees[name], size=f"{args.width}x{args.height}", frames=(short, long),
                         seconds=[times[name, short], times[name, long]], seconds_per_frame=float(np.median(wall)),
                         seconds_per_frame_runs=wall, cpu_seconds_per_frame=float(np.median(cpu)),
                         cpu_seconds_per_frame_runs=cpu))
    return rows


# Run with PYTHONPATH=<tree>: the CLI with a stand-in engine whose dream and refine only wait (a fast device).
STAND_IN_DRIVER = """
import json, sys, time
import numpy as np
from deepdream import jobs
from deepdream.cli import main

seconds, marks = float(sys.argv[1]), []

class StandIn:
    precision = "float32"

    def dream(self, image, **options):
        marks.append(time.perf_counter())
        time.sleep(seconds)
        return np.asarray(image, np.float32)

    def refine(self, image, *args, **options):
        time.sleep(seconds)
        return np.asarray(image, np.float32)

jobs.build_engine = lambda options: StandIn()  # (trees before 0.2 patched cli_options.build_engine)
status = main(sys.argv[2:])
print(json.dumps(dict(status=status, loop_seconds=time.perf_counter() - marks[0])))
"""


def overlap_seconds_per_frame(args) -> list[dict]:
    """s/frame of the whole CLI loop (decode, flow, dream, store, encode) from each tree of `--cli-trees`
    when the dream is a stand-in that waits `--stand-in-ms` per frame: what the loop adds around a fast device."""
    import subprocess
    import tempfile

    from deepdream.video_io import write_video

    trees = dict(entry.split("=", 1) for entry in args.cli_trees.split(","))
    photo = load_photo(args.photo)
    matrices = camera_matrices(photo.shape, args.width, args.height, args.frames)
    runs: dict = {name: [] for name in trees}
    with tempfile.TemporaryDirectory() as folder:
        clip = write_video(render_clip(photo, matrices, args.width, args.height), Path(folder) / "clip.mp4", fps=24)
        for _ in range(args.cli_repeats):
            for name, tree in trees.items():
                output = Path(folder) / f"{name}.mp4"
                command = [sys.executable, "-c", STAND_IN_DRIVER, str(args.stand_in_ms / 1000), str(clip), "-o",
                           str(output), "--weights", "none", "--flow-preset", args.flow_preset, "--quiet"]
                env = dict(os.environ, PYTHONPATH=str(Path(tree).resolve()))
                result = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
                loop = json.loads(result.stdout.strip().splitlines()[-1])["loop_seconds"]
                runs[name].append(loop / args.frames)
                output.unlink()
                print(json.dumps(dict(tree=name, seconds_per_frame=runs[name][-1])), file=sys.stderr)
    return [dict(tree=name, path=trees[name], size=f"{args.width}x{args.height}", frames=args.frames,
                 stand_in_ms=args.stand_in_ms, seconds_per_frame=float(np.median(runs[name])),
                 seconds_per_frame_runs=runs[name]) for name in trees]


def overlap_markdown(rows) -> str:
    lines = ["| tree | clip | stand-in dream (ms) | s/frame (median) | over the stand-in | vs the first tree |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['tree']} | {row['frames']} frames {row['size']} | {row['stand_in_ms']:.0f} | "
                     f"{row['seconds_per_frame']:.3f} | {row['seconds_per_frame'] * 1000 / row['stand_in_ms']:.2f}x | "
                     f"{row['seconds_per_frame'] / rows[0]['seconds_per_frame']:.3f}x |")
    return "\n".join(lines) + "\n"


def cli_markdown(rows) -> str:
    lines = ["| tree | clip | runs at frames | s/frame (median) | vs the first tree | CPU s/frame | "
             "vs the first tree |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['tree']} | {row['size']} | {row['frames'][0]}, {row['frames'][1]} | "
                     f"{row['seconds_per_frame']:.3f} | "
                     f"{row['seconds_per_frame'] / rows[0]['seconds_per_frame']:.3f}x | "
                     f"{row['cpu_seconds_per_frame']:.3f} | "
                     f"{row['cpu_seconds_per_frame'] / rows[0]['cpu_seconds_per_frame']:.3f}x |")
    return "\n".join(lines) + "\n"


def memory_markdown(rows) -> str:
    lines = ["| clip | frames | peak RSS (MB) | vs the fewest frames |", "|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['size']} | {row['frames']} | {row['peak_rss_mb']:.0f} | "
                     f"{row['peak_rss_mb'] / rows[0]['peak_rss_mb']:.3f}x |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", help="Inception-v3 conv-base weights file ('none': random); required")
    parser.add_argument("--size", default="480x270", help="WxH of the clip")
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument("--cases", default="input,no-flow,flow")
    parser.add_argument("--layer", default="mixed4")
    parser.add_argument("--octaves", type=int, default=4)
    parser.add_argument("--steps", type=int, default=20, help="steps per octave (first frame and no-flow)")
    parser.add_argument("--frame-steps", default="5", help="comma list: steps on each later frame")
    parser.add_argument("--blend", default="0.9", help="comma list: share of the residual carried")
    parser.add_argument("--hold-level", default="on", help="comma list of on/off: hold the residual's level")
    parser.add_argument("--lookahead", action="store_true",
                        help="compute the next frame's flow on a CPU thread while a frame is dreamed (GPU)")
    parser.add_argument("--flow-preset", default="medium", choices=("ultrafast", "fast", "medium"))
    parser.add_argument("--precision", default="float32", choices=("float32", "bfloat16", "float16"))
    parser.add_argument("--tile-size", type=int, default=512)
    parser.add_argument("--photo", help="photo to pan over (default: scikit-image's coffee)")
    parser.add_argument("--save-frames", metavar="DIR", help="save the middle frame of each case as PNG here")
    parser.add_argument("--write-clip", metavar="PATH", help="instead: write the pan-and-zoom clip to PATH (24 fps)")
    parser.add_argument("--memory", metavar="N,M", help="instead: peak RSS of the CLI on N and M frames")
    parser.add_argument("--memory-size", default="640x360", help="WxH of the clip for --memory")
    parser.add_argument("--repeats", type=int, default=1,
                        help="run the cases this many rounds, interleaved; s/frame is the median")
    parser.add_argument("--baseline", metavar="PY", help="another video_dream.py: also run its flow cases")
    parser.add_argument("--cli-trees", metavar="NAME=PATH,...",
                        help="instead: s/frame of the whole CLI from each source tree, interleaved")
    parser.add_argument("--cli-frames", default="4,12", help="the two --max-frames counts for --cli-trees")
    parser.add_argument("--cli-repeats", type=int, default=2, help="rounds of runs for --cli-trees")
    parser.add_argument("--stand-in-ms", type=float,
                        help="with --cli-trees: a stand-in dream that waits this long per frame (a fast device)")
    args = parser.parse_args()
    args.width, args.height = (int(v) for v in args.size.split("x"))
    command = "python benchmarks/bench_video.py " + " ".join(sys.argv[1:])
    if args.write_clip:
        from deepdream.video_io import write_video

        photo = load_photo(args.photo)
        matrices = camera_matrices(photo.shape, args.width, args.height, args.frames)
        write_video(render_clip(photo, matrices, args.width, args.height), args.write_clip, fps=24)
        return 0
    if not args.weights and not args.stand_in_ms:
        parser.error("--weights is required")
    if args.cli_trees and args.stand_in_ms:
        rows = overlap_seconds_per_frame(args)
        table = f"Command: `{command}`\n\n{overlap_markdown(rows)}"
        _publish(table, dict(command=command, device=device_name(), overlap_rows=rows), "bench_video_overlap")
        return 0
    if args.cli_trees:
        rows = cli_seconds_per_frame(args)
        table = f"Command: `{command}`\n\n{cli_markdown(rows)}"
        _publish(table, dict(command=command, device=device_name(), cli_rows=rows), "bench_video_cli")
        return 0
    if args.memory:
        rows = peak_memory(args)
        table = f"Command: `{command}`\n\n{memory_markdown(rows)}"
        _publish(table, dict(command=command, device=device_name(), memory_rows=rows), "bench_video_memory")
        return 0

    from deepdream import DeepDream

    args.baseline_module = load_baseline(args.baseline) if args.baseline else None
    weights = None if args.weights.lower() == "none" else args.weights
    engine = DeepDream(args.layer, weights=weights, precision=args.precision, tile_size=args.tile_size)
    photo = load_photo(args.photo)
    matrices = camera_matrices(photo.shape, args.width, args.height, args.frames)
    clip = render_clip(photo, matrices, args.width, args.height)
    warm_up = time.perf_counter()
    engine.dream(clip[0], octaves=args.octaves, steps=1)
    engine.refine(clip[0], steps=1)
    print(f"warm-up (compiling every shape): {time.perf_counter() - warm_up:.1f} s", file=sys.stderr)

    rows = {}
    for _ in range(args.repeats):
        for case in cases_from(args):
            row, outputs = run_case(engine, case, clip, matrices, args)
            print(json.dumps(row), file=sys.stderr)
            if case["name"] in rows:  # the same frames again: only the times are new
                for key in ("seconds_per_frame", "later_seconds_per_frame"):
                    rows[case["name"]][key + "_runs"].append(row[key])
                continue
            rows[case["name"]] = dict(row, seconds_per_frame_runs=[row["seconds_per_frame"]],
                                      later_seconds_per_frame_runs=[row["later_seconds_per_frame"]])
            if args.save_frames:
                from inception_keras.images import save_image

                folder = Path(args.save_frames)
                folder.mkdir(parents=True, exist_ok=True)
                for index in (0, len(outputs) // 2, len(outputs) - 1):
                    save_image(outputs[index], folder / f"{case['name'].replace(' ', '_')}_{index:03d}.png")
    rows = list(rows.values())
    for row in rows:
        row["seconds_per_frame"] = float(np.median(row["seconds_per_frame_runs"]))
        row["later_seconds_per_frame"] = float(np.median(row["later_seconds_per_frame_runs"]))
        row["clip_seconds"] = row["seconds_per_frame"] * row["frames"]
    device = device_name()
    table = f"Command: `{command}`\n\n{markdown(rows, args, device)}"
    _publish(table, dict(device=device, command=command, rows=rows),
             f"bench_video_{args.width}x{args.height}_{args.precision}{'_lookahead' if args.lookahead else ''}")
    return 0


def _publish(table: str, report: dict, name: str) -> None:
    """Writes `<name>.md` and `<name>.json` into `$OUT` when it is set; prints both either way."""
    out = os.environ.get("OUT")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / f"{name}.md").write_text(table)
        (Path(out) / f"{name}.json").write_text(json.dumps(report, indent=2))
    print(table)
    print(json.dumps(report))


if __name__ == "__main__":
    raise SystemExit(main())
