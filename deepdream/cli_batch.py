"""`python -m deepdream a.jpg b.png photos/ --output-dir dreams/`: many stills, one engine."""

from __future__ import annotations

import sys
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


def prepare(args) -> tuple[list[Path], Path]:
    """Checks the flags and returns `(sources, output_dir)`; raises `ValueError` on bad input."""
    from deepdream.batch import collect_inputs, output_paths

    cli_options.check_numbers(args)
    if args.output:
        raise ValueError("-o/--output names one file; with several inputs use --output-dir DIR.")
    output_dir = Path(args.output_dir or ".")
    if not output_dir.is_dir():
        raise ValueError(f"Output folder does not exist: {output_dir} (create it first).")
    sources = collect_inputs(args.inputs)
    output_paths(sources, output_dir)
    return sources, output_dir


def report_failures(failed: list[tuple[Path, str]], written: int) -> int:
    """Prints one line per failed input and returns the exit status."""
    for _, error in failed:
        print(f"deepdream: error: {error}", file=sys.stderr)
    if failed:
        print(f"deepdream: {written} written, {len(failed)} failed", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def run(args) -> int:
    """Dreams every input into the output folder; exit 2 if any input failed."""
    from deepdream import settings
    from deepdream.batch import dream_files

    sources, output_dir = prepare(args)
    engine = cli_options.build_engine(args)
    bar = None if args.quiet else _image_bar(len(sources))

    def on_file(source: Path, error: str | None) -> None:
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(f"{source.name}{' failed' if error else ''}")

    try:
        report = dream_files(engine, sources, output_dir, cli_options.dream_options(args),
                             max_side=args.max_side, on_file=on_file,
                             metadata=settings.image_metadata(settings.build(args, "still", engine.precision)))
    finally:
        if bar is not None:
            bar.close()
    return report_failures(report.failed, len(report.written))


def _image_bar(total: int):
    """A tqdm bar on stderr: images k/N, seconds per image, elapsed and ETA."""
    from tqdm import tqdm

    return tqdm(total=total, desc="images", unit="image", file=sys.stderr,
                bar_format="{desc}: {n}/{total} |{bar}| {rate_inv_fmt}, {elapsed} elapsed, ETA {remaining} {postfix}")
