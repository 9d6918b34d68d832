"""Channel selections on the command line: one number, a list, a range, or both (`3,7,40-47`)."""

from __future__ import annotations

import argparse

# A gallery renders every channel one after the other: 64 (lucid's and keras.io's 8x8 grids)
# is the most that stays a readable picture and a sane run time.
MAX_GALLERY_CHANNELS = 64


class ChannelList(tuple):
    """Several channels given with `--channel` (a list or a range), in the order given."""


def parse_channels(text: str) -> list[int]:
    """Parses `"5"`, `"0-15"` or `"3,7,40-47"` into channel numbers, in order, without repeats.

    Raises:
        ValueError: not a comma list of numbers and `A-B` ranges with `A <= B`.
    """
    channels: list[int] = []
    for part in text.split(","):
        first, dash, last = part.strip().partition("-")
        try:
            start = int(first)
            stop = int(last) if dash else start
        except ValueError:
            start, stop = 0, -1
        if start > stop:
            raise ValueError(
                f"--channel takes a number, a range or a comma list such as 0-15 or 3,7,40-47. Received: {text!r}"
            )
        channels.extend(c for c in range(start, stop + 1) if c not in channels)
    return channels


def channel_flag(text: str) -> int | ChannelList:
    """The argparse type of `--channel`: an `int` for one number, a `ChannelList` for a list or range."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return ChannelList(parse_channels(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def check_channels(channels: list[int], layer: str, count: int, limit: int = MAX_GALLERY_CHANNELS) -> None:
    """Raises `ValueError` when a channel is outside `0..count - 1` or there are more than `limit`."""
    outside = [c for c in channels if not 0 <= c < count]
    if outside:
        raise ValueError(
            f"Channel {outside[0]} does not exist in {layer}, which has channels 0..{count - 1}."
        )
    check_gallery_size(len(channels), limit)


def check_gallery_size(count: int, limit: int = MAX_GALLERY_CHANNELS) -> None:
    """Raises `ValueError` when a gallery asks for more than `limit` channels."""
    if count > limit:
        raise ValueError(
            f"A gallery renders at most {limit} channels; {count} were asked for. "
            f"Split it, e.g. --channel 0-{limit - 1}."
        )
