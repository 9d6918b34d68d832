"""`python -m deepdream clip.mp4` and `--zoom-frames N`: videos and zoom animations.

A video is decoded, dreamed and encoded frame by frame
(`deepdream.jobs.dream_video`); a zoom animation grows out of one still
(`deepdream.jobs.dream_zoom`). Each finished frame is also kept in a work
folder beside the output (`deepdream.frame_store`), so an interrupted job
continues with `--resume`; the output appears, atomically, only when every
frame is in it.
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
    tag, suffix = ("_zoom", ".mp4") if zoom else ("_dream", source.suffix)
    suffix = suffix if suffix.lower() in OUTPUT_SUFFIXES else ".mp4"
    output = Path(args.output) if args.output else Path(f"{source.stem}{tag}{suffix}")
    job = jobs.dream_zoom if zoom else jobs.dream_video
    height, width, frames = frames_to_dream(source, video, zoom)
    dreamer = jobs.build_engine(engine)
    status = cli_options.planned(args, lambda timed: plan.plan_dream(
        engine, dream, height, width, frames=frames, frame_steps=(zoom or video).frame_steps, dreamer=dreamer,
        timed=timed, startup_seconds=plan.process_age_seconds()))
    if status is not None:
        return status
    return cli_options.run_job(args, "frames", lambda hooks: job(source, output, engine, dream, zoom or video,
                                                                 dreamer=dreamer, hooks=hooks), output)


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
