"""Writing files so that an interrupted run never leaves a half-written one."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(path) -> Iterator[Path]:
    """Yields a temporary path beside `path`; it replaces `path` when the block succeeds.

    The temporary name keeps the suffix (`.part.keras`, `.part.png`), so
    writers that choose a format by extension still work. On an error or
    Ctrl-C the temporary file is removed and `path` is left as it was.
    """
    path = Path(path)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".part{path.suffix}", dir=path.parent)
    os.close(handle)
    temp_path = Path(temp_name)
    try:
        yield temp_path
        os.chmod(temp_path, 0o644)
        os.replace(temp_path, path)
    finally:
        temp_path.unlink(missing_ok=True)


def file_sha256(path) -> str:
    """The SHA-256 of a file's bytes, as hex, read in 4 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def keras_home() -> Path:
    """Keras's home folder: `$KERAS_HOME`, read when called, else `~/.keras`."""
    return Path(os.path.expanduser(os.environ.get("KERAS_HOME") or "~/.keras"))
