"""A `python -m deepdream serve` page started in-process on a free loopback port, for the web tests."""

from __future__ import annotations

import contextlib
import dataclasses
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
def running_server(**config) -> Iterator:
    """Yields the launched `gradio.Blocks` (`.local_url`, `.dreams`); closes it afterwards.

    `config` holds fields of `ServeOptions` (the limits, `auth`) and of
    `ServerConfig` (`weights`, `precision`, `output_dir`); the server listens
    on a free loopback port.
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from deepdream.options import ServeOptions
    from deepdream.web import ServerConfig, launch

    serve_fields = {field.name for field in dataclasses.fields(ServeOptions)}
    serve = ServeOptions(host="127.0.0.1", port=free_port(),
                         **{name: value for name, value in config.items() if name in serve_fields})
    server = {name: value for name, value in config.items() if name not in serve_fields}
    demo = launch(ServerConfig(serve=serve, **server), block=False, quiet=True)
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
