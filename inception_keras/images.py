"""Reading and writing image files that survive real-world inputs.

`load_image` always returns an `(H, W, 3)` uint8 RGB array: EXIF orientation is
applied; grayscale, palette, CMYK, 16-bit and alpha images are converted; a
missing, empty, truncated, non-image or over-large file raises `ValueError`
with one line that says what was wrong; `image_size` checks a file the same
way from its header alone. `save_image` writes atomically, with optional text
metadata that `read_image_metadata` reads back.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image, ImageOps

from inception_keras.files import atomic_path, check_writable

# 16384 x 16384: far above an 8K frame, far below what exhausts memory.
DEFAULT_MAX_PIXELS = 16384 * 16384
SAVE_FORMATS = {
    ".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".bmp": "BMP",
    ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP",
}
# The EXIF tag that holds the metadata of JPEG, WebP and TIFF files, as one JSON object.
EXIF_IMAGE_DESCRIPTION = 0x010E


def load_image(path, max_pixels: int = DEFAULT_MAX_PIXELS, draft_size: int | None = None) -> np.ndarray:
    """Reads an image file as an `(H, W, 3)` uint8 RGB array.

    Args:
        path: the image file.
        max_pixels: refuse images with more pixels than this (decompression
            bombs), from the header, before any decoding. Defaults to
            16384 * 16384.
        draft_size: the caller will shrink the image to about this side, so
            a JPEG may be decoded at 1/2, 1/4 or 1/8 scale as long as both
            sides stay at least this large (several times faster on big
            photos). Defaults to `None`: full size.

    Raises:
        ValueError: the file is missing, empty, not an image, truncated or
            too large.
    """
    with _opened_image(path, max_pixels) as image:
        if draft_size is not None:
            image.draft(image.mode, (draft_size, draft_size))
        image.load()
        return _to_rgb_array(ImageOps.exif_transpose(image))


def image_size(path, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[int, int]:
    """The `(width, height)` of an image file from its header, checked as `load_image` checks it; decodes nothing.

    Raises:
        ValueError: as `load_image`: missing, empty, not an image or more
            than `max_pixels` pixels.
    """
    with _opened_image(path, max_pixels) as image:
        return image.size


@contextlib.contextmanager
def _opened_image(path, max_pixels: int) -> Iterator[Image.Image]:
    """The opened (not decoded) image, refused over `max_pixels`; Pillow's errors as one-line `ValueError`s."""
    path = _existing_file(path, "Input image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise ValueError(
                        f"Input image is too large: {path} is {width}x{height} "
                        f"({width * height} pixels, limit {max_pixels}); downscale it first."
                    )
                yield image
    except Image.DecompressionBombError:
        raise ValueError(f"Input image is too large (decompression bomb?): {path}") from None
    except Image.UnidentifiedImageError:
        raise ValueError(f"Not an image file (or an unsupported format): {path}") from None
    except (OSError, SyntaxError) as error:
        raise ValueError(f"Input image is unreadable or truncated: {path} ({error})") from None


def _to_rgb_array(image: Image.Image) -> np.ndarray:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        values = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if values.max(initial=0) > 255 else 255.0
        gray = np.clip(values / peak * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if image.mode == "F":
        values = np.asarray(image, dtype=np.float64)
        gray = np.clip(values * (255.0 if values.max(initial=0) <= 1.0 else 1.0), 0, 255)
        return np.repeat(gray.astype(np.uint8)[:, :, None], 3, axis=2)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def check_output_path(path) -> str:
    """Returns the image format for `path`, or raises `ValueError` if it cannot be written there."""
    path = Path(path)
    image_format = SAVE_FORMATS.get(path.suffix.lower())
    if image_format is None:
        raise ValueError(
            f"Cannot tell the output format from '{path.name}': use one of "
            f"{', '.join(sorted(SAVE_FORMATS))}."
        )
    check_writable(path.parent)
    return image_format


def save_image(array: np.ndarray, path, quality: int = 95, metadata: dict[str, str] | None = None) -> Path:
    """Writes an `(H, W, 3)` uint8 array atomically; the format follows the extension.

    The image goes to a temporary file in the target folder which is then
    renamed over the target, so an interrupted run never leaves a
    half-written file.

    Args:
        array: the `(H, W, 3)` uint8 image.
        path: the output file; `.jpg`, `.jpeg`, `.png`, `.bmp`, `.tif`,
            `.tiff` or `.webp`.
        quality: JPEG and WebP quality. Defaults to 95.
        metadata: text fields to store in the file: one PNG text chunk per
            key; in JPEG, WebP and TIFF files one JSON object in the EXIF
            ImageDescription (JPEG also in its comment). BMP has no place for
            them. Defaults to `None`.

    Raises:
        ValueError: unknown extension or a folder that does not exist.
    """
    path = Path(path)
    image_format = check_output_path(path)
    options = {"quality": quality} if image_format in ("JPEG", "WEBP") else {}
    if metadata:
        options.update(_metadata_options(image_format, metadata))
    with atomic_path(path) as temp_path:
        Image.fromarray(np.asarray(array, dtype=np.uint8)).save(temp_path, format=image_format, **options)
    return path


def read_image_metadata(path) -> dict[str, str]:
    """Returns the text fields `save_image(..., metadata=...)` stored in an image file (`{}` when none).

    Raises:
        ValueError: the file is missing, empty or not an image.
    """
    path = _existing_file(path, "Image")
    try:
        with Image.open(path) as image:
            if image.format == "PNG":
                return {str(k): str(v) for k, v in getattr(image, "text", {}).items()}
            description = image.getexif().get(EXIF_IMAGE_DESCRIPTION)
            comment = image.info.get("comment")
    except Image.UnidentifiedImageError:
        raise ValueError(f"Not an image file (or an unsupported format): {path}") from None
    except (OSError, SyntaxError) as error:
        raise ValueError(f"Image is unreadable or truncated: {path} ({error})") from None
    for text in (description, comment):
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        try:
            fields = json.loads(text) if text else None
        except ValueError:
            continue
        if isinstance(fields, dict):
            return {str(k): str(v) for k, v in fields.items()}
    return {}


def _metadata_options(image_format: str, metadata: dict[str, str]) -> dict:
    """The Pillow save options that store `metadata` in a file of `image_format`."""
    from PIL import PngImagePlugin

    if image_format == "PNG":
        info = PngImagePlugin.PngInfo()
        for key, value in metadata.items():
            info.add_itxt(key, value)
        return {"pnginfo": info}
    if image_format not in ("JPEG", "WEBP", "TIFF"):
        return {}
    text = json.dumps(metadata, sort_keys=True)
    exif = Image.Exif()
    exif[EXIF_IMAGE_DESCRIPTION] = text
    options = {"exif": exif.tobytes()}
    if image_format == "JPEG":
        options["comment"] = text.encode("utf-8")
    return options


def resize_image(array: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resizes an `(H, W, 3)` uint8 image with bicubic filtering."""
    return np.asarray(Image.fromarray(np.asarray(array, np.uint8)).resize((width, height), Image.BICUBIC))


def _existing_file(path, what: str) -> Path:
    """`path` as a `Path`; raises `ValueError` naming `what` when it is missing or empty."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{what} not found: {path}")
    if path.stat().st_size == 0:
        raise ValueError(f"{what} is empty (0 bytes): {path}")
    return path
