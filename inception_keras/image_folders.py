"""Class-per-folder image datasets, read once into memory with every bad file explained.

The layout is that of `keras.utils.image_dataset_from_directory`:

    DATA_DIR/
        cat/  a.jpg b.png ...
        dog/  c.jpg ...

Images are decoded with `inception_keras.images.load_image` (EXIF rotation,
grayscale, CMYK, alpha and 16-bit files become RGB), resized to one square
size (so mixed sizes are fine) and kept as uint8. A file that cannot be read
is skipped with a warning; a dataset that cannot be trained on (no folder, no
class folders, one class, a class without images) raises `ValueError`.
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inception_keras.images import load_image, resize_image

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"})
# Refuse datasets whose decoded pixels would not fit comfortably in memory.
DEFAULT_MAX_BYTES = 8 * 1024**3


@dataclass
class ImageFolderData:
    """Decoded images of a class-per-folder dataset.

    Attributes:
        images: `(N, S, S, 3)` uint8 RGB, raw 0..255.
        labels: `(N,)` int class indices into `class_names`.
        class_names: the sub-folder names, sorted.
        paths: the file of each image.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    paths: list[Path]

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, indices) -> "ImageFolderData":
        """Returns the images at `indices`, with the same class names."""
        indices = np.asarray(indices, dtype=int)
        return ImageFolderData(self.images[indices], self.labels[indices], self.class_names,
                               [self.paths[i] for i in indices])

    def one_hot_labels(self) -> np.ndarray:
        """Returns `(N, classes)` float32 one-hot labels."""
        return np.eye(len(self.class_names), dtype="float32")[self.labels]


def read_image_folder(data_dir, image_size: int, class_names: list[str] | None = None,
                      max_bytes: int = DEFAULT_MAX_BYTES) -> ImageFolderData:
    """Reads a class-per-folder dataset, every image resized to `image_size` square.

    Args:
        data_dir: folder with one sub-folder of images per class.
        image_size: side of the square images returned.
        class_names: expected classes, in label order (for a validation
            folder that must match the training folder). Defaults to `None`:
            the sorted sub-folder names.
        max_bytes: refuse datasets whose decoded images exceed this size.
            Defaults to 8 GiB.

    Raises:
        ValueError: the folder is missing, holds no class folders or one class,
            a class has no readable image, or the classes differ from
            `class_names`.
    """
    data_dir = Path(data_dir)
    files_by_class = _image_files_by_class(data_dir)
    if class_names is not None and sorted(files_by_class) != sorted(class_names):
        raise ValueError(
            f"The classes in {data_dir} ({', '.join(sorted(files_by_class))}) differ from the "
            f"training classes ({', '.join(class_names)}); use the same sub-folder names."
        )
    class_names = list(class_names) if class_names is not None else sorted(files_by_class)
    files = [(path, label) for label, name in enumerate(class_names) for path in files_by_class[name]]
    needed = len(files) * image_size * image_size * 3
    if needed > max_bytes:
        raise ValueError(
            f"{data_dir} has {len(files)} images: at {image_size}x{image_size} they need "
            f"{needed / 1024**3:.1f} GiB of memory (limit {max_bytes / 1024**3:.1f} GiB); "
            "use a smaller --image-size or a subset of the images."
        )
    with ThreadPoolExecutor() as pool:
        decoded = list(pool.map(lambda item: _read_resized(item[0], image_size), files))
    kept = [(image, path, label) for image, (path, label) in zip(decoded, files) if image is not None]
    labels = np.array([label for _, _, label in kept], dtype=int)
    for label, name in enumerate(class_names):
        if not np.any(labels == label):
            raise ValueError(f"Class folder '{name}' in {data_dir} has no readable images.")
    return ImageFolderData(
        np.stack([image for image, _, _ in kept]), labels, class_names, [path for _, path, _ in kept]
    )


def split_validation(data: ImageFolderData, fraction: float, seed: int = 0) -> tuple[ImageFolderData, ImageFolderData]:
    """Splits off a stratified validation set: `fraction` of each class, at least one image.

    Raises:
        ValueError: `fraction` is not in (0, 1), or a class has fewer than two
            images to split.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"The validation split must be between 0 and 1. Received: {fraction}")
    rng = np.random.RandomState(seed)
    train, validation = [], []
    for label, name in enumerate(data.class_names):
        indices = rng.permutation(np.flatnonzero(data.labels == label))
        if len(indices) < 2:
            raise ValueError(
                f"Class '{name}' has {len(indices)} readable image: a validation split needs at "
                "least two per class; add images or pass a separate validation folder."
            )
        count = min(len(indices) - 1, max(1, round(fraction * len(indices))))
        validation.extend(indices[:count])
        train.extend(indices[count:])
    return data.subset(sorted(train)), data.subset(sorted(validation))


def _image_files_by_class(data_dir: Path) -> dict[str, list[Path]]:
    if not data_dir.is_dir():
        raise ValueError(f"Dataset folder not found: {data_dir}")
    class_dirs = sorted(p for p in data_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise ValueError(
            f"{data_dir} has no class sub-folders: put the images of each class in their own "
            "sub-folder (DATA_DIR/CLASS_NAME/IMAGE)."
        )
    _refuse_split_layout(data_dir, class_dirs)
    files_by_class = {
        d.name: sorted(p for p in d.rglob("*")
                       if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
        for d in class_dirs
    }
    empty = [name for name, files in files_by_class.items() if not files]
    if empty:
        raise ValueError(
            f"Class folder(s) without images in {data_dir}: {', '.join(empty)}; add images "
            f"({', '.join(sorted(IMAGE_SUFFIXES))}) or remove the folder."
        )
    if len(files_by_class) < 2:
        raise ValueError(
            f"{data_dir} has only one class ('{class_dirs[0].name}'): a classifier needs at "
            "least two class sub-folders."
        )
    return files_by_class


def _refuse_split_layout(data_dir: Path, class_dirs: list[Path]) -> None:
    """Catches DATA_DIR/{train,val}/CLASS: folders that hold the same class folders and no images."""
    inner = [sorted(p.name for p in d.iterdir() if p.is_dir() and not p.name.startswith(".")) for d in class_dirs]
    has_direct_images = any(
        p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES for d in class_dirs for p in d.iterdir()
    )
    if has_direct_images or len(inner[0]) < 2 or any(names != inner[0] for names in inner):
        return
    raise ValueError(
        f"{data_dir} looks like a split dataset: {', '.join(d.name for d in class_dirs)} each hold the same "
        f"class folders ({', '.join(inner[0])}). Pass the training folder as DATA_DIR and the other "
        "with --validation-dir."
    )


def _read_resized(path: Path, image_size: int) -> np.ndarray | None:
    try:
        return resize_image(load_image(path, draft_size=image_size), image_size, image_size)
    except ValueError as error:
        warnings.warn(f"Skipping an unreadable image: {error}", stacklevel=2)
        return None
