"""`python -m deepdream serve`: the web page (`deepdream.web`), with the server's limits.

The server's flags are built from `ServeOptions`; `--max-side` and
`--max-frames` are the shared flags, here the largest image side and the most
video frames a visitor may ask for. The page takes `--weights`,
`--precision` and `--tile-size` like every mode.
"""

from __future__ import annotations

import sys

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
    serve = cli_options.serve_options(args)
    engine = cli_options.engine_options(args)
    try:
        from deepdream.web import ServerConfig, launch
    except ImportError as error:
        raise ValueError(f"The web page needs the web extra: pip install -e \".[web]\" ({error})") from None
    config = ServerConfig(serve=serve, weights=engine.weights, precision=engine.precision, tile_size=engine.tile_size)
    if not args.quiet:
        print(f"deepdream: serving http://{serve.host}:{serve.port} (Ctrl-C stops)", file=sys.stderr)
    launch(config, block=True, quiet=args.quiet)
    return EXIT_OK
