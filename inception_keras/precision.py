"""Keras dtype policies, set for a block of code only."""

from __future__ import annotations

import contextlib
from typing import Iterator

import keras


@contextlib.contextmanager
def dtype_policy(policy: str | None) -> Iterator[None]:
    """Builds layers under `policy` (e.g. `"mixed_bfloat16"`) inside the block; `None` changes nothing."""
    if policy is None:
        yield
        return
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
