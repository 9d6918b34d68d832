"""`python -m deepdream IMAGE`: dream on one image file (`deepdream.jobs.dream_still`)."""

from __future__ import annotations

from pathlib import Path

from deepdream import cli_options


def add_arguments(parser) -> None:
    """The still-image mode has no flags beyond the shared ones."""


def applies(args) -> bool:
    """The mode of last resort: one input image (or none, which is an error)."""
    return True


def run(args) -> int:
    """Dreams on `args.inputs[0]` and writes `-o` or `<stem>_dream<suffix>`."""
    if not args.inputs:
        raise ValueError("no INPUT image given: python -m deepdream IMAGE (see --help)")
    from deepdream import jobs

    cli_options.check_gallery_flags(args)
    engine, dream = cli_options.engine_options(args), cli_options.dream_options(args)
    source = Path(args.inputs[0])
    output = Path(args.output) if args.output else Path(f"{source.stem}_dream{source.suffix or '.png'}")
    return cli_options.run_job(args, "steps", lambda hooks: jobs.dream_still(source, output, engine, dream,
                                                                             hooks=hooks), output)
