"""A `python -m deepdream serve` page started in-process on a free loopback port, for the web tests."""

from __future__ import annotations

import contextlib
import os
import socket
from typing import Iterator

import numpy as np
from PIL import Image


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_server(auth: tuple[str, str] | None = None, **config) -> Iterator:
    """Yields the launched `gradio.Blocks` (`.local_url`, `.dreams`); closes it afterwards."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from deepdream.web import ServerConfig, launch

    demo = launch(ServerConfig(**config), host="127.0.0.1", port=free_port(), auth=auth, block=False,
                  quiet=True)
    try:
        yield demo
    finally:
        demo.close()


def write_small_photo(path, photo: np.ndarray, side: int = 120) -> str:
    """`photo` downscaled so its longer side is `side`, as a JPEG at `path`."""
    image = Image.fromarray(photo)
    image.thumbnail((side, side))
    image.save(path, quality=92)
    return str(path)
