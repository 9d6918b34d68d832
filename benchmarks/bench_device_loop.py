"""The device loop against the host loop it replaced, on each Keras backend, in one run.

    python benchmarks/bench_device_loop.py --weights PATH [--backends tensorflow,jax,torch]
        [--overhead-size 1920x1080] [--overhead-steps 4] [--dream-size 960x640] [--dream-steps 20] [--dream-rounds 1]

One child process per backend (same machine, back to back; the ratios are
what to read, the CPU being shared). Each prints two rows:
- overhead: a step at `--overhead-size` on the shallow objective `stem_2a_relu`
  (where host work shows), whole image, one octave: the time per step, and
  the time per step spent outside compiled code. For the host loop that is
  the step minus the engine's gradient of the same image timed alone
  (`OctaveAscent.gradient`; on JAX its tiles, gathered on the host); for the
  device loop the step minus its compiled octave program
  (`OctaveAscent.octave_program`) timed alone on the same image. "Beyond
  the gradient" is the device step minus a compiled gradient of the same
  image timed alone: the roll, normalisation and update the program runs
  besides the gradient (on a CPU, compiled but still CPU work).
- dream: keras.io's settings (mixed4..7 weighted 1/1.5/2/2.5, 3 octaves x
  `--dream-steps`, `--dream-size`), whole dream including compilation,
  device loop against host loop (which on JAX is the 512-pixel tiles it
  always used on a CPU); with `--dream-rounds N`, N dreams per loop taking
  turns (host first, then device first, ...), the later ones with the
  engine compiled: on a shared CPU only interleaved dreams compare.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
KERAS_IO = "mixed4:1.0,mixed5:1.5,mixed6:2.0,mixed7:2.5"


def _sync(value):
    import keras

    keras.ops.convert_to_numpy(keras.tree.flatten(value)[-1])  # waits for the device
    return value


def measure(weights: str, overhead_size: tuple[int, int], overhead_steps: int, dream_size: tuple[int, int],
            dream_steps: int, dream_rounds: int = 1) -> dict:
    import keras
    import numpy as np

    from deepdream import DeepDream, ascent

    rng = np.random.RandomState(0)
    height, width = overhead_size
    photo = (rng.rand(height, width, 3) * 255).astype(np.uint8)
    engine = DeepDream("stem_2a_relu", weights=weights, whole_image_pixels=height * width)
    host_engine = engine.with_ascent(device_loop=False)
    results = {"backend": keras.backend.backend()}

    def seconds_per_step(call):
        start = time.perf_counter()
        _sync(call())
        return (time.perf_counter() - start) / overhead_steps

    options = dict(octaves=1, steps=overhead_steps, jitter=32)
    engine.dream(photo, **options)  # compiles the device loop
    device_step = seconds_per_step(lambda: engine.dream(photo, **options))
    program = engine.ascent.octave_program(False, (height, width))
    image = engine.ascent.to_unit(ascent.to_device(photo))
    controls = ascent.octave_controls(ascent.draw_shifts(np.random.RandomState(0), overhead_steps, 32))
    program_step = seconds_per_step(lambda: program(image, controls, 0.01))
    _sync(engine.ascent.compiled_gradient(image))  # compiles it alone (JAX)
    gradient_alone = seconds_per_step(lambda: [_sync(engine.ascent.compiled_gradient(image))
                                               for _ in range(overhead_steps)])

    host_engine.dream(photo, **dict(options, steps=1))  # compiles the host loop's gradient (JAX: its tile)
    host_step = seconds_per_step(lambda: host_engine.dream(photo, **options))
    _sync(host_engine.ascent.gradient(image))
    host_gradient = seconds_per_step(lambda: [_sync(host_engine.ascent.gradient(image))
                                              for _ in range(overhead_steps)])
    results["overhead"] = {
        "device_step": device_step, "device_outside": device_step - program_step,
        "device_beyond_gradient": device_step - gradient_alone,
        "host_step": host_step, "host_outside": host_step - host_gradient,
    }

    height, width = dream_size
    photo = (rng.rand(height, width, 3) * 255).astype(np.uint8)
    seconds, dreamers = {"host": [], "device": []}, {}
    for round_index in range(dream_rounds):  # host first, then device first, and so on
        for loop in ("host", "device") if round_index % 2 == 0 else ("device", "host"):
            if loop not in dreamers:
                dreamers[loop] = DeepDream(KERAS_IO, weights=weights, device_loop=loop == "device")
            start = time.perf_counter()
            dreamers[loop].dream(photo, octaves=3, steps=dream_steps)
            seconds[loop].append(time.perf_counter() - start)
    results["dream"] = seconds
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default="none")
    parser.add_argument("--backends", default="tensorflow,jax,torch")
    parser.add_argument("--overhead-size", default="1920x1080")
    parser.add_argument("--overhead-steps", type=int, default=4)
    parser.add_argument("--dream-size", default="960x640")
    parser.add_argument("--dream-steps", type=int, default=20)
    parser.add_argument("--dream-rounds", type=int, default=1,
                        help="dreams per loop, alternating which goes first; later ones reuse the compiled engine")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    size = lambda text: tuple(int(v) for v in text.split("x"))[::-1]  # noqa: E731  WxH -> (H, W)
    weights = None if args.weights == "none" else args.weights
    if args.child:
        print("RESULT " + json.dumps(measure(weights, size(args.overhead_size), args.overhead_steps,
                                             size(args.dream_size), args.dream_steps, args.dream_rounds)))
        return
    print(f"| backend | step, host loop | outside compiled code, host | step, device loop | "
          f"outside compiled code, device | host / device outside | device beyond the gradient | "
          f"keras.io dream {args.dream_size} x3 octaves "
          f"x{args.dream_steps}, host s | device s | host / device | later dreams (median), host s | device s | "
          f"host / device |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for backend in args.backends.split(","):
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3",
                   PYTHONPATH=os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")]))
        command = [sys.executable, __file__, "--child", backend] + sys.argv[1:]
        output = subprocess.run(command, env=env, capture_output=True, text=True)
        lines = [line for line in output.stdout.splitlines() if line.startswith("RESULT ")]
        if not lines:
            print(f"| {backend} | failed: {output.stderr.strip().splitlines()[-1:]} |")
            continue
        result = json.loads(lines[0][len("RESULT "):])
        o, d = result["overhead"], result["dream"]
        print(f"| {backend} | {o['host_step'] * 1000:.0f} ms | {o['host_outside'] * 1000:.1f} ms | "
              f"{o['device_step'] * 1000:.0f} ms | {o['device_outside'] * 1000:.1f} ms | "
              f"{o['host_outside'] / max(o['device_outside'], 1e-4):.1f}x | "
              f"{o['device_beyond_gradient'] * 1000:.1f} ms | {d['host'][0]:.1f} | {d['device'][0]:.1f} | "
              f"{d['host'][0] / d['device'][0]:.2f}x | {_later(d['host'])} | {_later(d['device'])} | "
              f"{_later(d['host'], d['device'])} |", flush=True)


def _later(seconds: list[float], against: list[float] | None = None) -> str:
    """The median of the dreams after the first (compiled already), or their ratio to `against`'s; '-' if none."""
    import statistics

    if len(seconds) < 2:
        return "-"
    if against is None:
        return f"{statistics.median(seconds[1:]):.1f}"
    return f"{statistics.median(seconds[1:]) / statistics.median(against[1:]):.2f}x"


if __name__ == "__main__":
    main()
