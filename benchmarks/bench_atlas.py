"""The atlas's targets, in one process: throughput batched vs one by one, selectivity, top-channel agreement.

    python benchmarks/bench_atlas.py --weights PATH [--layer mixed4] [--channels 16] [--size 128]
        [--batch 8] [--skip throughput,selectivity,top]

- throughput: `render_atlas` of `--channels` channels at `--size` px
  (pixel renders, the atlas's defaults: 4 octaves capped at 75 px, 20 steps)
  with `--batch` channels per batch, then one by one (batch 1), each into a
  fresh folder with a fresh `Renderer` (compiling counts, as in an atlas);
  channels per minute of each, and their ratio (target: at least 2x).
- selectivity: 16 channels rendered as one batch; each render's activation
  of each channel measured with `keras.applications.InceptionV3(include_top=False,
  weights=None)` loaded with the same weights file; a channel is selective
  when its own render excites it more than the other 15 renders do (target:
  at least 14 of 16).
- top: `--top-channels`' 8 channels (`deepdream.atlas.file_top_channels`,
  `--precision auto`) against the 8 highest mean activations computed
  directly with keras.applications (float32) on the same resized photo, for
  scikit-image's sample photos (none used by the tests); target: at most 2 differ.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

SKIMAGE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry")


def cpu_name() -> str:
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("Model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def reference_layer(weights: str, layer: str):
    import keras

    model = keras.applications.InceptionV3(include_top=False, weights=None)
    model.load_weights(weights)
    return keras.Model(model.input, model.get_layer(layer).output)


def direct_means(reference, image: np.ndarray) -> np.ndarray:
    import keras

    x = keras.applications.inception_v3.preprocess_input(image[None].astype("float32"))
    return np.asarray(reference(x)).mean(axis=(0, 1, 2))


def throughput(args) -> None:
    from deepdream.atlas import render_atlas
    from deepdream.options import AtlasOptions, DreamOptions, EngineOptions

    engine = EngineOptions(weights=args.weights)
    rates = {}
    for batch in (args.batch, 1):
        with tempfile.TemporaryDirectory() as folder:
            atlas = AtlasOptions(layers=args.layer, channels=f"0-{args.channels - 1}", size=args.size, batch=batch)
            start = time.perf_counter()
            render_atlas(Path(folder) / "atlas", engine, DreamOptions(), atlas)
            seconds = time.perf_counter() - start
        rates[batch] = args.channels / seconds * 60
        print(f"batch {batch:2d}: {args.channels} channels in {seconds:6.1f} s = {rates[batch]:6.1f} channels/min")
    print(f"throughput: batched / one by one = {rates[args.batch] / rates[1]:.2f}x (target >= 2x)")


def selectivity(args) -> None:
    from deepdream.render import Renderer

    channels = list(range(16))
    renders = Renderer(args.layer, weights=args.weights).render_batch(channels, (args.size, args.size))
    reference = reference_layer(args.weights, args.layer)
    activations = np.stack([direct_means(reference, image)[channels] for image in renders])  # render x channel
    selective = [int(np.argmax(activations[:, j]) == j) for j in range(len(channels))]
    print(f"selectivity ({args.layer}, 16 channels in one batch, {args.size} px): {sum(selective)} of 16 renders "
          f"excite their own channel most (target >= 14); not: {[c for c, s in zip(channels, selective) if not s]}")


def top_agreement(args) -> None:
    import skimage.data

    from deepdream.atlas import PHOTO_SIDE, file_top_channels
    from deepdream.jobs import build_renderer, fit_max_side
    from deepdream.options import EngineOptions
    from inception_keras.images import save_image

    engine = EngineOptions(weights=args.weights, layers=args.layer)
    renderer = build_renderer(engine)
    reference = reference_layer(args.weights, args.layer)
    with tempfile.TemporaryDirectory() as folder:
        for name in SKIMAGE_PHOTOS:
            image = getattr(skimage.data, name)()
            if image.ndim == 2:
                image = np.repeat(image[..., None], 3, axis=-1)
            path = save_image(image[..., :3], Path(folder) / f"{name}.png")
            ours = [c for c, _ in file_top_channels(path, args.layer, engine, 8, renderer=renderer)]
            means = direct_means(reference, fit_max_side(image[..., :3], PHOTO_SIDE))
            direct = [int(c) for c in np.argsort(-means)[:8]]
            print(f"top 8 of {name} ({image.shape[1]}x{image.shape[0]}): {len(set(ours) - set(direct))} differ "
                  f"(target <= 2); ours {ours}, direct {direct}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--layer", default="mixed4")
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--skip", default="", help="comma list of throughput, selectivity, top")
    args = parser.parse_args()
    print(f"CPU: {cpu_name()}")
    skip = set(args.skip.split(","))
    for name, run in (("throughput", throughput), ("selectivity", selectivity), ("top", top_agreement)):
        if name not in skip:
            run(args)


if __name__ == "__main__":
    main()
