"""Threads that overlap a frame loop with its input and its output: a reader ahead, a writer behind.

The dream of each frame runs on the calling thread (the main thread, where
Ctrl-C lands). `read_ahead` pulls the frames (decoding, resizing, optical
flow) on a reader thread, `write_behind` hands finished frames to a writer
thread (storing, encoding); a small bounded queue joins each to the caller,
so a few frames are in memory, never the clip. Once the dream is the slowest
part, a frame costs only its dream.

Errors cross over: what the reader or the writer raises is raised again on
the calling thread, and an error or Ctrl-C there stops both threads, which
end before the call returns (a writer sees `WriteCancelled` from its frames,
so `write_video` removes its half-written file).
"""

from __future__ import annotations

import queue
import threading
from typing import Callable, Iterable, Iterator, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

DEFAULT_DEPTH = 2
# How often a thread waiting on a full or empty queue checks whether the other side has stopped.
_POLL_SECONDS = 0.05
_ITEM, _END, _CANCEL = "item", "end", "cancel"


class WriteCancelled(Exception):
    """Raised inside the writer's frames when the caller stopped (an error or Ctrl-C) before the last one."""


def read_ahead(items: Iterable[Item], depth: int = DEFAULT_DEPTH) -> Iterator[Item]:
    """Yields `items`, pulled on a reader thread up to `depth` items ahead of the caller.

    The thread starts at the first `next()` and ends when `items` is spent,
    when it raises (the error is raised here, after the items before it),
    or when this generator is closed (`contextlib.closing`), which also
    closes `items` on the reader thread.

    Raises:
        ValueError: `depth` is below 1.
    """
    _check_depth(depth)
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stopped = threading.Event()

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not _put(handoff, (_ITEM, item), stopped):
                    return
            _put(handoff, (_END, None), stopped)
        except BaseException as error:  # noqa: BLE001 - handed to the caller, raised there
            _put(handoff, (_CANCEL, error), stopped)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    reader = threading.Thread(target=produce, name="deepdream-reader", daemon=True)
    reader.start()
    try:
        while True:
            kind, item = _get(handoff)
            if kind == _END:
                return
            if kind == _CANCEL:
                raise item
            yield item
    finally:
        stopped.set()
        reader.join()


def write_behind(write: Callable[[Iterator[Item]], Result], items: Iterable[Item],
                 depth: int = DEFAULT_DEPTH) -> Result:
    """Runs `write(stream)` on a writer thread while `items` is pulled here; returns what `write` returns.

    `stream` yields the items in order, at most `depth` behind the caller.
    When pulling `items` raises here (Ctrl-C, a failed dream), `stream`
    raises `WriteCancelled` in the writer, the writer ends and the error is
    raised again; when `write` raises, pulling stops and its error is raised
    here. `items` is closed either way.

    Raises:
        ValueError: `depth` is below 1.
    """
    _check_depth(depth)
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    finished = threading.Event()
    outcome: dict = {}

    def stream() -> Iterator[Item]:
        while True:
            kind, item = handoff.get()
            if kind == _END:
                return
            if kind == _CANCEL:
                raise WriteCancelled("the frame loop stopped before its last frame")
            yield item

    def consume() -> None:
        try:
            outcome["result"] = write(stream())
        except WriteCancelled:
            pass
        except BaseException as error:  # noqa: BLE001 - handed to the caller, raised there
            outcome["error"] = error
        finally:
            finished.set()

    writer = threading.Thread(target=consume, name="deepdream-writer", daemon=True)
    writer.start()
    iterator = iter(items)
    try:
        for item in iterator:
            if not _put(handoff, (_ITEM, item), finished):
                break
        else:
            _put(handoff, (_END, None), finished)
    except BaseException:
        _put(handoff, (_CANCEL, None), finished)
        writer.join()
        raise
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
    writer.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _check_depth(depth: int) -> None:
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"`depth` must be a whole number of at least 1. Received: depth={depth!r}")


def _put(handoff: queue.Queue, entry: tuple, stopped: threading.Event) -> bool:
    """Puts `entry` once there is room; False when the other side stopped first."""
    while not stopped.is_set():
        try:
            handoff.put(entry, timeout=_POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False


def _get(handoff: queue.Queue) -> tuple:
    # A timeout keeps the wait short, so Ctrl-C on the calling thread is seen at once.
    while True:
        try:
            return handoff.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            continue
