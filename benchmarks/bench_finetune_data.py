"""Streaming vs in-memory training data for `finetune`: epoch time on 300 images, and peak memory as the set grows.

    python benchmarks/bench_finetune_data.py [--images 300] [--image-size 299] [--rounds 3]
    python benchmarks/bench_finetune_data.py --data-only          # the loaders alone, no model
    python benchmarks/bench_finetune_data.py --memory 300,1200,4800   # peak RSS of the finetune command

Epoch time: one classifier per loader (random trunk: the arithmetic is the
same as with trained weights), trained one epoch at a time, the loaders
alternating; the first round (tracing, and the in-memory loader's decoding)
is reported apart. The in-memory loader is `read_image_folder` fed to
`Model.fit` as arrays, as `finetune` did before it streamed; "streaming"
decodes every epoch, "streaming + cache" reads `--cache`'s `.npy` files after
the first epoch.

Data only: one pass over each loader's batches with no model, the loaders
alternating: what the loading itself costs per epoch.

Memory: `python -m inception_keras finetune` (1 epoch) under
`/usr/bin/time -v` on the same kind of data set at each size: peak RSS, its
ratio to the smallest set's, and the command's wall time per image (the
epoch time, with start-up and validation). `--against DIR` runs another
checkout's package too (e.g. `git archive main | tar -x -C DIR`), the two
alternating, two rounds per size.

The images are 640x480 JPEG crops of scikit-image's photos, one class per photo.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")


def write_photo_dataset(root: Path, count: int, seed: int = 0) -> Path:
    """Writes `count` 640x480 JPEGs under `root/<photo name>/`, noisy zoomed crops of four photos."""
    import skimage.data

    rng = np.random.RandomState(seed)
    photos = {name: Image.fromarray(getattr(skimage.data, name)()).convert("RGB") for name in PHOTOS}
    for index in range(count):
        name = PHOTOS[index % len(PHOTOS)]
        photo = photos[name]
        side = int(rng.uniform(0.5, 0.9) * min(photo.size))
        left, top = rng.randint(0, photo.width - side + 1), rng.randint(0, photo.height - side + 1)
        crop = photo.crop((left, top, left + side, top + side * 3 // 4)).resize((640, 480), Image.BICUBIC)
        pixels = np.clip(np.asarray(crop, np.int16) + rng.randint(-12, 13, (480, 640, 3)), 0, 255).astype(np.uint8)
        (root / name).mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(root / name / f"{name}_{index:05d}.jpg", quality=90)
    return root


def time_epochs(data_dir: Path, cache_dir: Path, image_size: int, batch_size: int,
                rounds: int) -> dict[str, list[float]]:
    """Seconds per epoch of each loader, alternating; the first entry of each is the first round."""
    import keras

    from inception_keras.classifier import build_classifier
    from inception_keras.data_pipeline import image_dataset
    from inception_keras.image_folders import ImageDecoder, list_image_folder, read_image_folder
    from inception_keras.training import classifier_losses

    def classifier():
        keras.utils.set_random_seed(0)
        model = build_classifier(len(PHOTOS), image_size, weights=None)
        model.compile(optimizer=keras.optimizers.Adam(1e-2), **classifier_losses())
        return model

    files = list_image_folder(data_dir)
    streams = {
        "streaming": image_dataset(files, ImageDecoder(image_size), batch_size, shuffle_seed=0),
        "streaming + cache": image_dataset(files, ImageDecoder(image_size, cache_dir), batch_size, shuffle_seed=0),
    }
    models = {name: classifier() for name in ("in-memory", *streams)}
    seconds = {name: [] for name in models}
    data = None
    for _ in range(rounds):
        start = time.perf_counter()
        if data is None:
            data = read_image_folder(data_dir, image_size)
        models["in-memory"].fit(data.images, data.one_hot_labels(), batch_size=batch_size, epochs=1,
                                shuffle=True, verbose=0)
        seconds["in-memory"].append(time.perf_counter() - start)
        for name, stream in streams.items():
            start = time.perf_counter()
            models[name].fit(stream, epochs=1, shuffle=False, verbose=0)
            seconds[name].append(time.perf_counter() - start)
    return seconds


def time_data_passes(data_dir: Path, cache_dir: Path, image_size: int, batch_size: int,
                     rounds: int) -> dict[str, list[float]]:
    """Seconds per pass over each loader's batches, no model; the first entry of each is the first round."""
    from inception_keras.data_pipeline import image_dataset
    from inception_keras.image_folders import ImageDecoder, list_image_folder, read_image_folder

    files = list_image_folder(data_dir)
    streams = {
        "streaming": image_dataset(files, ImageDecoder(image_size), batch_size, shuffle_seed=0),
        "streaming + cache": image_dataset(files, ImageDecoder(image_size, cache_dir), batch_size, shuffle_seed=0),
    }
    seconds = {name: [] for name in ("in-memory", *streams)}
    data = None
    rng = np.random.RandomState(0)
    for _ in range(rounds):
        start = time.perf_counter()
        if data is None:
            data = read_image_folder(data_dir, image_size)
        order = rng.permutation(len(data))
        for begin in range(0, len(order), batch_size):
            batch = order[begin:begin + batch_size]
            data.images[batch].astype("float32"), data.one_hot_labels()[batch]
        seconds["in-memory"].append(time.perf_counter() - start)
        for name, stream in streams.items():
            start = time.perf_counter()
            for _ in stream:
                pass
            seconds[name].append(time.perf_counter() - start)
    return seconds


