"""`python -m deepdream INPUTS... --output-dir DIR --ray ADDRESS`: the batch mode on Ray (to be built: issue 10)."""

from __future__ import annotations


def add_arguments(parser) -> None:
    """Adds the Ray flags."""
    parser.add_argument("--ray", metavar="ADDRESS", help="dream the batch on this Ray cluster ('local' starts one)")
    parser.add_argument("--workers", type=int, default=2, help="Ray actors, each with one model")
    parser.add_argument("--gpus-per-worker", type=float, default=0, help="GPUs reserved per Ray actor")


def applies(args) -> bool:
    """`--ray` given."""
    return args.ray is not None


def run(args) -> int:
    raise ValueError("the Ray batch mode is not built yet")
