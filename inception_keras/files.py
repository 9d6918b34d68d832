"""Writing files so that an interrupted run never leaves a half-written one, and reading their digests."""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from pathlib import Path
from typing import Iterator

PART_TAG = ".part"


@contextlib.contextmanager
def atomic_path(path) -> Iterator[Path]:
    """Yields a temporary path beside `path`; it replaces `path` when the block succeeds.

    The temporary name keeps the suffix (`.NAME.xxxx.part.png`), so writers
    that choose a format by extension still work. On an error, Ctrl-C or
    SIGTERM the temporary file is removed and `path` is left as it was;
    partial files a killed run left for the same `path` are removed first.
    The file gets the mode of the file it replaces, else what the umask
    asks for a new file.
    """
    path = Path(path)
    remove_stale_parts(path)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f"{PART_TAG}{path.suffix}", dir=path.parent)
    os.close(handle)
    temp_path = Path(temp_name)
    try:
        yield temp_path
        os.chmod(temp_path, stat.S_IMODE(path.stat().st_mode) if path.is_file() else 0o666 & ~current_umask())
        os.replace(temp_path, path)
    finally:
        temp_path.unlink(missing_ok=True)


def remove_stale_parts(path) -> list[Path]:
    """Removes the partial files `atomic_path` left beside `path` when its run was killed; returns them."""
    path = Path(path)
    pattern = f".{_glob_escaped(path.stem)}.{'?' * 8}{PART_TAG}{_glob_escaped(path.suffix)}"  # mkstemp: 8 random
    stale = [part for part in path.parent.glob(pattern) if part.is_file()]
    for part in stale:
        part.unlink(missing_ok=True)
    return stale


def current_umask() -> int:
    """The process's umask, read without changing it where Linux tells it (`/proc/self/status`)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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


def _glob_escaped(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)