def peak_rss_mb(data_dir: Path, image_size: int, batch_size: int, out_dir: Path) -> tuple[float, float]:
    """Peak resident memory (MiB) and wall seconds of one `finetune` epoch on `data_dir`, from `/usr/bin/time -v`."""
    command = ["/usr/bin/time", "-v", sys.executable, "-m", "inception_keras", "finetune", str(data_dir),
               "--out", str(out_dir / "model.keras"), "--weights", "none", "--epochs", "1",
               "--image-size", str(image_size), "--batch-size", str(batch_size), "--quiet"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=out_dir,  # cwd: PYTHONPATH picks the package
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    if done.returncode != 0:
        raise SystemExit(f"finetune failed:\n{done.stderr[-3000:]}")
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1)) / 1024
    clock = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    hours, minutes, seconds = clock.groups()
    return peak, int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=300, help="images for the epoch-time comparison")
    parser.add_argument("--image-size", type=int, default=299)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="epochs of each loader, alternating")
    parser.add_argument("--data-only", action="store_true", help="time the loaders alone, without a model")
    parser.add_argument("--memory", default=None, metavar="N,M,...",
                        help="instead: peak RSS of the finetune command at these data set sizes")
    parser.add_argument("--against", default=None, metavar="DIR",
                        help="with --memory: also run another checkout's package (e.g. `git archive main`), "
                             "the two alternating at each size")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {_cpu_model()}")

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        if args.memory:
            sizes = [int(value) for value in args.memory.split(",")]
            peaks = {}
            for count in sizes:
                data_dir = write_photo_dataset(folder / f"data_{count}", count)
                if args.against:
                    _compare_trees(data_dir, count, args, folder)
                    continue
                peaks[count], seconds = peak_rss_mb(data_dir, args.image_size, args.batch_size, folder)
                print(f"{count} images at {args.image_size} px: peak RSS {peaks[count]:.0f} MiB "
                      f"({peaks[count] / peaks[sizes[0]]:.3f}x {sizes[0]}'s), {seconds:.0f} s "
                      f"({seconds / count * 1000:.0f} ms per image)", flush=True)
            return
        data_dir = write_photo_dataset(folder / "data", args.images)
        timer = time_data_passes if args.data_only else time_epochs
        seconds = timer(data_dir, folder / "cache", args.image_size, args.batch_size, args.rounds)
    print(f"{args.images} images at {args.image_size} px, batch {args.batch_size}"
          f"{', data only (no model)' if args.data_only else ''}")
    for name, values in seconds.items():
        later = ", ".join(f"{value:.1f}" for value in values[1:])
        ratio = np.median(values[1:]) / np.median(seconds["in-memory"][1:])
        first = values[0] / seconds["in-memory"][0]
        print(f"{name}: first epoch {values[0]:.1f} s ({first:.2f}x), later epochs {later} s "
              f"(median {ratio:.2f}x in-memory's)")


def _compare_trees(data_dir: Path, count: int, args, folder: Path) -> None:
    """Peak RSS and wall time of this checkout's and `--against`'s finetune, alternating, two rounds."""
    trees = {"this checkout": str(Path(__file__).resolve().parents[1]), args.against: args.against}
    for round_index in range(2):
        for name, tree in (list(trees.items()) if round_index == 0 else list(trees.items())[::-1]):
            os.environ["PYTHONPATH"] = tree
            peak, seconds = peak_rss_mb(data_dir, args.image_size, args.batch_size, folder)
            print(f"{count} images at {args.image_size} px, {name}: peak RSS {peak:.0f} MiB, {seconds:.0f} s",
                  flush=True)


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor()
    match = re.search(r"model name\s*:\s*(.+)", text)
    return match.group(1).strip() if match else platform.processor()


if __name__ == "__main__":
    main()
