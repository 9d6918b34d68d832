"""`python -m deepdream IMAGE`: dream on one image file."""

from __future__ import annotations

import sys
from pathlib import Path

from deepdream import cli_options
from inception_keras.cli_support import EXIT_OK


def add_arguments(parser) -> None:
    """The still-image mode has no flags beyond the shared ones."""


def applies(args) -> bool:
    """The mode of last resort: one input image (or none, which is an error)."""
    return True


def run(args) -> int:
    """Dreams on `args.inputs[0]` and writes `-o` or `<stem>_dream<suffix>`."""
    if not args.inputs:
        raise ValueError("no INPUT image given: python -m deepdream IMAGE (see --help)")
    cli_options.check_numbers(args)
    source = Path(args.inputs[0])
    output = Path(args.output) if args.output else Path(f"{source.stem}_dream{source.suffix}")
    cli_options.refuse_overwriting_input(source, output)
    from deepdream import settings
    from inception_keras.images import check_output_path, save_image

    check_output_path(output)
    image = cli_options.load_input_image(source, args.max_side)
    engine = cli_options.build_engine(args)
    result = engine.dream(
        image, **cli_options.dream_options(args),
        on_step=None if args.quiet else cli_options.step_progress_bar(args.steps),
    )
    save_image(result, output, metadata=settings.image_metadata(settings.build(args, "still", engine.precision)))
    if not args.quiet:
        print(f"deepdream: wrote {output}", file=sys.stderr)
    return EXIT_OK
