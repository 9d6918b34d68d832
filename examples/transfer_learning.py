"""Fine-tune Inception-v3 to tell brick, grass and gravel apart, offline.

    python examples/transfer_learning.py [--weights ../shared/weights/inception_v3_notop_q8.h5]
                                         [--epochs 3] [--image-size 160] [--out textures.keras]

The photos are the three texture images scikit-image ships (`pip install
scikit-image`). Patches from the top three quarters of each photo make the
training folder and patches from the bottom quarter the validation folder,
so no validation pixel is seen in training. The script writes the
class-per-folder dataset, calls `inception_keras.fine_tuning.finetune` (what
`python -m inception_keras finetune` runs) and prints the validation accuracy
and confusion matrix.
"""

from __future__ import annotations

import argparse
import tempfile
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image

from inception_keras.fine_tuning import finetune

TEXTURES = ("brick", "grass", "gravel")
DEFAULT_WEIGHTS = Path(__file__).resolve().parents[2] / "shared" / "weights" / "inception_v3_notop_q8.h5"


def write_texture_dataset(folder: Path, patches_per_class: int = 40, seed: int = 0) -> tuple[Path, Path]:
    """Writes `train/` and `validation/` class-per-folder PNG patches; returns the two folders.

    Patches are random squares of 64 to 128 pixels: training ones from the top
    384 rows of each 512x512 photo, validation ones from the bottom 128 rows.
    """
    rng = np.random.RandomState(seed)
    splits = {"train": (0, 384, patches_per_class), "validation": (384, 512, max(4, patches_per_class // 4))}
    for texture in TEXTURES:
        photo = np.asarray(Image.open(resources.files("skimage") / "data" / f"{texture}.png").convert("RGB"))
        for split, (top, bottom, count) in splits.items():
            target = folder / split / texture
            target.mkdir(parents=True, exist_ok=True)
            for index in range(count):
                side = int(rng.randint(64, min(128, bottom - top) + 1))
                row = int(rng.randint(top, bottom - side + 1))
                column = int(rng.randint(0, photo.shape[1] - side + 1))
                patch = photo[row:row + side, column:column + side]
                Image.fromarray(patch).save(target / f"{texture}_{index:03d}.png")
    return folder / "train", folder / "validation"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS) if DEFAULT_WEIGHTS.is_file() else "imagenet",
                        help="trunk weights: 'imagenet', 'none' or a file (a no-top file is enough)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--image-size", type=int, default=160)
    parser.add_argument("--patches", type=int, default=40, help="training patches per class")
    parser.add_argument("--out", default=None, help="save the model here (.keras)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        train, validation = write_texture_dataset(Path(folder), args.patches)
        result = finetune(
            train, args.out, weights=None if args.weights == "none" else args.weights,
            epochs=args.epochs, image_size=args.image_size, batch_size=16,
            validation_dir=validation, verbose=2,
        )
    print(result.report())


if __name__ == "__main__":
    main()
