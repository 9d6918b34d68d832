"""The command line's face on `deepdream.options`: flags built from the fields, flags turned back into options.

`add_option_flags` adds one flag per field (its default, help and choices
from the field); `*_options(args)` build the options objects a job takes,
with an invalid value reported under its flag's name; `apply_recorded`
puts the options of a settings file (`--settings-from`) into the flags.
`DESTS` is the one table where a flag's name differs from its field's.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import typing

from deepdream.channels import ChannelList, channel_flag
from deepdream.options import (
    DreamOptions,
    EngineOptions,
    RenderOptions,
    ServeOptions,
    VideoOptions,
    ZoomOptions,
    flag_name,
)

# Fields whose flag keeps another attribute: --layer appends, --no-flow and --no-shots store their negation,
# --zoom-frames names a zoom's frames.
DESTS = {"layers": "layer", "flow": "no_flow", "shots": "no_shots", "frames": "zoom_frames"}
NEGATED = frozenset({"flow", "shots"})
# Parsers of flags whose text is not a plain number or word.
FLAG_TYPES = {"channel": channel_flag}


def weights_flag(text: str) -> str | None:
    """The argparse type of `--weights`: `None` for 'none' (random weights), else the text."""
    return None if text.lower() == "none" else text


def add_option_flags(parser, cls, skip: tuple[str, ...] = (), defaults: dict | None = None) -> None:
    """Adds a flag for each field of the options class `cls`, but those in `skip` or added already.

    Args:
        parser: an argparse parser or argument group.
        cls: an options dataclass of `deepdream.options`.
        skip: fields to leave out. Defaults to none.
        defaults: a flag default other than the field's (e.g. `None` where
            "not given" picks a mode). Defaults to none.
    """
    defaults = defaults or {}
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        flag = flag_name(field)
        if field.name in skip:
            continue
        dest = DESTS.get(field.name, field.name)
        default = defaults.get(field.name, field.default)
        help_text = field.metadata["help"]
        if field.name == "layers":
            flags = dict(action="append", metavar="NAME[:WEIGHT]", help=f"{help_text} (default: {field.default})")
        elif hints[field.name] is bool:
            flags = dict(action="store_true", help=help_text)
        else:
            kind = FLAG_TYPES.get(field.name, weights_flag if field.name == "weights" else _flag_type(
                hints[field.name]))
            flags = dict(type=kind, default=default, choices=field.metadata["choices"], help=help_text)
        try:
            parser.add_argument(flag, dest=dest, **flags)
        except argparse.ArgumentError:  # a flag two options share (--frame-steps, --fps): added once
            continue


def engine_options(args) -> EngineOptions:
    """The engine's options from the flags (a channel list is a gallery's: see `render_options`)."""
    channel = args.channel if isinstance(args.channel, int) else None
    return _built(EngineOptions, layers=",".join(args.layer) if args.layer else EngineOptions.layers,
                  channel=channel, guide=args.guide, weights=args.weights, tile_size=args.tile_size,
                  precision=args.precision, max_side=args.max_side)


def dream_options(args) -> DreamOptions:
    """The dream's options from the flags."""
    return _built(DreamOptions, **_fields_from(args, DreamOptions))


def video_options(args) -> VideoOptions:
    """A video's options from the flags."""
    return _built(VideoOptions, **_fields_from(args, VideoOptions))


def zoom_options(args) -> ZoomOptions:
    """A zoom animation's options from the flags (`--fps` unset: the zoom's own 24)."""
    fields = _fields_from(args, ZoomOptions)
    fields["fps"] = args.fps if args.fps is not None else ZoomOptions.fps
    return _built(ZoomOptions, **fields)


def render_options(args) -> RenderOptions:
    """A render's options from the flags; a channel list or range is a gallery's channels."""
    channels = tuple(args.channel) if isinstance(args.channel, ChannelList) else None
    return _built(RenderOptions, noise=args.noise or RenderOptions.noise, param=args.param, channels=channels)


def serve_options(args) -> ServeOptions:
    """The server's options from the flags (`--max-side` and `--max-frames` are its limits)."""
    fields = _fields_from(args, ServeOptions, skip=("max_side", "max_frames"))
    fields.update(max_side=args.max_side or ServeOptions.max_side, max_frames=args.max_frames or ServeOptions.max_frames)
    return _built(ServeOptions, **fields)


def apply_recorded(args, recorded) -> None:
    """Puts the options of a settings file into the parsed flags (`--settings-from`), in place.

    The recorded options replace the flags' values; the input, output,
    `--weights` and `--guide` stay as given.
    """
    from deepdream.settings import channel_text

    args.layer = [recorded.engine.layers]
    args.channel = channel_flag(channel_text(recorded.channels)) if recorded.channels else recorded.engine.channel
    for field, value in recorded.repeated_fields():
        setattr(args, DESTS.get(field.name, field.name), (not value) if field.name in NEGATED else value)
    if recorded.mode != "render":
        args.param, args.noise = "pixel", None


