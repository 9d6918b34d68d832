"""An atlas on Ray actors writes the files a local run writes (slow: Ray starts once for the module)."""

from __future__ import annotations

import numpy as np
import pytest

from deepdream import settings
from deepdream.atlas import render_atlas
from deepdream.atlas_ray import ray_render_groups
from deepdream.options import AtlasOptions, DreamOptions, EngineOptions
from inception_keras.images import load_image

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow


def test_ray_actors_write_the_local_atlas_files(reference_notop, tmp_path):
    _, weights = reference_notop
    engine, dream = EngineOptions(weights=str(weights), precision="float32"), DreamOptions(octaves=1, steps=2)
    atlas = AtlasOptions(layers="mixed2,mixed3", channels="0-2", size=75, batch=2)
    local = render_atlas(tmp_path / "local", engine, dream, atlas)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = render_atlas(tmp_path / "ray", engine, dream, atlas,
                              render_groups=ray_render_groups(tmp_path / "ray", engine, dream, atlas, workers=2,
                                                              quiet=True))
    finally:
        ray.shutdown()
    names = sorted(p.relative_to(tmp_path / "local") for p in local.written)
    assert names == sorted(p.relative_to((tmp_path / "ray").resolve()) for p in remote.written)
    assert len(names) == 6
    for name in names:
        np.testing.assert_array_equal(load_image(tmp_path / "local" / name), load_image(tmp_path / "ray" / name))
        assert settings.read(tmp_path / "ray" / name) == settings.read(tmp_path / "local" / name)
    assert (tmp_path / "ray" / "index.html").is_file()
