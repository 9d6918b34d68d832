"""A channel atlas on a Ray cluster: Ray Data spreads the batches of channels over actors, one network each.

Each actor (`AtlasActor`) builds a `Renderer` per layer once and renders the
batches it is handed with `deepdream.atlas.render_group`, the function a
local run calls on the same batches (`deepdream.atlas.atlas_work`), so both
write the same files. The machines of a cluster need this package and the
atlas folder at the same path (a shared file system).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import numpy as np

from deepdream.atlas import render_group, render_settings
from deepdream.distributed import import_ray
from deepdream.options import AtlasOptions, DreamOptions, EngineOptions


class AtlasActor:
    """A Ray Data callable class: renders each row's batch of channels into the atlas folder.

    Keeps one `Renderer` at a time (that of the layer of its last batch).
    """

    def __init__(self, out: str, engine: EngineOptions, dream: DreamOptions, atlas: AtlasOptions):
        self.out, self.engine, self.dream, self.atlas = Path(out), engine, dream, atlas
        self.layer, self.renderer, self.recorded = None, None, None

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from deepdream.jobs import build_renderer

        written = []
        for layer, channels in zip(batch["layer"], batch["channels"]):
            if layer != self.layer:
                self.renderer = build_renderer(self.engine.replace(layers=str(layer), channel=None))
                self.recorded = render_settings(self.engine, self.dream, self.atlas, str(layer),
                                                self.renderer.engine.precision)
                self.layer = layer
            paths = render_group(self.renderer, self.out, str(layer), [int(c) for c in str(channels).split(",")], self.dream,
                                 self.atlas, self.recorded)
            written.append(",".join(str(path) for path in paths))
        return {"written": np.array(written, dtype=object)}


def ray_render_groups(out, engine: EngineOptions, dream: DreamOptions, atlas: AtlasOptions, *,
                      address: str = "local", workers: int = 2, gpus_per_worker: float = 0.0,
                      quiet: bool = False) -> Callable[[dict], list[Path]]:
    """The `render_groups` of `render_atlas` that renders the batches on `workers` Ray actors.

    Args:
        out: the atlas folder, visible to every worker.
        address: `ray.init`'s address, or `"local"` to start a cluster
            here. Defaults to `"local"`.
        workers: actors, each with its own network. Defaults to 2.
        gpus_per_worker: GPUs Ray reserves per actor. Defaults to 0.
        quiet: no Ray Data progress bars. Defaults to `False`.

    Raises:
        ValueError: Ray is not installed, or `workers`/`gpus_per_worker`
            are out of range (before any work).
    """
    if workers < 1:
        raise ValueError(f"--workers must be at least 1. Received: {workers}")
    if gpus_per_worker < 0:
        raise ValueError(f"--gpus-per-worker must be 0 or more. Received: {gpus_per_worker}")
    ray = import_ray()

    def render_groups(work: dict[str, list[list[int]]]) -> list[Path]:
        if not ray.is_initialized():
            ray.init(address=None if address == "local" else address, log_to_driver=False,
                     include_dashboard=False, configure_logging=False)
        if quiet:
            ray.data.DataContext.get_current().enable_progress_bars = False
            logging.getLogger("ray.data").setLevel(logging.ERROR)
        rows = [{"layer": layer, "channels": ",".join(map(str, group))}
                for layer, groups in work.items() for group in groups]
        done = ray.data.from_items(rows).map_batches(
            AtlasActor, fn_constructor_kwargs=dict(out=str(Path(out).resolve()), engine=engine, dream=dream,
                                                   atlas=atlas),
            compute=ray.data.ActorPoolStrategy(size=workers), num_gpus=gpus_per_worker, batch_size=1,
            batch_format="numpy",
        ).take_all()
        return [Path(path) for row in done for path in str(row["written"]).split(",") if path]

    return render_groups
