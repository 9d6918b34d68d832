"""Image files: every kind of input becomes RGB; bad files are explained; writes are atomic."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from inception_keras.images import image_size, load_image, save_image


@pytest.fixture()
def photo(grace_hopper) -> Image.Image:
    return Image.fromarray(grace_hopper[:120, :160])


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "RGBA", "LA", "I;16", "I", "F"])
def test_every_mode_becomes_rgb_uint8(photo, tmp_path, mode):
    source = photo.convert("L").convert(mode) if mode in ("I;16", "I", "F") else photo.convert(mode)
    path = tmp_path / ("in.tif" if mode in ("CMYK", "I", "F") else "in.png")
    source.save(path)
    array = load_image(path)
    assert array.shape == (120, 160, 3) and array.dtype == np.uint8
    assert array.std() > 10


def test_sixteen_bit_grayscale_keeps_its_range(tmp_path):
    ramp = (np.linspace(0, 65535, 200)[None, :].repeat(80, 0)).astype(np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(ramp).save(path)
    array = load_image(path)
    assert array[0, 0, 0] == 0 and array[0, -1, 0] == 255


def test_exif_orientation_is_applied(photo, tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    path = tmp_path / "rotated.jpg"
    photo.save(path, exif=exif)
    assert load_image(path).shape == (160, 120, 3)


def test_alpha_is_composited_on_white(tmp_path):
    rgba = np.zeros((90, 90, 4), np.uint8)
    path = tmp_path / "clear.png"
    Image.fromarray(rgba).save(path)
    assert (load_image(path) == 255).all()


def test_bad_files_are_explained(tmp_path, photo):
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.png").write_text("not an image")
    photo.save(tmp_path / "whole.jpg")
    data = (tmp_path / "whole.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    bomb = tmp_path / "bomb.png"
    Image.new("1", (17000, 17000)).save(bomb)
    cases = {
        tmp_path / "missing.jpg": "not found",
        tmp_path / "empty.jpg": "empty",
        tmp_path / "text.png": "Not an image",
        tmp_path / "cut.jpg": "truncated",
        bomb: "too large",
    }
    for path, message in cases.items():
        with pytest.raises(ValueError, match=message):
            load_image(path)
        if path.name != "cut.jpg":
            with pytest.raises(ValueError, match=message):
                image_size(path)
    assert image_size(tmp_path / "cut.jpg") == (160, 120)  # its header is whole; its pixels are not read


def test_the_size_comes_from_the_header_within_the_limit(tmp_path, photo):
    photo.save(tmp_path / "photo.jpg")
    assert image_size(tmp_path / "photo.jpg") == (160, 120)
    huge = tmp_path / "huge.png"
    Image.new("1", (13000, 13000)).save(huge)  # 169 megapixels in ~20 kB, under Pillow's own bomb limit
    assert huge.stat().st_size < 50_000
    with pytest.raises(ValueError, match="13000x13000 .* limit 64000000"):
        image_size(huge, max_pixels=64_000_000)
    with pytest.raises(ValueError, match="limit 64000000"):
        load_image(huge, max_pixels=64_000_000)


def test_save_is_atomic_and_follows_the_extension(tmp_path, grace_hopper):
    target = tmp_path / "out.png"
    target.write_bytes(b"previous")
    with pytest.raises(TypeError):
        save_image(np.zeros((4, 4, 7), np.uint8), target)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]
    save_image(grace_hopper, target)
    assert Image.open(target).format == "PNG"
    save_image(grace_hopper, tmp_path / "out.jpg")
    assert Image.open(tmp_path / "out.jpg").format == "JPEG"
    with pytest.raises(ValueError, match="output format"):
        save_image(grace_hopper, tmp_path / "out.xyz")


@pytest.mark.parametrize("mode", ["RGB", "L", "CMYK"])
def test_draft_decoding_of_big_jpegs_keeps_sides_and_content(grace_hopper, tmp_path, mode):
    from inception_keras.images import resize_image

    big = Image.fromarray(resize_image(grace_hopper, 1800, 1500)).convert(mode)
    path = tmp_path / "big.jpg"
    big.save(path, quality=95)
    full = load_image(path)
    draft = load_image(path, draft_size=299)
    assert full.shape == (1800, 1500, 3)
    assert min(draft.shape[:2]) >= 299 and draft.shape[0] < 1800
    difference = np.abs(resize_image(full, 299, 299).astype(int) - resize_image(draft, 299, 299).astype(int))
    assert difference.mean() < 3
    png = tmp_path / "big.png"
    big.convert("RGB").save(png)
    assert load_image(png, draft_size=299).shape == (1800, 1500, 3)  # only JPEGs are drafted