def flagged(error: ValueError, cls) -> ValueError:
    """`error` with each "`field`" of `cls` named by its flag, as a person typed it."""
    flags = {field.name: flag_name(field) for field in dataclasses.fields(cls)}
    return ValueError(re.sub(r"`(\w+)`", lambda m: flags.get(m.group(1), m.group(0)), str(error)))


class ProgressBar:
    """A tqdm bar on stderr fed by a job's `Progress`; created at the first report, closed by `close()`.

    Args:
        describe: `describe(total) -> str`, the bar's label once the total is known.
        unit: what is counted.
        bar_format: tqdm's `bar_format`. Defaults to tqdm's own.
    """

    def __init__(self, describe, unit: str, bar_format: str | None = None):
        self.describe, self.unit, self.bar_format = describe, unit, bar_format
        self.bar = None

    def __call__(self, progress) -> None:
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=progress.total, desc=self.describe(progress.total), unit=self.unit,
                            file=sys.stderr, bar_format=self.bar_format, initial=max(0, progress.done - 1))
        if progress.loss is not None:
            self.bar.set_postfix(loss=f"{progress.loss:.3f}", refresh=False)
        self.bar.update(progress.done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def progress_bar(args, kind: str) -> ProgressBar | None:
    """The bar of a job's progress, or `None` with `--quiet`; `kind` is "steps", "images" or "frames".

    Steps: `3 octaves:  45%|███▌    | 27/60 [00:40<00:49, 1.49s/step, loss=1.234]`.
    """
    if args.quiet:
        return None
    if kind == "steps":
        steps = max(1, args.steps)
        return ProgressBar(lambda total: f"{max(1, total // steps)} octave{'s' * (total // steps > 1)}", "step")
    formats = {"images": "{desc}: {n}/{total} |{bar}| {rate_inv_fmt}, {elapsed} elapsed, ETA {remaining} {postfix}",
               "frames": "{desc}: {n}/{total} |{bar}| {rate_inv_fmt} ETA {remaining}"}
    return ProgressBar(lambda total: kind, kind[:-1], formats.get(kind))


def hooks(args, kind: str):
    """`(hooks, bar)`: the job's hooks that drive a progress bar and print messages on stderr, and the bar."""
    from deepdream.jobs import Hooks

    bar = progress_bar(args, kind)
    return Hooks(on_progress=bar, on_message=None if args.quiet else say), bar


def run_job(args, kind: str, job, output) -> int:
    """Runs `job(hooks)` with a progress bar of `kind` (`progress_bar`), then says where `output` was written."""
    from inception_keras.cli_support import EXIT_OK

    job_hooks, bar = hooks(args, kind)
    try:
        job(job_hooks)
    finally:
        if bar is not None:
            bar.close()
    if not args.quiet:
        say(f"wrote {output}")
    return EXIT_OK


def planned(args, make_plan) -> int | None:
    """`--plan` and the memory guard, before a mode dreams; `make_plan(timed)` is the job's `deepdream.plan` call.

    With `--plan`, prints the plan (text, or JSON with `--format json`) and
    returns 0: nothing is dreamed or written. Else, without `--force`,
    raises `ValueError` (one line, exit 2) when the estimated peak memory
    exceeds the memory available. Returns `None` where the dream goes on.
    """
    import json

    from deepdream import plan as planning
    from inception_keras.cli_support import EXIT_OK

    if args.plan:
        plan = make_plan(True)
        print(json.dumps(plan.as_dict()) if args.format == "json" else plan.describe())
        return EXIT_OK
    if not args.force:
        problem = planning.memory_problem(make_plan(False))
        if problem:
            raise ValueError(problem)
    return None


def check_no_plan(args, mode: str) -> None:
    """Raises `ValueError` for `--plan` in a mode that has no plan yet (`mode` names it: "a batch", "serve")."""
    if args.plan:
        raise ValueError(f"--plan plans a still, a video, a zoom or a render from noise, not {mode}; drop --plan or "
                         "give one INPUT.")


def say(text: str) -> None:
    """Prints `deepdream: TEXT` on stderr."""
    print(f"deepdream: {text}", file=sys.stderr)



def _fields_from(args, cls, skip: tuple[str, ...] = ()) -> dict:
    values = {}
    for field in dataclasses.fields(cls):
        dest = DESTS.get(field.name, field.name)
        if field.name in skip or not hasattr(args, dest):
            continue
        value = getattr(args, dest)
        values[field.name] = (not value) if field.name in NEGATED else value
    return values


def built_options(cls, **fields):
    """`cls(**fields)`, with an invalid value reported under its flag's name (`flagged`)."""
    return _built(cls, **fields)


def _built(cls, **fields):
    try:
        return cls(**fields)
    except ValueError as error:
        raise flagged(error, cls) from None


def _flag_type(hint):
    kinds = [kind for kind in typing.get_args(hint) if kind is not type(None)] or [hint]
    return {int: int, float: float, str: str}.get(kinds[0], str)


def check_gallery_flags(args) -> None:
    """Raises `ValueError` when a channel list is given to a mode that is not a render from noise."""
    if isinstance(args.channel, ChannelList):
        raise ValueError("A channel list or range renders a gallery from noise: add --noise WxH, or give one channel.")

