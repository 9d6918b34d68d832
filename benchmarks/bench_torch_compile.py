"""PyTorch: the octave step run eagerly against `torch.compile` (inductor), in one process, interleaved.

    KERAS_BACKEND=torch python benchmarks/bench_torch_compile.py --weights PATH
        [--layers mixed4] [--size 960x640] [--steps 3] [--cases eager,gradient] [--second-size WxH]

Cases, each the engine's step (`deepdream.ascent_step.ascent_step`: roll, gradient,
roll back, mean-abs normalisation, update, clip) on one `(1, H, W, 3)` float32
image:
- eager: the engine's default (`deepdream.gradients.traceable_gradient`).
- gradient: the loss (network and objective) under `torch.compile`, the
  backward pass compiled with it by AOTAutograd, `torch.autograd.grad`
  and the rest of the step eager.
- step: the whole step under `torch.compile(dynamic=True)`, the gradient
  taken with `torch.func.grad_and_value` so it stays in one graph (a
  `torch.autograd.grad` would break it) and the rolls symbolic integers
  (on torch 2.13.0+cpu inductor fails to compile it; benchmarks/RESULTS.md).
"first call" is the first step, compile included (inductor's caches point
at a fresh folder, so nothing is reused from an earlier run); then the
cases take turns, one step each, `--steps` rounds; the median is reported.
Each case also reports the largest gradient difference from eager. A case
whose compile fails is reported as failed and left out. `--second-size`
then times one more step of each case at another shape (the next octave):
`torch.compile` specialises on the first shape and compiles again.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time


def _cases(engine, names: list[str]) -> dict:
    import torch

    from deepdream import gradients
    from deepdream.ascent_step import ascent_step

    def loss_of(image):
        return engine.objective(engine.extractor(image, training=False))

    eager_gradient, _ = gradients.traceable_gradient(engine.extractor, engine.objective, lambda: None)
    compiled_loss = torch.compile(loss_of)

    def compiled_gradient(image, weights):
        image = image.detach().requires_grad_(True)
        loss = compiled_loss(image)
        (gradient,) = torch.autograd.grad(loss, image)
        return loss.detach(), gradient

    def functional_gradient(image, weights):
        gradient, loss = torch.func.grad_and_value(loss_of)(image)
        return loss, gradient

    compiled_step = torch.compile(lambda image, shift, step_size: ascent_step(
        image, shift, step_size, False, functional_gradient, ()), dynamic=True)
    steps = {
        "eager": lambda image, shift: ascent_step(image, shift, 0.01, False, eager_gradient, ()),
        "gradient": lambda image, shift: ascent_step(image, shift, 0.01, False, compiled_gradient, ()),
        "step": lambda image, shift: compiled_step(image, shift, 0.01),
    }
    gradient_of = {"eager": eager_gradient, "gradient": compiled_gradient, "step": functional_gradient}
    return {name: (steps[name], gradient_of[name]) for name in names}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--layers", default="mixed4")
    parser.add_argument("--size", default="960x640", help="WxH")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--cases", default="eager,gradient", help="of eager, gradient, step")
    parser.add_argument("--second-size", help="WxH")
    args = parser.parse_args()
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", tempfile.mkdtemp(prefix="inductor-"))
    import keras
    import numpy as np
    import torch

    from deepdream import DeepDream

    if keras.backend.backend() != "torch":
        raise SystemExit("run with KERAS_BACKEND=torch")
    width, height = (int(v) for v in args.size.split("x"))
    engine = DeepDream(args.layers, weights=args.weights)
    cases = _cases(engine, args.cases.split(","))
    rng = np.random.RandomState(0)
    start_image = torch.tensor(rng.rand(1, height, width, 3).astype("float32") * 2 - 1)
    shifts = [[int(v) for v in rng.randint(-32, 33, size=2)] for _ in range(args.steps + 1)]
    images = {name: start_image.clone() for name in cases}
    first, seconds = {}, {name: [] for name in cases}
    for name, (step, _) in list(cases.items()):
        began = time.perf_counter()
        try:
            images[name], _ = step(images[name], shifts[0])
        except Exception as error:  # an inductor failure: report it, time the others
            print(f"{name}: failed after {time.perf_counter() - began:.1f} s: "
                  f"{type(error).__name__}: {str(error).splitlines()[0][:300]}", flush=True)
            del cases[name], seconds[name]
            continue
        first[name] = time.perf_counter() - began
        print(f"{name}: first call {first[name]:.1f} s", flush=True)
    for round_ in range(args.steps):
        for name, (step, _) in cases.items():
            began = time.perf_counter()
            images[name], loss = step(images[name], shifts[round_ + 1])
            float(loss)
            seconds[name].append(time.perf_counter() - began)
    reference = cases.get("eager", next(iter(cases.values())))[1](start_image, ())[1]
    print(f"\n{args.layers} at {args.size}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"load average {os.getloadavg()[0]:.1f} at the end")
    print("| case | first call s | s/step (median) | eager / case | max abs gradient difference / max abs |")
    print("|---|---|---|---|---|")
    eager = np.median(seconds["eager"]) if "eager" in seconds else None
    for name, (_, gradient) in cases.items():
        difference = float((gradient(start_image, ())[1] - reference).abs().max() / reference.abs().max())
        median = float(np.median(seconds[name]))
        ratio = f"{eager / median:.2f}x" if eager is not None else "-"
        print(f"| {name} | {first[name]:.1f} | {median:.3f} | {ratio} | {difference:.1e} |", flush=True)
    if args.second_size:
        width, height = (int(v) for v in args.second_size.split("x"))
        image = torch.tensor(rng.rand(1, height, width, 3).astype("float32") * 2 - 1)
        for name, (step, _) in cases.items():
            began = time.perf_counter()
            try:
                float(step(image, shifts[0])[1])
                print(f"{name} at {args.second_size}: first call {time.perf_counter() - began:.1f} s", flush=True)
            except Exception as error:
                print(f"{name} at {args.second_size}: failed after {time.perf_counter() - began:.1f} s: "
                      f"{type(error).__name__}: {str(error).splitlines()[0][:300]}", flush=True)


if __name__ == "__main__":
    main()
