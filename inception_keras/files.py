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
# Below this much free space a write is refused before the work starts (a still, a frame, a model file).
MIN_FREE_BYTES = 16 * 1024 * 1024


def check_output(path, inputs=(), *, folder: bool = False, earlier_output=None, overwrite: bool = False,
                 flag: str = "-o/--output") -> Path:
    """Checks, before any work, that writing `path` destroys nothing of the user's and can succeed.

    The one rule every command that writes follows: an output never
    replaces an input of the same run, a file output never replaces a
    folder, and a folder output replaces only an earlier output of the same
    kind (`earlier_output(path)` true) unless `overwrite`. The folder it
    goes in must exist, be writable and have room.

    Args:
        path: the file (or, with `folder`, the folder) to write.
        inputs: the paths the run reads. Defaults to none.
        folder: the output is a folder (a SavedModel). Defaults to `False`.
        earlier_output: `earlier_output(path) -> bool` for an existing
            folder output. Defaults to none: no folder is an earlier output.
        overwrite: replace an existing folder that is not an earlier output.
            Defaults to `False`.
        flag: how the user named the output, for the messages.

    Returns:
        `path` as a `Path`.

    Raises:
        ValueError: one line saying what is wrong and how to fix it.
    """
    path = Path(path)
    for source in inputs:
        if source is not None and _same_or_inside(Path(source), path, folder):
            raise ValueError(f"{flag} {path} would replace the input {source}; choose another output.")
    if path.is_dir():
        if not folder:
            raise ValueError(f"{flag} {path} is a folder; name a file.")
        if not overwrite and not (earlier_output and earlier_output(path)):
            raise ValueError(f"{flag} {path} is a folder this command did not write; choose another, "
                             "or add --overwrite to replace it and everything in it.")
    elif path.exists() and folder:
        raise ValueError(f"{flag} {path} is a file; name a folder.")
    check_writable(path.parent)
    return path


def check_writable(folder, min_free_bytes: int = MIN_FREE_BYTES) -> None:
    """Raises `ValueError` when `folder` is missing, read-only, not writable or nearly full."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"Output folder does not exist: {folder} (create it first).")
    status = os.statvfs(folder)
    if status.f_flag & os.ST_RDONLY or not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"Cannot write into {folder}: it is read-only; choose another folder.")
    free = status.f_bavail * status.f_frsize
    if free < min_free_bytes:
        raise ValueError(f"Cannot write into {folder}: {free / 2**20:.1f} MiB free; free some space or choose "
                         "another folder.")


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


def _same_or_inside(source: Path, output: Path, folder: bool) -> bool:
    """Whether writing `output` would replace `source`: the same file, or (a folder output) a folder holding it."""
    if not source.exists():
        return False
    source = source.resolve()
    if output.exists() and output.resolve() == source:
        return True
    return folder and output.resolve() in source.parents


def _glob_escaped(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)
