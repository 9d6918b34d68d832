"""Many stills in one run: inputs expanded from files and folders, one engine for all.

What every batch path shares: the inputs expanded, their outputs named and
checked, the report. The per-file work is `deepdream.jobs.dream_file`, which
the local batch job and the Ray workers of `deepdream.distributed` call alike,
so both write the same files for the same seed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Iterable

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
