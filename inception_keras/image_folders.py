"""Class-per-folder image datasets: the file list with every bad file explained, or the decoded images.

The layout is that of `keras.utils.image_dataset_from_directory`:

    DATA_DIR/
        cat/  a.jpg b.png ...
        dog/  c.jpg ...

`list_image_folder` finds the files and checks each one's header: a file that
is not an image (or too large) is skipped with a warning, and a dataset that
cannot be trained on (no folder, no class folders, one class, a class without
images) raises `ValueError`. `finetune` streams the listed files through
`inception_keras.data_pipeline`; `read_image_folder` decodes them all into
memory instead, for small sets and for comparison. `ImageDecoder` decodes one
file at a time for a stream (tf.data's, or `predict`'s threads), through an
optional on-disk cache; this module imports neither Keras nor TensorFlow.

Images are decoded with `decode_resized` (`inception_keras.images.load_image`
at reduced JPEG scale: EXIF rotation, grayscale, CMYK, alpha and 16-bit files
become RGB), resized to one square size (so mixed sizes are fine), uint8.
"""

from __future__ import annotations

import hashlib
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
from PIL import Image

from inception_keras.files import atomic_path
from inception_keras.images import DEFAULT_MAX_PIXELS, load_image, resize_image

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"})


@dataclass
class ImageFolderFiles:
    """The image files of a class-per-folder dataset, not yet decoded.

    Attributes:
        paths: the file of each image.
        labels: `(N,)` int class indices into `class_names`.
        class_names: the sub-folder names, sorted.
    """

    paths: list[Path]
    labels: np.ndarray
    class_names: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, indices) -> "ImageFolderFiles":
        """Returns the files at `indices`, with the same class names."""
        indices = np.asarray(indices, dtype=int)
        return ImageFolderFiles([self.paths[i] for i in indices], self.labels[indices], self.class_names)


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


FolderDataset = TypeVar("FolderDataset", ImageFolderFiles, ImageFolderData)


