"""The Gradio page: photo, from noise, video and zoom, on one queue, with the server's limits.

Every button builds the command line's flags and runs what the CLI mode
runs (`deepdream.web.jobs`): the engine from `cli_options`, the settings
from `deepdream.settings`, the files from `save_image` and `write_video`.
"""

import collections
import contextlib
import dataclasses
import os
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from deepdream.web import jobs
from deepdream.web.engines import DEFAULT_ENGINES_KEPT, EngineCache

MAX_GALLERY_CELLS = 16
# Outputs and Gradio's cached copies are removed after an hour (checked every ten minutes).
OUTPUT_MAX_AGE_S = 3600
CACHE_CHECK_S = 600
# The live camera: a small frame and few steps, so a CPU keeps up with a few frames a second.
LIVE_SIDE = 160
LIVE_STEPS = 2
# Every event that runs the network waits in this one queue, so one job at a time holds the device.
DEVICE = "device"


@dataclasses.dataclass(frozen=True)
class ServerConfig:
    """How a server dreams and what it allows.

    Args:
        weights: as `--weights`: "imagenet", a file, or `None` (random).
            Defaults to "imagenet".
        precision: as `--precision`. Defaults to "auto".
        tile_size: as `--tile-size`. Defaults to 512.
        max_side: largest image side a visitor may ask for. Defaults to 768.
        max_steps: most steps per octave. Defaults to 50.
        max_frames: most video or zoom frames. Defaults to 48.
        max_upload_bytes: largest upload. Defaults to 20 MiB.
        queue_size: jobs waiting at most (one runs). Defaults to 8.
        engines_kept: engines kept built (LRU). Defaults to 3.
        output_dir: where results are written. Defaults to a new temporary folder.
    """

    weights: str | None = "imagenet"
    precision: str = "auto"
    tile_size: int = 512
    max_side: int = 768
    max_steps: int = 50
    max_frames: int = 48
    max_upload_bytes: int = 20 * 1024 * 1024
    queue_size: int = 8
    engines_kept: int = DEFAULT_ENGINES_KEPT
    output_dir: str | None = None

    @property
    def limits(self) -> jobs.Limits:
        return jobs.Limits(max_side=self.max_side, max_steps=self.max_steps, max_frames=self.max_frames,
                           max_upload_bytes=self.max_upload_bytes)


