"""`python -m deepdream --noise 512x512 --layer mixed4 --channel 7`: renders from noise and channel galleries.

`--channel 0-15` (or `3,7,40-47`) with `--noise` renders each channel and
writes one labelled grid (`deepdream.jobs.render_gallery`); one channel or
none renders one image (`deepdream.jobs.render`). Without `--layer` a render
shows `mixed4`.
"""

from __future__ import annotations

from pathlib import Path

from deepdream import cli_options
from deepdream.channels import ChannelList
from deepdream.options import RENDER_LAYER, RenderOptions


def add_arguments(parser) -> None:
    """Adds the render flags, built from `RenderOptions`."""
    cli_options.add_option_flags(parser, RenderOptions, skip=("channels",), defaults={"noise": None})


def applies(args) -> bool:
    """A render from noise, or a channel list or `--param fft` that only a render can take."""
    return args.noise is not None or isinstance(args.channel, ChannelList) or args.param != "pixel"


def run(args) -> int:
    """Renders one channel (or the layer) from noise, or a gallery of channels, and writes it."""
    from deepdream import jobs, plan
    from deepdream.gallery import DEFAULT_GALLERY_BATCH

    if args.noise is None:
        if isinstance(args.channel, ChannelList):
            raise ValueError("A channel list or range (a gallery) renders from noise: add --noise WxH, e.g. 128x128.")
        raise ValueError("--param fft renders from noise: add --noise WxH (photos are dreamed in pixels).")
    if args.inputs:
        raise ValueError(f"--noise renders from noise and takes no INPUT; drop {args.inputs[0]} or --noise.")
    if args.guide:
        raise ValueError("--guide does not apply to --noise renders; drop one of them.")
    render = cli_options.render_options(args)
    engine, dream = cli_options.engine_options(args), cli_options.dream_options(args)
    output = Path(args.output) if args.output else Path(default_name(args.layer, render, engine.channel))
    job = jobs.render_gallery if render.channels else jobs.render
    renderer = jobs.build_renderer(engine)
    status = cli_options.planned(args, lambda timed: plan.plan_render(
        engine, dream, render, batch=DEFAULT_GALLERY_BATCH if render.channels else 1, renderer=renderer, timed=timed,
        startup_seconds=plan.process_age_seconds()))
    if status is not None:
        return status
    return cli_options.run_job(args, "channels" if render.channels else "renders",
                               lambda hooks: job(output, engine, dream, render, renderer=renderer, hooks=hooks),
                               output)


def default_name(layers: list[str] | None, render: RenderOptions, channel: int | None) -> str:
    """`render_mixed4_c7.png`, `render_mixed4.png` or `gallery_mixed4_c0-15.png`."""
    stem = (",".join(layers) if layers else RENDER_LAYER).split(":")[0].split(",")[0]
    if render.channels:
        return f"gallery_{stem}_c{render.channels[0]}-{render.channels[-1]}.png"
    return f"render_{stem}.png" if channel is None else f"render_{stem}_c{channel}.png"
