"""The page's atlas parts in-process: a photo's top channels (atlas thumbnails or small renders) and the Atlas tab."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("gradio")

from deepdream.atlas import channel_path, photo_top_channels  # noqa: E402
from deepdream.jobs import fit_max_side  # noqa: E402
from deepdream.options import ServeOptions  # noqa: E402
from deepdream.web import Dreams, ServerConfig, build_app  # noqa: E402
from deepdream.web.atlas_tab import SMALL_RENDER_SIDE, atlas_cells, top_channel_cells  # noqa: E402
from inception_keras.images import load_image, save_image  # noqa: E402


def test_the_photo_s_top_channels_show_atlas_thumbnails_or_small_renders(tmp_path, reference_notop,
                                                                        grace_hopper_path):
    _, weights = reference_notop
    dreams = Dreams(ServerConfig(weights=str(weights), precision="float32", output_dir=str(tmp_path / "out")))
    try:
        image = fit_max_side(dreams.load_photo(grace_hopper_path), 512)
        expected = photo_top_channels(image, "mixed3", 4, renderer=dreams.renderer(dreams.config.engine(
            layers="mixed3")))
        atlas = tmp_path / "atlas"
        in_atlas = expected[1][0]
        channel_path(atlas, "mixed3", in_atlas).parent.mkdir(parents=True)
        save_image(np.full((75, 75, 3), 9, np.uint8), channel_path(atlas, "mixed3", in_atlas))
        cells = top_channel_cells(dreams, str(grace_hopper_path), "mixed3", str(atlas), top=4)
    finally:
        dreams.close()
    assert [caption.split(" ")[0] for _, caption in cells] == [f"mixed3:{c}" for c, _ in expected]
    for (thumbnail, _), (channel, _) in zip(cells, expected):
        if channel == in_atlas:
            assert thumbnail == str(channel_path(atlas, "mixed3", channel))
        else:
            assert thumbnail.shape == (SMALL_RENDER_SIDE, SMALL_RENDER_SIDE, 3) and thumbnail.std() > 1
    assert load_image(cells[1][0]).max() == 9


def test_the_atlas_tab_appears_with_an_atlas(tmp_path):
    atlas = tmp_path / "atlas"
    for channel in (0, 7):
        channel_path(atlas, "mixed5", channel).parent.mkdir(parents=True, exist_ok=True)
        save_image(np.zeros((75, 75, 3), np.uint8), channel_path(atlas, "mixed5", channel))
    assert atlas_cells(str(atlas), "mixed5") == [(str(channel_path(atlas, "mixed5", 0)), "mixed5:0"),
                                                  (str(channel_path(atlas, "mixed5", 7)), "mixed5:7")]
    with_atlas = build_app(ServerConfig(serve=ServeOptions(atlas=str(atlas)), weights=None,
                                        output_dir=str(tmp_path / "a")))
    without = build_app(ServerConfig(weights=None, output_dir=str(tmp_path / "b")))
    try:
        labels = [[getattr(block, "label", None) for block in app.blocks.values()] for app in (with_atlas, without)]
        ids = [[getattr(block, "elem_id", None) for block in app.blocks.values()] for app in (with_atlas, without)]
        assert "Atlas" in labels[0] and "Atlas" not in labels[1]
        assert "top_cells" in ids[0] and "top_cells" in ids[1] and "atlas_cells" not in ids[1]
    finally:
        with_atlas.dreams.close()
        without.dreams.close()
    with pytest.raises(ValueError, match="is not a folder"):
        build_app(ServerConfig(serve=ServeOptions(atlas=str(tmp_path / "none")), weights=None,
                               output_dir=str(tmp_path / "c")))