class Dreams:
    """The page's work: one engine cache and one output folder for every visitor."""

    def __init__(self, config: ServerConfig):
        self.config = config
        self.limits = config.limits
        self.engines = EngineCache(config.engines_kept)
        self.output_dir = Path(config.output_dir or tempfile.mkdtemp(prefix="deepdream-web-")).resolve()
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.outcomes: collections.Counter = collections.Counter()  # jobs done, cancelled, failed

    # -- the flags

    def common_flags(self, layers, layer_weights, channel, guide, lapnorm, octaves, steps, step_size, jitter,
                     seed, size) -> list[str]:
        """The command line's flags for the page's dream controls."""
        argv = ["--layer", jobs.layer_spec(layers, layer_weights),
                "--octaves", str(int(octaves)), "--steps", str(int(steps)), "--step-size", str(float(step_size)),
                "--jitter", str(int(jitter)), "--seed", str(int(seed or 0)), "--max-side", str(int(size)),
                "--precision", self.config.precision, "--tile-size", str(self.config.tile_size),
                "--weights", self.config.weights or "none", "--quiet"]
        if channel is not None and str(channel).strip() != "":
            argv += ["--channel", str(channel).strip()]
        if guide:
            self.limits.check_upload(guide)
            argv += ["--guide", str(guide)]
        if lapnorm:
            argv.append("--lapnorm")
        return argv

    def engine(self, args):
        """The `DeepDream` of these flags, built once (`cli_options.build_engine`)."""
        from deepdream import cli_options, settings

        guide = settings.file_sha256(args.guide) if args.guide else None
        key = ("dream", tuple(args.layer), args.channel, guide, args.precision, args.tile_size)
        return self.engines.get(key, lambda: cli_options.build_engine(args))

    def renderer(self, args, layer: str):
        from deepdream.render import Renderer

        key = ("render", layer, args.precision, args.tile_size)
        return self.engines.get(key, lambda: Renderer(layer, weights=args.weights, tile_size=args.tile_size,
                                                      precision=args.precision))

    def new_output(self, name: str) -> Path:
        """A fresh path `output_dir/<id>/<name>`, after removing outputs older than an hour."""
        jobs.prune_outputs(self.output_dir, OUTPUT_MAX_AGE_S)
        folder = self.output_dir / uuid.uuid4().hex
        folder.mkdir()
        return folder / name

    def _ended(self, outcome: str) -> None:
        self.outcomes[outcome] += 1

    # -- uploads

    def load_photo(self, path) -> np.ndarray:
        """The upload through the CLI's loader; raises `ValueError` with one line for a bad file."""
        from inception_keras.images import load_image

        self.limits.check_upload(path)
        with _named_as_uploaded(path):
            return load_image(path, max_pixels=jobs.DEFAULT_MAX_PIXELS)

    # -- the modes

    def photo(self, photo, *controls, progress=None):
        """Yields `(preview, status, download, command)` while dreaming `photo`; the last is the result."""
        from deepdream import cli_options, settings
        from inception_keras.images import save_image

        image = self.load_photo(photo)
        args = jobs.parse_flags([str(photo), *self.common_flags(*controls)])
        cli_options.check_numbers(args)
        self.limits.check(args)
        image = cli_options.fit_max_side(image, args.max_side)
        engine = self.engine(args)
        options = cli_options.dream_options(args)

        def work(job):
            return engine.dream(image, **options, **jobs.dream_reporters(job))

        job = jobs.Job(work, self._ended)
        try:
            for state in job.updates():
                if progress is not None:
                    progress((state.done, state.total), desc="dreaming", unit="steps")
                yield state.preview, _status(state, "steps"), None, None
            result = job.result()
        finally:
            job.cancel()
        recorded = settings.build(args, "still", engine.precision)
        output = self.new_output(f"{Path(_original_name(photo)).stem}_dream.png")
        save_image(result, output, metadata=settings.image_metadata(recorded))
        command = settings.command_line(recorded, _original_name(photo), output.name)
        yield result, f"Done: {result.shape[1]}x{result.shape[0]} pixels.", str(output), command

    def render(self, layer, channel, param, size, octaves, steps, seed, progress=None):
        """Renders one channel from noise; returns `(image, status, download, command)`."""
        from deepdream import cli_render, settings
        from inception_keras.images import save_image

        args = self.render_flags(layer, channel, param, size, octaves, steps, seed)
        options = cli_render._render_options(args)
        resolved = cli_render._resolved(options)
        renderer = self.renderer(args, layer)
        if progress is not None:
            progress(0.0, desc="rendering")
        image = renderer.render(args.channel, (int(size), int(size)), **options)
        recorded = settings.build(args, "render", renderer.engine.precision, resolved)
        output = self.new_output(f"render_{layer}_c{args.channel}.png")
        save_image(image, output, metadata=settings.image_metadata(recorded))
        return image, "Done.", str(output), settings.command_line(recorded, output=output.name)

    def gallery(self, layer, first, count, param, size, octaves, steps, seed, progress=None):
        """Yields `(cells, status, download, command)` as each channel of the gallery is rendered."""
        from deepdream import cli_render, settings
        from deepdream.channels import check_channels
        from deepdream.gallery import grid_image
        from inception_keras.images import save_image

        first, count = int(first), int(count)
        if not 1 <= count <= MAX_GALLERY_CELLS:
            raise ValueError(f"A gallery on this page has 1 to {MAX_GALLERY_CELLS} channels. Received: {count}")
        args = self.render_flags(layer, f"{first}-{first + count - 1}" if count > 1 else str(first),
                                 param, size, octaves, steps, seed)
        options = cli_render._render_options(args)
        renderer = self.renderer(args, layer)
        channels = list(args.channel) if count > 1 else [args.channel]
        check_channels(channels, layer, renderer.channels())
        cells = []

        def work(job):
            for index, channel in enumerate(channels):
                job.step(index, len(channels))
                cells.append((renderer.render(channel, (int(size), int(size)), **options), f"{layer}:{channel}"))
            return cells

        job = jobs.Job(work, self._ended)
        try:
            for state in job.updates():
                if progress is not None:
                    progress((state.done, state.total), desc="rendering channels", unit="channels")
                yield list(cells), _status(state, "channels"), None, None
            job.result()
        finally:
            job.cancel()
        recorded = settings.build(args, "render", renderer.engine.precision, cli_render._resolved(options))
        output = self.new_output(f"gallery_{layer}_c{channels[0]}-{channels[-1]}.png")
        save_image(grid_image([c[0] for c in cells], [c[1] for c in cells]), output,
                   metadata=settings.image_metadata(recorded))
        yield cells, "Done: click a channel to dream it on your photo.", str(output), \
            settings.command_line(recorded, output=output.name)

    def render_flags(self, layer, channel, param, size, octaves, steps, seed):
        from deepdream import cli_render
        from deepdream.render import FFT_STEPS

        argv = ["--noise", f"{int(size)}x{int(size)}", "--layer", layer, "--channel", str(channel).strip(),
                "--param", param, "--octaves", str(int(octaves)), "--steps", str(int(steps)),
                "--seed", str(int(seed or 0)), "--precision", self.config.precision,
                "--tile-size", str(self.config.tile_size), "--weights", self.config.weights or "none", "--quiet"]
        args = jobs.parse_flags(argv)
        cli_render._checked(args)
        # A Fourier render's 128 Adam steps are its one octave, so it may take them whatever the limit.
        steps = cli_render._resolved(cli_render._render_options(args))["steps"]
        self.limits.check(_with(args, max_side=int(size), steps=min(steps, self.limits.max_steps)
                                if param == "fft" and steps <= FFT_STEPS else steps))
        return args

    def video(self, clip, frames, frame_steps, *controls, progress=None):
        """Yields `(status, video, download, command)` while dreaming the first `frames` frames of `clip`."""
        from deepdream import cli_options, cli_video, settings
        from deepdream.video_dream import FrameDreamer
        from deepdream.video_io import probe_video, read_video

        self.limits.check_upload(clip)
        with _named_as_uploaded(clip):
            info = probe_video(clip)
        args = jobs.parse_flags([str(clip), *self.common_flags(*controls), "--max-frames", str(int(frames)),
                                 "--frame-steps", str(int(frame_steps))])
        cli_options.check_numbers(args)
        cli_video.check_video_numbers(args)
        self.limits.check(args)
        count = min(info.frame_count, args.max_frames)
        engine = self.engine(args)
        dreamer = FrameDreamer(engine, cli_options.dream_options(args), frame_steps=args.frame_steps,
                               blend=args.blend, flow=not args.no_flow, flow_preset=args.flow_preset)
        recorded = settings.build(args, "video", engine.precision)
        output = self.new_output(f"{Path(_original_name(clip)).stem}_dream.mp4")
        frames_in = (_even(cli_options.fit_max_side(frame, args.max_side)) for frame in read_video(clip, count))
        yield from self._encode((dreamer.dream(frame) for frame in frames_in), count, output, recorded, info.fps,
                                progress, _original_name(clip), audio_from=clip if info.has_audio else None,
                                trim_audio=count < info.frame_count)

    def zoom(self, photo, frames, zoom, *controls, progress=None):
        """Yields `(status, video, download, command)` while making a zoom animation from `photo`."""
        from fractions import Fraction

        from deepdream import cli_options, cli_video, settings
        from deepdream.zoom import zoom_frames

        image = self.load_photo(photo)
        args = jobs.parse_flags([str(photo), *self.common_flags(*controls), "--zoom-frames", str(int(frames)),
                                 "--zoom", str(float(zoom))])
        cli_options.check_numbers(args)
        cli_video.check_video_numbers(args)
        self.limits.check(args)
        engine = self.engine(args)
        image = _even(cli_options.fit_max_side(image, args.max_side))
        args.fps = cli_video.DEFAULT_ZOOM_FPS
        recorded = settings.build(args, "zoom", engine.precision)
        output = self.new_output(f"{Path(_original_name(photo)).stem}_zoom.mp4")
        frames_out = zoom_frames(engine, image, args.zoom_frames, args.zoom, args.rotate,
                                 cli_options.dream_options(args), args.frame_steps)
        yield from self._encode(frames_out, args.zoom_frames, output, recorded,
                                Fraction(cli_video.DEFAULT_ZOOM_FPS), progress, _original_name(photo))

    def live(self, frame, state, *controls):
        """Dreams one camera frame through the video mode's flow carry; returns `(dream, state, frames per second)`.

        `state` holds the visitor's `FrameDreamer` (the previous dream, warped
        forward to each new frame) and the times of the last frames.
        """
        from deepdream import cli_options
        from deepdream.video_dream import FrameDreamer

        if frame is None:
            return None, state, ""
        argv = ["live", *self.common_flags(*controls), "--octaves", "1", "--steps", str(LIVE_STEPS),
                "--frame-steps", str(LIVE_STEPS), "--max-side", str(min(LIVE_SIDE, self.limits.max_side))]
        args = jobs.parse_flags(argv)
        cli_options.check_numbers(args)
        frame = cli_options.fit_max_side(np.asarray(frame, np.uint8)[..., :3], args.max_side)
        key = (tuple(args.layer), args.channel, args.jitter, args.seed, frame.shape)
        if state is None or state["key"] != key:
            dreamer = FrameDreamer(self.engine(args), cli_options.dream_options(args), frame_steps=args.frame_steps,
                                   blend=args.blend, flow_preset="ultrafast")
            state = {"key": key, "dreamer": dreamer, "times": collections.deque(maxlen=10)}
        dreamed = state["dreamer"].dream(frame)
        state["times"].append(time.monotonic())
        times = state["times"]
        rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0
        return dreamed, state, f"{rate:.1f} frames per second at {frame.shape[1]}x{frame.shape[0]}"

    def _encode(self, frames, count, output, recorded, fps, progress, source_name, **audio):
        """Runs `write_video(frames, ...)` as a job, one step per frame; yields the status, then the video.

        `frames` is a lazy iterator: the dreaming happens on the job's thread as the writer pulls it.
        """
        from deepdream import settings
        from deepdream.video_io import write_video

        def work(job):
            def counted():
                for index, frame in enumerate(frames):
                    job.step(index + 1, count, frame)
                    yield frame

            return write_video(counted(), output, fps=fps, metadata=settings.video_metadata(recorded), **audio)

        job = jobs.Job(work, self._ended)
        job.step(0, count)
        try:
            for state in job.updates():
                if progress is not None:
                    progress((state.done, state.total), desc="dreaming frames", unit="frames")
                yield _status(state, "frames"), None, None, None
            job.result()
        finally:
            job.cancel()
        yield (f"Done: {count} frames.", str(output), str(output),
               settings.command_line(recorded, source_name, output.name))


