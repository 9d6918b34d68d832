"""`python -m deepdream --noise 512x512 ...`: renders from noise and channel galleries (to be built: issue 9)."""

from __future__ import annotations


def add_arguments(parser) -> None:
    """Adds the render flags."""
    parser.add_argument("--noise", metavar="WxH", help="start from grey noise of this size instead of an INPUT")


def applies(args) -> bool:
    """A render from noise."""
    return args.noise is not None


def run(args) -> int:
    raise ValueError("renders from noise are not built yet")
