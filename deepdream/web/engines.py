"""The engines a server keeps: built once per engine options (layers, channel, guide, precision), a few at most."""

from __future__ import annotations

import collections
import threading
from typing import Callable, Hashable

DEFAULT_ENGINES_KEPT = 3


class EngineCache:
    """A least-recently-used store of built engines (`DeepDream`, `Renderer`).

    Building the network and compiling its gradient takes seconds; a visitor
    who dreams again with the same layers reuses it, its compiled gradient
    included. Past `size` engines the least recently used one is dropped.

    Args:
        size: engines kept at most. Defaults to 3.
    """

    def __init__(self, size: int = DEFAULT_ENGINES_KEPT):
        if size < 1:
            raise ValueError(f"`size` must be at least 1. Received: size={size}")
        self.size = size
        self.builds = 0
        self._engines: collections.OrderedDict = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], object]):
        """The engine stored under `key`, built with `build()` the first time."""
        with self._lock:
            if key in self._engines:
                self._engines.move_to_end(key)
                return self._engines[key]
            engine = build()
            self.builds += 1
            self._engines[key] = engine
            while len(self._engines) > self.size:
                self._engines.popitem(last=False)
            return engine

    def keys(self) -> list:
        """The keys held, least recently used first."""
        with self._lock:
            return list(self._engines)
