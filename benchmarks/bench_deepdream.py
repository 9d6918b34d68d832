"""Times the engine against the keras.io and TensorFlow-tutorial algorithms on the same work.

    python benchmarks/bench_deepdream.py --weights PATH [--sizes 960x640,3840x2160] [--image PHOTO] [--write]

Each case runs in its own process so its peak resident memory is its own.
"seconds" is the dream alone; "whole process" runs from the launch of the
case's Python process to the dream being ready (interpreter, imports, model
and weights, tracing, dream), so start-up counts. Under the JAX backend only
the engine cases run (the baselines are TensorFlow code), and the peak
accelerator memory is reported when the device tells it.
Work per case: the same layers, octave shapes and steps per octave. Strength is
the float32 objective of the dream over that of the input (measured outside the
timing, after the peak-memory reading), so precisions can be compared. Effective
GFLOP/s = 4 x (forward multiply-adds of the network up to the deepest layer,
summed over octave shapes and steps) / seconds: 2 FLOPs per multiply-add,
forward plus the input-gradient backward pass. `--write` puts the table in
benchmarks/RESULTS.md, keeping its hand-written "Reading the table" section.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LAYERS = {"mixed4": 1.0, "mixed5": 1.5, "mixed6": 2.0, "mixed7": 2.5}  # keras.io's settings
CASES = ("kerasio", "tutorial", "engine", "engine_bfloat16")
LAUNCH_ENV_VAR = "BENCH_DEEPDREAM_LAUNCHED_AT"


def run_case(case: str, height: int, width: int, octaves: int, steps: int, weights: str,
             image_path: str | None = None, whole_image_pixels: int | None = None) -> dict:
    """Runs one case in this process and returns its timing."""
    import numpy as np

    import inception_keras as ik
    from deepdream import DeepDream, octave_shapes

    if image_path:
        from inception_keras.images import load_image, resize_image

        image = resize_image(load_image(image_path), height, width)
    else:
        image = (np.random.RandomState(0).rand(height, width, 3) * 255).astype(np.uint8)
    shapes = octave_shapes(height, width, octaves, 1.4)
    spec = ",".join(f"{k}:{v}" for k, v in LAYERS.items())
    if case.startswith("engine"):
        precision = case.split("_", 1)[1] if "_" in case else "float32"
        engine = DeepDream(spec, weights=weights, precision=precision, whole_image_pixels=whole_image_pixels)
        start, cpu_start = time.perf_counter(), _cpu_seconds()
        dreamed = engine.dream(image, octaves=octaves, octave_scale=1.4, steps=steps, step_size=0.01, jitter=0)
        seconds, cpu_seconds = time.perf_counter() - start, _cpu_seconds() - cpu_start
    else:
        from benchmarks_baselines import kerasio_dream, tutorial_dream

        base = ik.InceptionV3(include_top=False, weights=weights, input_shape=(None, None, 3))
        extractor = ik.feature_extractor(base, list(LAYERS))
        algorithm = kerasio_dream if case == "kerasio" else tutorial_dream
        start, cpu_start = time.perf_counter(), _cpu_seconds()
        result = algorithm(extractor, image[None].astype("float32") / 127.5 - 1, LAYERS, shapes, steps, 0.01)
        result = np.asarray(result)
        seconds, cpu_seconds = time.perf_counter() - start, _cpu_seconds() - cpu_start
        dreamed = np.clip((result[0] + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)
    whole_process = time.time() - float(os.environ.get(LAUNCH_ENV_VAR, "nan"))
    whole_process_cpu = _cpu_seconds()
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    device_peak_mb = _device_peak_mb()
    macs = sum(_forward_macs(h, w) for h, w in shapes) * steps
    return {
        "case": case, "size": f"{width}x{height}", "seconds": seconds, "whole_process": whole_process,
        "cpu_seconds": cpu_seconds, "whole_process_cpu": whole_process_cpu,
        "gflops": 4 * macs / seconds / 1e9, "peak_rss_mb": peak_rss_mb, "device_peak_mb": device_peak_mb,
        "strength": _objective_gain(spec, weights, image, dreamed),
    }


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process so far (all threads): steadier than wall time on a busy machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _device_peak_mb() -> float | None:
    """Peak accelerator memory of this process (JAX on a GPU), else `None`."""
    import keras

    if keras.backend.backend() != "jax":
        return None
    import jax

    stats = jax.devices()[0].memory_stats() if jax.devices()[0].platform == "gpu" else None
    return stats["peak_bytes_in_use"] / 2**20 if stats and "peak_bytes_in_use" in stats else None


def machine() -> str:
    """The CPU model, its bfloat16 flags and core count, and the GPU when JAX sees one."""
    model, flags = "", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and not model:
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    model = model or platform.processor() or platform.machine()
    bf16 = ", ".join(sorted(flags & {"avx512_bf16", "amx_bf16"})) or "no native bfloat16"
    text = f"{model} ({bf16}), {os.cpu_count()} cores"
    if os.environ.get("KERAS_BACKEND") == "jax":
        import jax

        device = jax.devices()[0]
        text += f"; JAX device: {device.device_kind} ({device.platform})"
    return text


def _objective_gain(spec: str, weights: str, image, dreamed) -> float:
    """The float32 objective of the dream over that of the input, on a 640-pixel-wide copy."""
    import keras
    import numpy as np

    from deepdream import DeepDream
    from inception_keras.images import resize_image

    scorer = DeepDream(spec, weights=weights)
    height = round(640 * image.shape[0] / image.shape[1])

    def objective(picture):
        small = resize_image(picture, height, 640)[None].astype("float32") / 127.5 - 1.0
        return float(scorer.gradient(keras.ops.convert_to_tensor(small))[0])

    return objective(np.asarray(dreamed)) / objective(image)


def _forward_macs(height: int, width: int) -> int:
    import keras

    import inception_keras as ik

    base = ik.InceptionV3(include_top=False, weights=None, input_shape=(height, width, 3))
    extractor = ik.feature_extractor(base, list(LAYERS))
    total = 0
    for layer in extractor.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, out_h, out_w, out_c = layer.output.shape
            kh, kw = layer.kernel_size
            total += out_h * out_w * out_c * kh * kw * layer.input.shape[-1]
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True, help="Inception-v3 conv-base weights file")
    parser.add_argument("--sizes", default="960x640,3840x2160", help="WxH list")
    parser.add_argument("--octaves", type=int, default=3)
    parser.add_argument("--steps", default="20,2", help="steps per octave, one per size")
    parser.add_argument("--cases", default=None, help=f"default: {','.join(CASES)} (engine ones under JAX)")
    parser.add_argument("--image", help="a photo resized to each size (default: random noise)")
    parser.add_argument("--whole-image-pixels", type=int, help="engine's whole-image limit (default: per device)")
    parser.add_argument("--write", action="store_true", help="write benchmarks/RESULTS.md")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    steps = [int(s) for s in args.steps.split(",")]

    if args.cases is None:
        jax = os.environ.get("KERAS_BACKEND") == "jax"
        args.cases = ",".join(c for c in CASES if c.startswith("engine") or not jax)
    if args.case:
        (width, height), = sizes
        print(json.dumps(run_case(args.case, height, width, args.octaves, steps[0], args.weights,
                                  args.image, args.whole_image_pixels)))
        return 0

    rows = []
    for (width, height), size_steps in zip(sizes, steps):
        for case in args.cases.split(","):
            command = [sys.executable, __file__, "--case", case, "--weights", args.weights,
                       "--sizes", f"{width}x{height}", "--octaves", str(args.octaves),
                       "--steps", str(size_steps)]
            command += ["--image", args.image] if args.image else []
            if args.whole_image_pixels is not None:
                command += ["--whole-image-pixels", str(args.whole_image_pixels)]
            python_path = os.pathsep.join([str(HERE), str(HERE.parent), os.environ.get("PYTHONPATH", "")])
            env = dict(os.environ, PYTHONPATH=python_path, TF_CPP_MIN_LOG_LEVEL="3",
                       **{LAUNCH_ENV_VAR: repr(time.time())})
            done = subprocess.run(command, capture_output=True, text=True, env=env)
            if done.returncode != 0:
                row = {"case": case, "size": f"{width}x{height}", "error": done.stderr.strip().splitlines()[-1]}
            else:
                row = json.loads(done.stdout.strip().splitlines()[-1])
            row["steps"] = size_steps
            rows.append(row)
            print(json.dumps(row), flush=True)
    table = _markdown(rows, args)
    print(table)
    if args.write:
        results = HERE / "RESULTS.md"
        notes = ""
        if results.exists() and "## Reading the table" in results.read_text():
            notes = "\n" + results.read_text()[results.read_text().index("## Reading the table"):]
        results.write_text(table + notes)
    return 0


def _markdown(rows: list[dict], args) -> str:
    lines = [
        "# DeepDream benchmark",
        "",
        f"Machine: {machine()}; backend: {os.environ.get('KERAS_BACKEND', 'tensorflow')}.",
        f"Layers {LAYERS} (keras.io's), {args.octaves} octaves at scale 1.4, "
        f"{'input ' + Path(args.image).name if args.image else 'random-noise input'}, jitter off for every case.",
        "Command: `python benchmarks/bench_deepdream.py --weights ../shared/weights/inception_v3_notop_q8.h5 "
        f"--sizes {args.sizes} --steps {args.steps}{' --image ' + args.image if args.image else ''} --write`",
        "",
        "| size | steps/octave | case | seconds | whole process s | effective GFLOP/s | peak RSS (MB) "
        "| device peak (MB) | strength | speed-up vs keras.io | whole-process speed-up | CPU s (dream / whole) "
        "| CPU-time speed-up (dream / whole) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    baseline = {r["size"]: r for r in rows if r["case"] == "kerasio" and "seconds" in r}
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['size']} | {r['steps']} | {r['case']} | failed: {r['error']} | | | | | | | | | |")
            continue
        base = baseline.get(r["size"])
        speedup = f"{base['seconds'] / r['seconds']:.2f}x" if base else "-"
        whole = f"{base['whole_process'] / r['whole_process']:.2f}x" if base else "-"
        device = f"{r['device_peak_mb']:.0f}" if r.get("device_peak_mb") else "-"
        cpu = (f"{base['cpu_seconds'] / r['cpu_seconds']:.2f}x / {base['whole_process_cpu'] / r['whole_process_cpu']:.2f}x"
               if base else "-")
        lines.append(
            f"| {r['size']} | {r['steps']} | {r['case']} | {r['seconds']:.1f} | {r['whole_process']:.1f} | "
            f"{r['gflops']:.1f} | {r['peak_rss_mb']:.0f} | {device} | {r['strength']:.2f}x | {speedup} | {whole} | "
            f"{r['cpu_seconds']:.0f} / {r['whole_process_cpu']:.0f} | {cpu} |"
        )
    lines += [
        "",
        "Strength: the float32 objective (the same weighted layers) of the output over that of the input,",
        "scored on a 640-pixel-wide copy.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
