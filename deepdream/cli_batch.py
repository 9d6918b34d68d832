"""`python -m deepdream a.jpg b.png photos/ --output-dir dreams/`: many stills, one engine (`deepdream.jobs.dream_batch`)."""

from __future__ import annotations

from pathlib import Path

from deepdream import cli_options
from inception_keras.cli_support import EXIT_OK, EXIT_USAGE


def add_arguments(parser) -> None:
    """Adds `--output-dir`."""
    parser.add_argument("--output-dir", metavar="DIR",
                        help="write <stem>_dream<suffix> for each input here (several inputs or folders)")


def applies(args) -> bool:
    """Several inputs, a folder, or `--output-dir`."""
    return bool(args.output_dir) or len(args.inputs) > 1 or any(Path(p).is_dir() for p in args.inputs)


def output_dir(args) -> Path:
    """The output folder of a batch (checked by the job); raises `ValueError` for `-o`."""
    if args.output:
        raise ValueError("-o/--output names one file; with several inputs use --output-dir DIR.")
    return Path(args.output_dir or ".")


def report_failures(failed: list[tuple[Path, str]], written: int) -> int:
    """Prints one line per failed input and returns the exit status."""
    for _, error in failed:
        cli_options.say(f"error: {error}")
    if failed:
        cli_options.say(f"{written} written, {len(failed)} failed")
        return EXIT_USAGE
    return EXIT_OK


def run(args) -> int:
    """Dreams every input into the output folder; exit 2 if any input failed."""
    from deepdream import jobs

    cli_options.check_no_plan(args, "a batch")
    cli_options.check_gallery_flags(args)
    engine, dream = cli_options.engine_options(args), cli_options.dream_options(args)
    folder = output_dir(args)
    hooks, bar = cli_options.hooks(args, "images")

    def on_file(source: Path, error: str | None) -> None:
        if bar is not None and bar.bar is not None:
            bar.bar.set_postfix_str(f"{source.name}{' failed' if error else ''}")

    try:
        report = jobs.dream_batch(args.inputs, folder, engine, dream, hooks=hooks, on_file=on_file)
    finally:
        if bar is not None:
            bar.close()
    return report_failures(report.failed, len(report.written))
