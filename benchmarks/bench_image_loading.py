"""Times reading a big JPEG for a 299-pixel dataset: full decode vs draft (reduced-scale) decode.

    python benchmarks/bench_image_loading.py [--side 4000x3000] [--repeats 5]

`inception_keras.image_folders` reads every training image with
`load_image(path, draft_size=image_size)`; this measures what that saves on a
camera-sized photo (grace_hopper.jpg enlarged, with noise so it compresses
like a photo), as a ratio in one run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import matplotlib.cbook
import numpy as np
from PIL import Image

from inception_keras.images import load_image, resize_image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", default="4000x3000", help="WxH of the test photo")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    width, height = (int(v) for v in args.side.split("x"))

    source = load_image(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    noise = np.random.RandomState(0).randint(-20, 20, (height, width, 3))
    photo = np.clip(resize_image(source, height, width).astype(int) + noise, 0, 255).astype(np.uint8)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "photo.jpg"
        Image.fromarray(photo).save(path, quality=92)
        seconds = {}
        for label, draft_size in (("full decode", None), ("draft decode", 299)):
            start = time.perf_counter()
            for _ in range(args.repeats):
                resize_image(load_image(path, draft_size=draft_size), 299, 299)
            seconds[label] = (time.perf_counter() - start) / args.repeats
    for label, value in seconds.items():
        print(f"{label}: {value * 1000:.0f} ms per image")
    print(f"speed-up: {seconds['full decode'] / seconds['draft decode']:.1f}x")


if __name__ == "__main__":
    main()