def build_app(config: ServerConfig):
    """The page (`gradio.Blocks`) of a server with `config`; call `.queue(...)` and `.launch(...)`, or `launch`."""
    import gradio as gr

    from inception_keras.introspection import build_for_size, tap_points

    from deepdream.engine import DEFAULT_LAYERS
    from deepdream.objectives import parse_layer_spec

    dreams = Dreams(config)
    default_terms = parse_layer_spec(DEFAULT_LAYERS)
    points = tap_points(build_for_size(299, 299))
    layer_choices = [(f"{p.name} · {p.channels} channels · sees {p.receptive_field} px", p.name) for p in points]
    names = [p.name for p in points]
    side = min(512, config.max_side)

    with gr.Blocks(title="DeepDream", delete_cache=(CACHE_CHECK_S, OUTPUT_MAX_AGE_S)) as demo:
        demo.dreams = dreams
        gr.Markdown("# DeepDream\nUpload a photo, choose layers, press **Dream** and watch it grow. "
                    "Every result carries its settings; the command line repeats it exactly.")
        with gr.Tabs() as tabs:
            with gr.Tab("Photo", id="photo"):
                with gr.Row():
                    with gr.Column(scale=1):
                        photo = gr.File(label="Photo", file_types=["image"], type="filepath", elem_id="photo")
                        layers = gr.Dropdown(layer_choices, value=[t.layer for t in default_terms], multiselect=True,
                                             label="Layers (deeper: larger patterns)", elem_id="layers")
                        layer_weights = gr.Textbox(", ".join(str(t.weight) for t in default_terms),
                                                   label="Layer weights, in order", elem_id="layer_weights")
                        with gr.Row():
                            channel = gr.Textbox("", label="Channel (optional)", placeholder="every channel",
                                                 elem_id="channel")
                            seed = gr.Number(0, label="Seed", precision=0, minimum=0, elem_id="seed")
                        size = gr.Slider(75, config.max_side, value=side, step=1, label="Largest side (pixels)",
                                         elem_id="size")
                        octaves = gr.Slider(1, 8, value=4, step=1, label="Octaves", elem_id="octaves")
                        steps = gr.Slider(1, config.max_steps, value=min(20, config.max_steps), step=1,
                                          label="Steps per octave", elem_id="steps")
                        step_size = gr.Slider(0.001, 0.1, value=0.01, step=0.001, label="Step size",
                                              elem_id="step_size")
                        jitter = gr.Slider(0, 64, value=32, step=1, label="Jitter (pixels)", elem_id="jitter")
                        with gr.Accordion("Guide and normalisation", open=False):
                            guide = gr.File(label="Guide image (optional)", file_types=["image"], type="filepath",
                                            elem_id="guide")
                            lapnorm = gr.Checkbox(False, label="Laplacian normalisation", elem_id="lapnorm")
                        dream_button = gr.Button("Dream", variant="primary", elem_id="dream")
                    with gr.Column(scale=2):
                        shown = gr.Image(label="Dream", interactive=False, format="png", elem_id="shown")
                        status = gr.Markdown("Upload a photo to start.", elem_id="status")
                        download = gr.File(label="Download (settings inside)", interactive=False,
                                           elem_id="download")
                        command = gr.Textbox(label="The same dream from the command line", interactive=False,
                                             elem_id="command")
                with gr.Accordion("The layers: channels, stride, receptive field", open=False):
                    gr.Dataframe([[p.name, p.channels, p.stride, p.receptive_field] for p in points],
                                 headers=["layer", "channels", "stride", "receptive field (px)"],
                                 interactive=False)
            with gr.Tab("From noise", id="noise"):
                with gr.Row():
                    with gr.Column(scale=1):
                        r_layer = gr.Dropdown(names, value="mixed4", label="Layer", elem_id="r_layer")
                        r_param = gr.Radio(["pixel", "fft"], value="pixel", label="Parameterisation",
                                           elem_id="r_param")
                        r_size = gr.Slider(75, min(config.max_side, 512), value=min(224, config.max_side), step=1,
                                           label="Size (pixels)", elem_id="r_size")
                        r_octaves = gr.Slider(1, 8, value=4, step=1, label="Octaves (pixel)", elem_id="r_octaves")
                        r_steps = gr.Slider(1, max(config.max_steps, 128), value=20, step=1,
                                            label="Steps (fft: 128 when left at 20)", elem_id="r_steps")
                        r_seed = gr.Number(0, label="Seed", precision=0, minimum=0, elem_id="r_seed")
                        r_channel = gr.Number(0, label="Channel", precision=0, minimum=0, elem_id="r_channel")
                        render_button = gr.Button("Render one channel", variant="primary", elem_id="render")
                        g_first = gr.Number(0, label="Gallery: first channel", precision=0, minimum=0,
                                            elem_id="g_first")
                        g_count = gr.Slider(1, MAX_GALLERY_CELLS, value=8, step=1, label="Gallery: channels",
                                            elem_id="g_count")
                        gallery_button = gr.Button("Render a gallery", elem_id="gallery_button")
                    with gr.Column(scale=2):
                        r_image = gr.Image(label="Render", interactive=False, format="png", elem_id="r_image")
                        cells = gr.Gallery(label="Gallery: click a channel to dream it on your photo", columns=4,
                                           elem_id="cells", allow_preview=False)
                        r_status = gr.Markdown("", elem_id="r_status")
                        r_download = gr.File(label="Download (settings inside)", interactive=False,
                                             elem_id="r_download")
                        r_command = gr.Textbox(label="The same render from the command line", interactive=False,
                                               elem_id="r_command")
            with gr.Tab("Video and zoom", id="video"):
                gr.Markdown(f"Uses the Photo tab's layers and settings. At most {config.max_frames} frames.")
                with gr.Row():
                    with gr.Column(scale=1):
                        clip = gr.File(label="Clip", file_types=["video"], type="filepath", elem_id="clip")
                        v_frames = gr.Slider(1, config.max_frames, value=min(12, config.max_frames), step=1,
                                             label="Frames (from the start)", elem_id="v_frames")
                        v_frame_steps = gr.Slider(1, 20, value=5, step=1, label="Steps per later frame",
                                                  elem_id="v_frame_steps")
                        video_button = gr.Button("Dream the clip", variant="primary", elem_id="video_button")
                        z_frames = gr.Slider(1, config.max_frames, value=min(24, config.max_frames), step=1,
                                             label="Zoom: frames (from the Photo tab's photo)", elem_id="z_frames")
                        z_zoom = gr.Slider(1.0, 1.2, value=1.05, step=0.01, label="Zoom per frame",
                                           elem_id="z_zoom")
                        zoom_button = gr.Button("Zoom into the photo", elem_id="zoom_button")
                    with gr.Column(scale=2):
                        v_status = gr.Markdown("", elem_id="v_status")
                        v_video = gr.Video(label="Video", interactive=False, elem_id="v_video")
                        v_download = gr.File(label="Download .mp4 (settings inside)", interactive=False,
                                             elem_id="v_download")
                        v_command = gr.Textbox(label="The same video from the command line", interactive=False,
                                               elem_id="v_command")
            with gr.Tab("Live camera", id="live"):
                gr.Markdown("Your camera, dreamed frame by frame with the Photo tab's layers: a small size and "
                            f"{LIVE_STEPS} steps per frame, the previous dream carried along the motion.")
                with gr.Row():
                    camera = gr.Image(sources=["webcam"], streaming=True, type="numpy", label="Camera",
                                      elem_id="camera")
                    live_dream = gr.Image(label="Live dream", interactive=False, height=400, elem_id="live_dream")
                live_rate = gr.Markdown("", elem_id="live_rate")
                live_state = gr.State(None)

        controls = [layers, layer_weights, channel, guide, lapnorm, octaves, steps, step_size, jitter, seed, size]
        render_controls = [r_param, r_size, r_octaves, r_steps, r_seed]

        # `progress=gr.Progress()` defaults are how Gradio hands a job its progress bar.
        def show_photo(path):
            if path is None:
                return None, "Upload a photo to start."
            try:
                image = dreams.load_photo(path)
            except ValueError as error:
                return None, f"**This file cannot be dreamed:** {_one_line(error)}"
            return image, f"Photo: {image.shape[1]}x{image.shape[0]} pixels. Press **Dream**."

        def dream_photo(path, *values, progress=gr.Progress()):  # noqa: B008
            yield from _shown_errors(dreams.photo(path, *values, progress=progress), gr)

        def render_channel(layer, channel_value, *values, progress=gr.Progress()):  # noqa: B008
            try:
                return dreams.render(layer, _whole(channel_value), *values, progress=progress)
            except ValueError as error:
                raise gr.Error(_one_line(error)) from None

        def render_gallery(layer, first, count, *values, progress=gr.Progress()):  # noqa: B008
            yield from _shown_errors(dreams.gallery(layer, first, count, *values, progress=progress), gr)

        def chosen_cell(layer, event: gr.SelectData):
            label = event.value.get("caption") if isinstance(event.value, dict) else None
            chosen = int(label.split(":")[-1]) if label else int(event.index)
            return [layer], "1.0", chosen, gr.Tabs(selected="photo")

        def dream_video(path, frames, frame_steps, *values, progress=gr.Progress()):  # noqa: B008
            yield from _shown_errors(dreams.video(path, frames, frame_steps, *values, progress=progress), gr)

        def dream_zoom(path, frames, zoom, *values, progress=gr.Progress()):  # noqa: B008
            yield from _shown_errors(dreams.zoom(path, frames, zoom, *values, progress=progress), gr)

        photo.upload(show_photo, photo, [shown, status], api_name="load_photo", queue=False)
        photo.clear(show_photo, photo, [shown, status], queue=False, api_visibility="private")
        dream_button.click(dream_photo, [photo, *controls], [shown, status, download, command], api_name="dream",
                          concurrency_id=DEVICE)
        render_button.click(render_channel, [r_layer, r_channel, *render_controls],
                            [r_image, r_status, r_download, r_command], api_name="render",
                            concurrency_id=DEVICE)
        gallery_button.click(render_gallery, [r_layer, g_first, g_count, *render_controls],
                             [cells, r_status, r_download, r_command], api_name="gallery",
                             concurrency_id=DEVICE)
        cells.select(chosen_cell, [r_layer], [layers, layer_weights, channel, tabs], queue=False,
                     api_visibility="private").then(dream_photo, [photo, *controls], [shown, status, download, command],
                                          api_visibility="private", concurrency_id=DEVICE)
        video_button.click(dream_video, [clip, v_frames, v_frame_steps, *controls],
                           [v_status, v_video, v_download, v_command], api_name="video",
                           concurrency_id=DEVICE)
        zoom_button.click(dream_zoom, [photo, z_frames, z_zoom, *controls],
                          [v_status, v_video, v_download, v_command], api_name="zoom",
                          concurrency_id=DEVICE)
        def dream_live(frame, state, *values):
            try:
                return dreams.live(frame, state, *values)
            except ValueError as error:
                raise gr.Error(_one_line(error)) from None

        camera.stream(dream_live, [camera, live_state, *controls], [live_dream, live_state, live_rate],
                      stream_every=0.25, time_limit=120, api_visibility="private",
                      concurrency_id=DEVICE)
    return demo


