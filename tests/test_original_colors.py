"""`--original-colors`: the luminance dreams, the photo's chroma stays (neural-dream's `-original_colors`)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from deepdream import jobs, settings
from deepdream.colors import keep_colors, to_ycbcr
from deepdream.options import DreamOptions, EngineOptions


def test_keep_colors_takes_the_luminance_of_one_and_the_chroma_of_the_other():
    rng = np.random.RandomState(0)
    photo = rng.randint(0, 256, (40, 50, 3)).astype(np.uint8)
    dreamed = rng.randint(0, 256, (40, 50, 3)).astype(np.uint8)
    kept = to_ycbcr(keep_colors(dreamed, photo))
    # Chroma to rounding everywhere, saturated colours included (Y moves into the gamut instead of a clip).
    assert np.abs(kept[..., 1:] - to_ycbcr(photo)[..., 1:]).max() <= 1.0
    inside = (kept[..., 0] > 60) & (kept[..., 0] < 190)
    assert np.abs(kept[..., 0] - to_ycbcr(dreamed)[..., 0])[inside].mean() < 25
    with pytest.raises(ValueError, match="one size"):
        keep_colors(dreamed, photo[:10])


def test_an_original_colors_dream_keeps_the_photos_chroma(trained_weights_path, tmp_path):
    from skimage import data

    source = tmp_path / "chelsea.png"  # a photo no other test dreams
    Image.fromarray(data.chelsea()).resize((150, 100), Image.BILINEAR).save(source)
    photo = np.asarray(Image.open(source))
    engine = EngineOptions(layers="mixed4", weights=str(trained_weights_path), precision="float32")
    dreamer = jobs.build_engine(engine)
    outputs = {}
    for keep in (False, True):
        dream = DreamOptions(octaves=2, steps=4, step_size=0.03, original_colors=keep)
        outputs[keep] = jobs.dream_still(source, tmp_path / f"dream_{keep}.png", engine, dream, dreamer=dreamer)
    before = to_ycbcr(photo)
    plain, kept = (to_ycbcr(np.asarray(Image.open(outputs[keep]))) for keep in (False, True))
    chroma_moved = np.abs(plain[..., 1:] - before[..., 1:])
    chroma_kept = np.abs(kept[..., 1:] - before[..., 1:])
    assert chroma_moved.mean() > 2.0  # a plain dream recolours the photo ...
    assert chroma_kept.max() <= 2.0, chroma_kept.max()  # ... an original-colours dream does not
    assert np.abs(kept[..., 0] - before[..., 0]).mean() > 3.0  # while its luminance dreams
    assert settings.read(outputs[True])["original_colors"] is True
    assert "--original-colors" in settings.command_line(settings.read(outputs[True]))
