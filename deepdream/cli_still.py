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
    from deepdream import jobs, plan
    from inception_keras.images import image_size

    cli_options.check_gallery_flags(args)
    engine, dream = cli_options.engine_options(args), cli_options.dream_options(args)
    source = Path(args.inputs[0])
    output = Path(args.output) if args.output else Path(f"{source.stem}_dream{source.suffix or '.png'}")
    jobs.check_still_output(source, output, engine.guide)  # before the engine is built: a bad -o answers at once
    width, height = image_size(source)
    dreamer = jobs.build_engine(engine)
    status = cli_options.planned(args, lambda timed: plan.plan_dream(
        engine, dream, height, width, dreamer=dreamer, timed=timed, startup_seconds=plan.process_age_seconds()))
    if status is not None:
        return status
    return cli_options.run_job(args, "steps", lambda hooks: jobs.dream_still(source, output, engine, dream,
                                                                             dreamer=dreamer, hooks=hooks), output)