def launch(config: ServerConfig, host: str = "127.0.0.1", port: int = 7860,
           auth: tuple[str, str] | None = None, block: bool = True, quiet: bool = False):
    """Builds the page, queues it (one job at a time, `config.queue_size` waiting) and serves it.

    Returns the `gradio.Blocks` (its `local_url`, `close()`); with `block`
    it returns only once the server stopped (Ctrl-C).
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    demo = build_app(config)
    demo.queue(max_size=config.queue_size, default_concurrency_limit=1)
    theme = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])
    demo.launch(server_name=host, server_port=port, auth=auth, prevent_thread_lock=not block, quiet=quiet,
                max_file_size=config.max_upload_bytes, allowed_paths=[str(demo.dreams.output_dir)],
                show_error=True, ssr_mode=False, theme=theme, footer_links=[])
    return demo


@contextlib.contextmanager
def _named_as_uploaded(path):
    """A `ValueError` about an upload names the visitor's file, not the server's copy of it."""
    try:
        yield
    except ValueError as error:
        raise ValueError(str(error).replace(str(path), _original_name(path))) from None


def _shown_errors(updates, gr):
    """Passes the updates of a job on; a `ValueError` (bad input, a limit) becomes a message on the page."""
    try:
        for update in updates:
            yield tuple(gr.skip() if value is None else value for value in update)
    except ValueError as error:
        raise gr.Error(_one_line(error)) from None


def _status(state: jobs.Progress, unit: str) -> str:
    eta = state.eta_s
    left = "" if eta is None else f", about {eta:.0f} s left"
    return f"{state.done}/{state.total} {unit}{left}."


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def _whole(value):
    return None if value is None or str(value).strip() == "" else int(value)


def _original_name(path) -> str:
    """Gradio keeps an upload's own file name as the last part of its path."""
    return Path(str(path)).name


def _even(frame: np.ndarray) -> np.ndarray:
    """Crops an odd last row or column: the page's player needs H.264 yuv420p (browsers do not play 4:4:4)."""
    return frame[: frame.shape[0] // 2 * 2, : frame.shape[1] // 2 * 2]


def _with(args, **changes):
    import argparse

    return argparse.Namespace(**{**vars(args), **changes})
