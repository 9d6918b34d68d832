"""`python -m deepdream atlas --layer mixed4 --channels 0-767 --size 128 -o OUT`: a channel atlas and its page.

Renders every channel asked for that `OUT` lacks (`deepdream.atlas.render_atlas`),
in batches, here or on Ray actors (`--ray local|auto --workers N`,
`deepdream.atlas_ray`), then writes `OUT/index.html`.
"""

from __future__ import annotations


from deepdream import cli_options
from deepdream.options import RENDER_LAYER, AtlasOptions

DEFAULT_OUTPUT = "atlas"


def add_arguments(parser) -> None:
    """Adds the atlas flags, built from `AtlasOptions` (`--layer` and `--param` are shared)."""
    group = parser.add_argument_group("channel atlas (python -m deepdream atlas)")
    cli_options.add_option_flags(group, AtlasOptions, skip=("layers", "param"))


def applies(args) -> bool:
    """`atlas` as the first INPUT."""
    return args.inputs[:1] == ["atlas"]


def atlas_options(args) -> AtlasOptions:
    """The atlas's options from the flags (`--layer` repeatable or a comma list; `all` is mixed0..mixed10)."""
    layers = ",".join(args.layer) if args.layer else RENDER_LAYER
    return cli_options.built_options(AtlasOptions, layers=layers, channels=args.channels, size=args.size,
                                     param=args.param, batch=args.batch, photos=args.photos,
                                     top_photos=args.top_photos)


def run(args) -> int:
    """Renders the atlas's missing channels into `-o` (default `atlas`) and writes its page."""
    from deepdream.atlas import check_atlas_output, plan_atlas, render_atlas
    from deepdream.plan import process_age_seconds

    if len(args.inputs) > 1:
        raise ValueError(f"atlas takes no INPUT; drop {args.inputs[1]}.")
    if args.channel is not None:
        raise ValueError("An atlas takes its channels with --channels (e.g. --channels 0-767); drop --channel.")
    atlas = atlas_options(args)
    engine = cli_options.engine_options(args)
    dream = cli_options.dream_options(args)
    output = check_atlas_output(args.output or DEFAULT_OUTPUT, engine, dream, atlas)  # before any plan or model
    on_ray = args.ray is not None
    if args.plan or not (args.force or on_ray):  # on Ray the memory that matters is the workers'
        status = cli_options.planned(args, lambda timed: plan_atlas(
            output, engine, dream, atlas, workers=args.workers if on_ray else 1, timed=timed,
            startup_seconds=process_age_seconds()))
        if status is not None:
            return status
    render_groups = None
    if on_ray:
        from deepdream.atlas_ray import ray_render_groups

        render_groups = ray_render_groups(output, engine, dream, atlas, address=args.ray, workers=args.workers,
                                          gpus_per_worker=args.gpus_per_worker, quiet=args.quiet)
    return cli_options.run_job(args, "channels", lambda hooks: render_atlas(
        output, engine, dream, atlas, hooks=hooks, render_groups=render_groups), output / "index.html")