def list_image_folder(data_dir, class_names: list[str] | None = None) -> ImageFolderFiles:
    """Lists a class-per-folder dataset, skipping (with a warning) files that are not images.

    Only each file's header is read, so this is quick on any number of
    images; a file that is damaged after its header is skipped, with a
    warning, when it is decoded.

    Args:
        data_dir: folder with one sub-folder of images per class.
        class_names: expected classes, in label order (for a validation
            folder that must match the training folder). Defaults to `None`:
            the sorted sub-folder names.

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
    with ThreadPoolExecutor() as pool:
        problems = list(pool.map(lambda item: _header_problem(item[0]), files))
    for problem in problems:
        if problem is not None:
            warnings.warn(f"Skipping an unreadable image: {problem}", stacklevel=2)
    kept = [item for item, problem in zip(files, problems) if problem is None]
    labels = np.array([label for _, label in kept], dtype=int)
    for label, name in enumerate(class_names):
        if not np.any(labels == label):
            raise ValueError(f"Class folder '{name}' in {data_dir} has no readable images.")
    return ImageFolderFiles([path for path, _ in kept], labels, class_names)


def read_image_folder(data_dir, image_size: int, class_names: list[str] | None = None) -> ImageFolderData:
    """Reads a class-per-folder dataset into memory, every image resized to `image_size` square.

    Memory grows with the number of images (`N * image_size**2 * 3` bytes);
    `inception_keras.data_pipeline.image_dataset` streams the same images
    instead.

    Args:
        data_dir: folder with one sub-folder of images per class.
        image_size: side of the square images returned.
        class_names: expected classes, as in `list_image_folder`.

    Raises:
        ValueError: as `list_image_folder`.
    """
    files = list_image_folder(data_dir, class_names)
    with ThreadPoolExecutor() as pool:
        decoded = list(pool.map(lambda path: _decode_or_warn(path, image_size), files.paths))
    kept = [index for index, image in enumerate(decoded) if image is not None]
    for label, name in enumerate(files.class_names):
        if not np.any(files.labels[kept] == label):
            raise ValueError(f"Class folder '{name}' in {data_dir} has no readable images.")
    return ImageFolderData(np.stack([decoded[i] for i in kept]), files.labels[kept], files.class_names,
                           [files.paths[i] for i in kept])


def decode_resized(path, image_size: int) -> np.ndarray:
    """Decodes an image file as `(image_size, image_size, 3)` uint8 RGB (reduced-scale JPEG decoding).

    Raises:
        ValueError: the file cannot be read, as `load_image`.
    """
    return resize_image(load_image(path, draft_size=image_size), image_size, image_size)


class ImageDecoder:
    """Decodes image files to `image_size` squares through an optional on-disk cache.

    Calling it with a path returns `(image, ok)`: the `(S, S, 3)` uint8
    image, or zeros and `False` for an unreadable file, which is reported
    once with a warning however many epochs and datasets meet it.

    Args:
        image_size: side of the square images.
        cache_dir: keep decoded images in this folder (created if needed)
            for later epochs and runs. Defaults to `None`: decode each time.
        warn: report each unreadable file with a warning. Defaults to
            `True`; either way its one-line reason is kept in `failures`
            (path -> message).

    Raises:
        ValueError: `cache_dir` exists and is not a folder.
    """

    def __init__(self, image_size: int, cache_dir=None, warn: bool = True):
        self.image_size = image_size
        self.warn = warn
        self.failures: dict[str, str] = {}
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        if self.cache_dir is not None:
            if self.cache_dir.exists() and not self.cache_dir.is_dir():
                raise ValueError(f"The cache must be a folder. Received: {self.cache_dir}")
            self.cache_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def __call__(self, path) -> tuple[np.ndarray, bool]:
        path = Path(path.decode() if isinstance(path, bytes) else path)
        try:
            cached = self.cache_file(path) if self.cache_dir is not None else None
            if cached is not None and cached.is_file():
                return np.load(cached), True
            image = decode_resized(path, self.image_size)
            if cached is not None:
                with atomic_path(cached) as temp_path:
                    np.save(temp_path, image)
            return image, True
        except (ValueError, OSError) as error:
            self._report(str(path), error)
            return np.zeros((self.image_size, self.image_size, 3), np.uint8), False

    def cache_file(self, path: Path) -> Path:
        """Where the decoded `path` is kept: changes when the file or the image size does."""
        stat = path.stat()
        key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{self.image_size}"
        return self.cache_dir / f"{hashlib.sha1(key.encode()).hexdigest()}.npy"

    def _report(self, path: str, error: Exception) -> None:
        with self._lock:
            if path in self.failures:
                return
            self.failures[path] = " ".join(str(error).split())
        if self.warn:
            warnings.warn(f"Skipping an unreadable image: {error}", stacklevel=2)


def split_validation(data: FolderDataset, fraction: float, seed: int = 0) -> tuple[FolderDataset, FolderDataset]:
    """Splits off a stratified validation set: `fraction` of each class, at least one image.

    `data` is an `ImageFolderFiles` or an `ImageFolderData`; both parts are of its type.

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


def _header_problem(path: Path) -> str | None:
    """Why `path` is not an image a decoder can start on (one line), or `None`."""
    try:
        if path.stat().st_size == 0:
            return f"Input image is empty (0 bytes): {path}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
    except Image.DecompressionBombError:
        return f"Input image is too large (decompression bomb?): {path}"
    except (OSError, SyntaxError, ValueError):
        return f"Not an image file (or an unsupported format): {path}"
    if width * height > DEFAULT_MAX_PIXELS:
        return f"Input image is too large: {path} is {width}x{height}; downscale it first."
    return None


def _decode_or_warn(path: Path, image_size: int) -> np.ndarray | None:
    try:
        return decode_resized(path, image_size)
    except ValueError as error:
        warnings.warn(f"Skipping an unreadable image: {error}", stacklevel=2)
        return None
