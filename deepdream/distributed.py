"""Batch dreaming on a Ray cluster: Ray Data spreads the files over a pool of actors, one `DeepDream` each.

Each actor builds its engine once (`DreamActor`), then dreams the files Ray
Data hands it with `deepdream.batch.dream_file`, the function the local batch
mode calls, so the same seed writes the same files. `ADDRESS` is what
`ray.init` takes (`"auto"`, `"ray://host:10001"`); `"local"` starts a cluster on
this machine. Ray comes with the optional extra: `pip install -e ".[ray]"`.
The machines of a cluster need this package and the input and output folders
at the same paths (a shared file system).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deepdream.batch import BatchReport, dream_file, output_paths

INSTALL_HINT = 'Ray is not installed: pip install -e ".[ray]" (or pip install "ray[data]")'


class DreamActor:
    """A Ray Data callable class: builds one `DeepDream`, then dreams each batch of `source`/`output` rows.

    Returns, per row, the output written and the error (empty when none): a
    file that cannot be read is reported, not raised, so one broken file
    does not stop the others.
    """

    def __init__(self, engine_options: dict, dream_options: dict, max_side: int | None = None,
                 recorded: dict | None = None):
        from deepdream import settings
        from deepdream.engine import DeepDream

        options = dict(engine_options)
        self.engine = DeepDream(options.pop("layers"), **options)
        self.dream_options = dream_options
        self.max_side = max_side
        # The precision this worker's engine resolved ("auto" may differ from machine to machine).
        self.metadata = None if recorded is None else settings.image_metadata(
            {**recorded, "precision": self.engine.precision})

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        errors = []
        for source, output in zip(batch["source"], batch["output"]):
            try:
                dream_file(self.engine, Path(source), Path(output), self.dream_options, self.max_side,
                           self.metadata)
                errors.append("")
            except ValueError as failure:
                errors.append(" ".join(str(failure).split()))
        return {"source": batch["source"], "output": batch["output"], "error": np.array(errors, dtype=object)}


def dream_files_on_ray(sources: list[Path], output_dir, engine_options: dict, dream_options: dict, *,
                       address: str = "local", workers: int = 2, gpus_per_worker: float = 0.0,
                       max_side: int | None = None, recorded: dict | None = None) -> BatchReport:
    """Dreams each source into `output_dir` on a Ray cluster, `workers` actors with one engine each.

    Args:
        sources: image files (see `deepdream.batch.collect_inputs`).
        output_dir: an existing folder, visible to every worker; outputs
            are `<stem>_dream<suffix>`, as in the local batch mode.
        engine_options: keyword arguments of `DeepDream(...)`, with
            `layers` (`deepdream.cli_options.engine_options` gives them).
        dream_options: keyword arguments of `DeepDream.dream`.
        address: `ray.init`'s address, or `"local"` to start a cluster
            here. Defaults to `"local"`.
        workers: actors, each with its own engine. Defaults to 2.
        gpus_per_worker: GPUs Ray reserves per actor. Defaults to 0.
        max_side: downscale inputs so no side exceeds this. Defaults to `None`.
        recorded: the settings written into every output (`deepdream.settings.build`);
            each worker records the precision its engine runs in. Defaults to `None`.

    Returns:
        A `BatchReport`, in the order of `sources`.

    Raises:
        ValueError: Ray is not installed, `workers`/`gpus_per_worker` are
            out of range, or `DeepDream` refuses `engine_options` (checked
            by building one engine here, before any actor starts).
    """
    if workers < 1:
        raise ValueError(f"--workers must be at least 1. Received: {workers}")
    if gpus_per_worker < 0:
        raise ValueError(f"--gpus-per-worker must be 0 or more. Received: {gpus_per_worker}")
    ray = import_ray()
    outputs = output_paths(sources, output_dir)
    DreamActor(engine_options, dream_options, max_side)  # a bad option is one line here, not a dead actor
    if not ray.is_initialized():
        ray.init(address=None if address == "local" else address, log_to_driver=False,
                 include_dashboard=False, configure_logging=False)
    rows = ray.data.from_items(
        [{"source": str(source), "output": str(output)} for source, output in zip(sources, outputs)]
    ).map_batches(
        DreamActor, fn_constructor_kwargs=dict(engine_options=engine_options, dream_options=dream_options,
                                               max_side=max_side, recorded=recorded),
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
