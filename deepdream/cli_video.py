"""`python -m deepdream clip.mp4` and `--zoom-frames N`: videos and zoom animations.

A video is decoded, dreamed and encoded frame by frame
(`deepdream.jobs.dream_video`); a zoom animation grows out of one still
(`deepdream.jobs.dream_zoom`). Each finished frame is also kept in a work
folder beside the output (`deepdream.frame_store`), so an interrupted job
continues with `--resume`; the output appears, atomically, only when every
frame is in it.

The dream restarts at each hard cut; `--list-shots` prints the shots
(`START END`, or JSON with `--format json`) instead of dreaming, and
`--ray ADDRESS --workers N` dreams the shots in parallel on a Ray cluster
(`deepdream.video_ray.dream_video_on_ray`).
"""

from __future__ import annotations

from pathlib import Path

from deepdream import cli_options
from deepdream.options import VideoOptions, ZoomOptions


def add_arguments(parser) -> None:
    """Adds the video and zoom flags, built from `VideoOptions` and `ZoomOptions`."""
    group = parser.add_argument_group("video and zoom animations")
    cli_options.add_option_flags(group, VideoOptions)
    cli_options.add_option_flags(group, ZoomOptions, defaults={"frames": None})
    group.add_argument("--list-shots", action="store_true",
                       help="print the clip's shots, START END frame numbers (0-based, inclusive), and exit")
    group.add_argument("--verbose", action="store_true", help="also print each shot's start and end")


def applies(args) -> bool:
    """One video input, or a zoom animation."""
    from deepdream.video_io import VIDEO_SUFFIXES

    if args.zoom_frames is not None:
        return True
    return len(args.inputs) == 1 and Path(args.inputs[0]).suffix.lower() in VIDEO_SUFFIXES


def run(args) -> int:
    """Dreams a video (or makes a zoom animation) into `-o`, frame by frame; exit 0 when written."""
    from deepdream import jobs, plan
    from deepdream.video_io import OUTPUT_SUFFIXES

    if len(args.inputs) != 1:
        raise ValueError("give exactly one INPUT: a video, or a still with --zoom-frames")
    cli_options.check_gallery_flags(args)
    engine, dream, video = cli_options.engine_options(args), cli_options.dream_options(args), \
        cli_options.video_options(args)
    zoom = cli_options.zoom_options(args) if args.zoom_frames is not None else None
    source = Path(args.inputs[0])
    if args.list_shots:
        if zoom:
            raise ValueError("--list-shots lists a video's shots; a zoom animation has none.")
        return _print_shots(jobs.list_shots(source, engine, video), args.format)
    tag, suffix = ("_zoom", ".mp4") if zoom else ("_dream", source.suffix)
    suffix = suffix if suffix.lower() in OUTPUT_SUFFIXES else ".mp4"
    output = Path(args.output) if args.output else Path(f"{source.stem}{tag}{suffix}")
    jobs.check_video_output(source, output, engine.guide)  # before the engine is built: a bad -o answers at once
    height, width, frames = frames_to_dream(source, video, zoom)
    on_ray = zoom is None and args.ray is not None
    # On Ray the workers build their own engines; the driver builds one only to plan.
    dreamer = None if on_ray and not args.plan else jobs.build_engine(engine)
    if not on_ray or args.plan:
        status = cli_options.planned(args, lambda timed: plan.plan_dream(
            engine, dream, height, width, frames=frames, frame_steps=(zoom or video).frame_steps, dreamer=dreamer,
            timed=timed, startup_seconds=plan.process_age_seconds()))
        if status is not None:
            return status
    if zoom:
        return cli_options.run_job(args, "frames", lambda hooks: jobs.dream_zoom(source, output, engine, dream, zoom,
                                                                                 dreamer=dreamer, hooks=hooks), output)
    on_shot = _say_shot if args.verbose and not args.quiet else None
    if on_ray:
        from deepdream.distributed import import_ray
        from deepdream.video_ray import dream_video_on_ray

        import_ray()  # before any work: says how to install it
        return cli_options.run_job(args, "frames", lambda hooks: dream_video_on_ray(
            source, output, engine, dream, video, address=args.ray, workers=args.workers,
            gpus_per_worker=args.gpus_per_worker, hooks=hooks, on_shot=on_shot), output)
    return cli_options.run_job(args, "frames", lambda hooks: jobs.dream_video(
        source, output, engine, dream, video, dreamer=dreamer, hooks=hooks, on_shot=on_shot), output)


def frames_to_dream(source: Path, video: VideoOptions, zoom: ZoomOptions | None) -> tuple[int, int, int]:
    """`(height, width, frames)` of the job: a zoom's still and frame count, or a video's first frames."""
    from deepdream.video_io import probe_video
    from inception_keras.images import image_size

    if zoom is not None:
        width, height = image_size(source)
        return height, width, zoom.frames
    if not source.is_file():
        raise ValueError(f"Input not found: {source}")
    info = probe_video(source)
    return info.height, info.width, min(info.frame_count, video.max_frames or info.frame_count)


def _print_shots(shots: list[tuple[int, int]], form: str) -> int:
    import json

    from inception_keras.cli_support import EXIT_OK

    if form == "json":
        print(json.dumps([{"start": start, "end": end} for start, end in shots]))
    else:
        for start, end in shots:
            print(start, end)
    return EXIT_OK


def _say_shot(start: int, frame: int, finished: bool) -> None:
    if finished:
        cli_options.say(f"shot {start}-{frame} finished")
    else:
        cli_options.say(f"shot {start}: dreaming from frame {frame}")
