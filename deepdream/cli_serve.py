"""`python -m deepdream serve`: the web page (`deepdream.web`), with the server's limits.

The server's flags are built from `ServeOptions`; `--max-side` and
`--max-frames` are the shared flags, here the largest image side and the most
video frames a visitor may ask for. The page takes `--weights`,
`--precision` and `--tile-size` like every mode.

The server keeps the visitors' uploads and Gradio's copies in a folder of
its own (`deepdream-serve-*`, inside `$GRADIO_TEMP_DIR` when set), and its
results in another; both are removed when it stops (Ctrl-C, SIGTERM).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Iterator

from deepdream import cli_options
from deepdream.options import ServeOptions
from inception_keras.cli_support import EXIT_OK


def add_arguments(parser) -> None:
    """Adds the server flags, built from `ServeOptions` (those the other modes share are theirs)."""
    group = parser.add_argument_group("web page (python -m deepdream serve)")
    cli_options.add_option_flags(group, ServeOptions)


def applies(args) -> bool:
    """`serve` as the first INPUT."""
    return args.inputs[:1] == ["serve"]


def run(args) -> int:
    """Starts the page and serves until Ctrl-C."""
    if len(args.inputs) > 1:
        raise ValueError(f"serve takes no INPUT; drop {args.inputs[1]}.")
    cli_options.check_no_plan(args, "serve")
    serve = cli_options.serve_options(args)
    engine = cli_options.engine_options(args)
    with _own_upload_folder():  # before Gradio is imported: it reads GRADIO_TEMP_DIR
        try:
            from deepdream.web import ServerConfig, launch
        except ImportError as error:
            raise ValueError(f"The web page needs the web extra: pip install -e \".[web]\" ({error})") from None
        config = ServerConfig(serve=serve, weights=engine.weights, precision=engine.precision,
                              tile_size=engine.tile_size)
        if not args.quiet:
            print(f"deepdream: serving http://{serve.host}:{serve.port} (Ctrl-C stops)", file=sys.stderr)
        launch(config, block=True, quiet=args.quiet)
    return EXIT_OK


@contextlib.contextmanager
def _own_upload_folder() -> Iterator[Path]:
    """Points Gradio's upload and cache folder (`GRADIO_TEMP_DIR`) at a new folder of this server's, removed after.

    The folder is made inside the `GRADIO_TEMP_DIR` the user set (which
    stays), else in the system's temporary folder.
    """
    previous = os.environ.get("GRADIO_TEMP_DIR")
    parent = Path(previous or tempfile.gettempdir())
    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="deepdream-serve-", dir=parent))
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    try:
        yield folder
    finally:
        if previous is None:
            os.environ.pop("GRADIO_TEMP_DIR", None)
        else:
            os.environ["GRADIO_TEMP_DIR"] = previous
        shutil.rmtree(folder, ignore_errors=True)
