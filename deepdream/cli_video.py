"""`python -m deepdream clip.mp4` and `--zoom-frames N`: videos and zoom animations (to be built: issue 8)."""

from __future__ import annotations

from pathlib import Path

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".webm", ".avi", ".gif"})


def add_arguments(parser) -> None:
    """Adds the video and zoom flags."""
    parser.add_argument("--zoom-frames", type=int, metavar="N", help="make an N-frame zoom animation from a still")


def applies(args) -> bool:
    """One video input, or a zoom animation."""
    if args.zoom_frames is not None:
        return True
    return len(args.inputs) == 1 and Path(args.inputs[0]).suffix.lower() in VIDEO_SUFFIXES


def run(args) -> int:
    raise ValueError("video and zoom modes are not built yet")
