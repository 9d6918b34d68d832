"""`python -m deepdream serve`: the web page (`deepdream.web`), with the server's limits.

The page takes `--weights` and `--precision` like every mode; `--max-side`
and `--max-frames` become the largest image side and the most video frames
a visitor may ask for.
"""

from __future__ import annotations

import sys

from inception_keras.cli_support import EXIT_OK

# Limits that keep a 2-core CPU answering: a 768-pixel, 4 x 20-step dream takes about a minute there.
DEFAULT_MAX_SIDE = 768
DEFAULT_MAX_STEPS = 50
DEFAULT_MAX_FRAMES = 48
DEFAULT_MAX_UPLOAD_MB = 20
DEFAULT_QUEUE_SIZE = 8


def add_arguments(parser) -> None:
    """Adds the server flags."""
    group = parser.add_argument_group("web page (python -m deepdream serve)")
    group.add_argument("--host", default="127.0.0.1", help="serve: address to listen on (0.0.0.0: the network)")
    group.add_argument("--port", type=int, default=7860, help="serve: port to listen on")
    group.add_argument("--auth", metavar="USER:PASSWORD", help="serve: ask visitors for this user and password")
    group.add_argument("--max-steps", type=int, default=DEFAULT_MAX_STEPS,
                       help="serve: most steps per octave a visitor may ask for")
    group.add_argument("--max-upload-mb", type=float, default=DEFAULT_MAX_UPLOAD_MB,
                       help="serve: largest upload, in megabytes")
    group.add_argument("--queue-size", type=int, default=DEFAULT_QUEUE_SIZE,
                       help="serve: jobs waiting at most; past it a visitor is told the server is busy")


def applies(args) -> bool:
    """`serve` as the first INPUT."""
    return args.inputs[:1] == ["serve"]


def run(args) -> int:
    """Starts the page and serves until Ctrl-C."""
    limits = server_limits(args)
    try:
        from deepdream.web import ServerConfig, launch
    except ImportError as error:
        raise ValueError(f"The web page needs the web extra: pip install -e \".[web]\" ({error})") from None
    config = ServerConfig(weights=args.weights, precision=args.precision, tile_size=args.tile_size, **limits)
    auth = _auth(args.auth)
    if not args.quiet:
        print(f"deepdream: serving http://{args.host}:{args.port} (Ctrl-C stops)", file=sys.stderr)
    launch(config, host=args.host, port=args.port, auth=auth, block=True, quiet=args.quiet)
    return EXIT_OK


def server_limits(args) -> dict:
    """The server's limits from the flags; raises `ValueError` naming the flag when one is out of range."""
    if len(args.inputs) > 1:
        raise ValueError(f"serve takes no INPUT; drop {args.inputs[1]}.")
    max_side = args.max_side or DEFAULT_MAX_SIDE
    max_frames = args.max_frames or DEFAULT_MAX_FRAMES
    checks = {"--max-side": (max_side, 75), "--max-steps": (args.max_steps, 1), "--max-frames": (max_frames, 1),
              "--queue-size": (args.queue_size, 1), "--port": (args.port, 1)}
    for flag, (value, least) in checks.items():
        if value < least:
            raise ValueError(f"{flag} must be at least {least}. Received: {value}")
    if not args.max_upload_mb > 0:
        raise ValueError(f"--max-upload-mb must be above 0. Received: {args.max_upload_mb}")
    return dict(max_side=max_side, max_steps=args.max_steps, max_frames=max_frames,
                max_upload_bytes=int(args.max_upload_mb * 1024 * 1024), queue_size=args.queue_size)


def _auth(text: str | None) -> tuple[str, str] | None:
    if text is None:
        return None
    user, colon, password = text.partition(":")
    if not (user and colon and password):
        raise ValueError(f"--auth must be USER:PASSWORD. Received: {text!r}")
    return user, password
