"""Many stills in one run: inputs expanded from files and folders, one engine for all.

The per-file function `dream_file` is the unit of work of every batch path:
the local loop here and the Ray workers of `deepdream.distributed` call it
the same way, so both write the same files for the same seed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Iterable

from inception_keras.images import SAVE_FORMATS

# Read by Pillow; written back in the same format unless it cannot be (then PNG).
IMAGE_SUFFIXES = frozenset(SAVE_FORMATS) | {".gif"}
FALLBACK_SUFFIX = ".png"


@dataclasses.dataclass
class BatchReport:
    """What a batch run did: the files written and the inputs that failed, with why."""

    written: list[Path] = dataclasses.field(default_factory=list)
    failed: list[tuple[Path, str]] = dataclasses.field(default_factory=list)


def collect_inputs(inputs: Iterable) -> list[Path]:
    """Expands files and folders into the image files to dream, in a stable order.

    A folder contributes its image files (by extension, not recursive, sorted
    by name). Files named directly are kept whatever their extension, so a
    broken or mislabelled one is reported when it is read.

    Raises:
        ValueError: a path does not exist, or a folder holds no image files.
    """
    sources: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            images = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
            if not images:
                raise ValueError(
                    f"The folder {path} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})."
                )
            sources.extend(images)
        elif path.exists():
            sources.append(path)
        else:
            raise ValueError(f"Input not found: {path}")
    return list(dict.fromkeys(sources))


def output_path_for(source: Path, output_dir: Path) -> Path:
    """`output_dir/<stem>_dream<suffix>`, with PNG for formats that cannot be written."""
    suffix = source.suffix if source.suffix.lower() in SAVE_FORMATS else FALLBACK_SUFFIX
    return Path(output_dir) / f"{source.stem}_dream{suffix}"


def output_paths(sources: list[Path], output_dir: Path) -> list[Path]:
    """The output of each source; raises `ValueError` when two sources would share one."""
    outputs = [output_path_for(source, output_dir) for source in sources]
    seen: dict[Path, Path] = {}
    for source, output in zip(sources, outputs):
        if output in seen:
            raise ValueError(
                f"{seen[output]} and {source} would both be written to {output}; "
                "rename one or dream them in separate runs."
            )
        seen[output] = source
    return outputs


def dream_file(engine, source: Path, output: Path, dream_options: dict, max_side: int | None = None,
               metadata: dict[str, str] | None = None) -> Path:
    """Reads `source`, dreams it with `engine` and writes `output` atomically, with `metadata` in it.

    Raises:
        ValueError: the source cannot be read as an image (the message names it).
    """
    from deepdream.cli_options import load_input_image
    from inception_keras.images import save_image

    image = load_input_image(source, max_side)
    return save_image(engine.dream(image, **dream_options), output, metadata=metadata)


def dream_files(engine, sources: list[Path], output_dir: Path, dream_options: dict,
                max_side: int | None = None,
                on_file: Callable[[Path, str | None], None] | None = None,
                metadata: dict[str, str] | None = None) -> BatchReport:
    """Dreams each source into `output_dir` with one engine; a file that fails is skipped.

    Args:
        engine: the `DeepDream` shared by every file.
        sources: image files (see `collect_inputs`).
        output_dir: an existing folder; outputs are `<stem>_dream<suffix>`.
        dream_options: keyword arguments of `DeepDream.dream`.
        max_side: downscale inputs so no side exceeds this. Defaults to `None`.
        on_file: called as `on_file(source, error_or_None)` after each file;
            an error message always names its source.
        metadata: text fields written into every output (`save_image`).
            Defaults to `None`.

    Returns:
        A `BatchReport`.
    """
    report = BatchReport()
    for source, output in zip(sources, output_paths(sources, output_dir)):
        try:
            report.written.append(dream_file(engine, source, output, dream_options, max_side, metadata))
            error = None
        except ValueError as failure:
            error = " ".join(str(failure).split())
            if str(source) not in error:
                error = f"{source}: {error}"
            report.failed.append((source, error))
        if on_file is not None:
            on_file(source, error)
    return report
