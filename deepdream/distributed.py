"""Batch dreaming on a Ray cluster: Ray Data spreads the files over a pool of actors, one `DeepDream` each.

Each actor builds its engine once (`DreamActor`) from the options it is
handed (`deepdream.options`), then dreams the files Ray Data hands it with
`deepdream.jobs.dream_file`, the function the local batch job calls, so the
same seed writes the same files. `ADDRESS` is what
`ray.init` takes (`"auto"`, `"ray://host:10001"`); `"local"` starts a cluster on
this machine. Ray comes with the optional extra: `pip install -e ".[ray]"`.
The machines of a cluster need this package and the input and output folders
at the same paths (a shared file system).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deepdream import jobs, settings
from deepdream.batch import BatchReport, output_paths
from deepdream.options import DreamOptions, EngineOptions
from inception_keras.files import check_output, check_writable

INSTALL_HINT = 'Ray is not installed: pip install -e ".[ray]" (or pip install "ray[data]")'


class DreamActor:
    """A Ray Data callable class: builds one `DeepDream`, then dreams each batch of `source`/`output` rows.

    Returns, per row, the output written and the error (empty when none): a
    file that cannot be read is reported, not raised, so one broken file
    does not stop the others.
    """

    def __init__(self, engine: EngineOptions, dream: DreamOptions):
        self.dreamer = jobs.build_engine(engine)
        self.engine, self.dream = engine, dream
        # The precision this worker's engine resolved ("auto" may differ from machine to machine).
        self.metadata = settings.image_metadata(settings.build("still", engine, dream, self.dreamer.precision))

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        errors = [jobs.dream_file(self.dreamer, Path(source), Path(output), self.dream, self.engine.max_side,
                                  self.metadata) or ""
                  for source, output in zip(batch["source"], batch["output"])]
        return {"source": batch["source"], "output": batch["output"], "error": np.array(errors, dtype=object)}


def dream_files_on_ray(sources: list[Path], output_dir, engine: EngineOptions, dream: DreamOptions, *,
                       address: str = "local", workers: int = 2, gpus_per_worker: float = 0.0) -> BatchReport:
    """Dreams each source into `output_dir` on a Ray cluster, `workers` actors with one engine each.

    Args:
        sources: image files (see `deepdream.batch.collect_inputs`).
        output_dir: an existing folder, visible to every worker; outputs
            are `<stem>_dream<suffix>`, as in the local batch job.
        engine: the engine's options; every actor builds its engine from them.
        dream: the dream's options.
        address: `ray.init`'s address, or `"local"` to start a cluster
            here. Defaults to `"local"`.
        workers: actors, each with its own engine. Defaults to 2.
        gpus_per_worker: GPUs Ray reserves per actor. Defaults to 0.

    Returns:
        A `BatchReport`, in the order of `sources`.

    Raises:
        ValueError: Ray is not installed, `workers`/`gpus_per_worker` are
            out of range, or the engine refuses the options (checked by
            building one engine here, before any actor starts).
    """
    if workers < 1:
        raise ValueError(f"--workers must be at least 1. Received: {workers}")
    if gpus_per_worker < 0:
        raise ValueError(f"--gpus-per-worker must be 0 or more. Received: {gpus_per_worker}")
    ray = import_ray()
    check_writable(output_dir)
    outputs = output_paths(sources, output_dir)
    for output in outputs:
        check_output(output, [*sources, engine.guide], flag="--output-dir")
    jobs.build_engine(engine)  # a bad option is one line here, not a dead actor
    if not ray.is_initialized():
        ray.init(address=None if address == "local" else address, log_to_driver=False,
                 include_dashboard=False, configure_logging=False)
    rows = ray.data.from_items(
        [{"source": str(source), "output": str(output)} for source, output in zip(sources, outputs)]
    ).map_batches(
        DreamActor, fn_constructor_kwargs=dict(engine=engine, dream=dream),
        compute=ray.data.ActorPoolStrategy(size=workers), num_gpus=gpus_per_worker, batch_size=1,
        batch_format="numpy",
    ).take_all()
    errors = {row["source"]: row["error"] for row in rows}
    report = BatchReport()
    for source, output in zip(sources, outputs):
        if errors[str(source)]:
            report.failed.append((source, errors[str(source)]))
        else:
            report.written.append(output)
    return report


def import_ray():
    """Returns the `ray` module, or raises `ValueError` saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise ValueError(INSTALL_HINT) from None
    return ray
