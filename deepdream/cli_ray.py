"""`python -m deepdream INPUTS... --output-dir DIR --ray ADDRESS --workers N`: the batch mode on a Ray cluster.

A video input with `--ray` is the video mode's (`cli_video`): its shots are dreamed on the cluster.
"""

from __future__ import annotations

import logging

from deepdream import cli_batch, cli_options


def add_arguments(parser) -> None:
    """Adds the Ray flags."""
    parser.add_argument("--ray", metavar="ADDRESS",
                        help="dream the batch (or a video's shots) on this Ray cluster ('local' starts one)")
    parser.add_argument("--workers", type=int, default=2, help="Ray actors, each with one model")
    parser.add_argument("--gpus-per-worker", type=float, default=0, help="GPUs reserved per Ray actor")


def applies(args) -> bool:
    """`--ray` given, and the inputs are not a video (a video's shots go to `cli_video`)."""
    from deepdream import cli_video

    return args.ray is not None and not cli_video.applies(args)


def run(args) -> int:
    """Dreams every input on Ray into the output folder, as the local batch mode does; exit 2 if any failed."""
    from deepdream.batch import collect_inputs
    from deepdream.distributed import dream_files_on_ray, import_ray

    ray = import_ray()  # before any work: says how to install it
    cli_options.check_no_plan(args, "a batch on Ray")
    cli_options.check_gallery_flags(args)
    engine, dream = cli_options.engine_options(args), cli_options.dream_options(args)
    folder = cli_batch.output_dir(args)
    sources = collect_inputs(args.inputs)
    if args.quiet:
        ray.data.DataContext.get_current().enable_progress_bars = False
        logging.getLogger("ray.data").setLevel(logging.ERROR)
    report = dream_files_on_ray(sources, folder, engine, dream, address=args.ray, workers=args.workers,
                                gpus_per_worker=args.gpus_per_worker)
    return cli_batch.report_failures(report.failed, len(report.written))
