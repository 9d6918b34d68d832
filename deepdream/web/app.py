"""The Gradio page: photo, from noise, video and zoom, on one queue, with the server's limits.

Every button builds the options of `deepdream.options` from the page's
controls and runs the job the command line runs for that mode
(`deepdream.jobs`) on a `deepdream.web.jobs.Job` thread: the same engine,
the same settings, the same file. The controls take their defaults and
ranges from the options' fields, capped by the server's limits
(`ServeOptions`).

No visitor holds the others up: every image is checked from its header
before it is decoded (`Limits`), a preview is small and waits in its own
queue, a camera frame takes the device only between queued jobs
(`DeviceTurns`), wrong logins slow down per address
(`deepdream.web.logins`), and a stopped server leaves none of its files.
"""

import base64
import binascii
import collections
import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
import weakref
from pathlib import Path

import numpy as np

from deepdream import jobs, settings
from deepdream.jobs import Cancelled
from deepdream.options import (
    DEFAULT_LAYERS,
    FFT_STEPS,
    MAX_RENDER_SIDE,
    MIN_SIDE,
    PARAMETERIZATIONS,
    RENDER_LAYER,
    DreamOptions,
    EngineOptions,
    RenderOptions,
    ServeOptions,
    VideoOptions,
    ZoomOptions,
)
from deepdream.web import atlas_tab, estimates
from deepdream.web.engines import DEFAULT_ENGINES_KEPT, EngineCache
from deepdream.web.jobs import DeviceTurns, Job, Limits, Progress, layer_spec, prune_outputs
from deepdream.web.shots import shot_rows, shot_table
from inception_keras.files import atomic_path, file_sha256

MAX_GALLERY_CELLS = 16
# The longest a stopping server waits for Gradio to close before it removes its folders and ends.
CLOSE_TIMEOUT_S = 15
# Outputs and Gradio's cached copies are removed after an hour (checked every ten minutes).
OUTPUT_MAX_AGE_S = 3600
CACHE_CHECK_S = 600
# The live camera: a small frame, one octave and few steps with the fastest flow, so a CPU keeps up.
LIVE_SIDE = 160
LIVE_STEPS = 2
LIVE_FLOW_PRESET = "ultrafast"
# Camera streams at once, each at most LIVE_TIME_LIMIT_S; a stream holds the device one frame at a time.
LIVE_STREAMS = 4
LIVE_TIME_LIMIT_S = 120
# Every event that runs the network waits in this one queue, so one job at a time holds the device.
DEVICE = "device"
# Previews of uploads wait in their own queue, one decoded at a time, beside the device's.
PREVIEW = "preview"
LIVE = "live"
# On shutdown, running jobs get this long to stop before the server's folders are removed.
SHUTDOWN_WAIT_S = 10
LOG = logging.getLogger("deepdream.web")


@dataclasses.dataclass(frozen=True)
class ServerConfig:
    """How a server dreams and what it allows.

    Args:
        serve: its address, password and limits. Defaults to `ServeOptions()`.
        weights: as `EngineOptions.weights`: "imagenet", a file, or `None`
            (random). Defaults to "imagenet".
        precision: as `EngineOptions.precision`. Defaults to "auto".
        tile_size: as `EngineOptions.tile_size`. Defaults to 512.
        engines_kept: engines kept built (LRU). Defaults to 3.
        output_dir: where results are written. Defaults to a new temporary folder.
    """

    serve: ServeOptions = dataclasses.field(default_factory=ServeOptions)
    weights: str | None = EngineOptions.weights
    precision: str = EngineOptions.precision
    tile_size: int = EngineOptions.tile_size
    engines_kept: int = DEFAULT_ENGINES_KEPT
    output_dir: str | None = None

    def __post_init__(self):
        self.engine()  # checks the weights, the precision and the tile size

    def engine(self, **fields) -> EngineOptions:
        """The `EngineOptions` of a visitor's `fields`, with the server's weights, precision and tile size."""
        return EngineOptions(weights=self.weights, precision=self.precision, tile_size=self.tile_size, **fields)

    @property
    def limits(self) -> Limits:
        return Limits(self.serve)


class Dreams:
    """The page's work: one engine cache, one output folder and the device's turns for every visitor.

    The output folder is `config.output_dir`, or a temporary one that
    `close()` removes with the server.
    """

    def __init__(self, config: ServerConfig):
        self.config = config
        self.limits = config.limits
        self.engines = EngineCache(config.engines_kept)
        self.owns_output_dir = config.output_dir is None
        self.output_dir = Path(config.output_dir or tempfile.mkdtemp(prefix="deepdream-web-")).resolve()
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.turns = DeviceTurns()
        self.outcomes: collections.Counter = collections.Counter()  # jobs done, cancelled, failed
        self._jobs: weakref.WeakSet[Job] = weakref.WeakSet()  # a running job is held by its thread

    # -- the options

    def options(self, layers, layer_weights, channel, guide, lapnorm, octaves, steps, step_size, jitter, seed,
                size, original_colors) -> tuple[EngineOptions, DreamOptions]:
        """The engine's and the dream's options of the Photo tab's controls, within the server's limits."""
        if guide:
            try:
                with _named_as_uploaded(guide):
                    self.limits.image_size(guide)
            except ValueError as error:
                raise ValueError(f"The guide cannot be used: {error}") from None
        engine = self.config.engine(layers=layer_spec(layers, layer_weights), channel=_channel(channel),
                                    guide=str(guide) if guide else None, max_side=int(size))
        dream = DreamOptions(octaves=int(octaves), steps=int(steps), step_size=float(step_size), jitter=int(jitter),
                             lapnorm=bool(lapnorm), seed=int(seed or 0), original_colors=bool(original_colors))
        self.limits.check(engine.max_side, dream.steps)
        return engine, dream

    def render_options(self, layer, channel, channels, param, size, octaves, steps,
                       seed) -> tuple[EngineOptions, DreamOptions, RenderOptions]:
        """The options of a render (`channel`) or a gallery (`channels`) from the From noise tab's controls."""
        engine = self.config.engine(layers=layer, channel=channel)
        dream = DreamOptions(octaves=int(octaves), steps=int(steps), seed=int(seed or 0))
        render = RenderOptions(noise=f"{int(size)}x{int(size)}", param=param, channels=channels)
        # A Fourier render's steps are its one octave, so it may take its own FFT_STEPS whatever the limit.
        most_steps = max(self.limits.serve.max_steps, FFT_STEPS) if param == "fft" else None
        self.limits.check(int(size), render.dream_for(dream).steps, most_steps=most_steps)
        return engine, dream, render

    def engine(self, engine: EngineOptions):
        """The `DeepDream` of these options, built once (the guide known by its SHA-256)."""
        guide = file_sha256(engine.guide) if engine.guide else None
        key = ("dream", engine.replace(guide=None, max_side=None), guide)
        return self.engines.get(key, lambda: jobs.build_engine(engine))

    def renderer(self, engine: EngineOptions):
        """The `Renderer` of these options, built once (the channel is each render's)."""
        key = ("render", engine.replace(channel=None, max_side=None))
        return self.engines.get(key, lambda: jobs.build_renderer(engine))

    # -- the files

    def new_output(self, name: str) -> Path:
        """A fresh path `output_dir/<id>/<name>`, after removing outputs older than an hour."""
        prune_outputs(self.output_dir, OUTPUT_MAX_AGE_S)
        folder = self.output_dir / uuid.uuid4().hex
        folder.mkdir()
        return folder / name

    def resumable_output(self, source, name: str, engine: EngineOptions,
                         *options) -> tuple[Path, EngineOptions, Path]:
        """Where a video or zoom job keeps its input, guide and output, so the same job asked again resumes.

        The folder is named by the SHA-256 of the upload's and the guide's
        bytes and of the options; the uploads are copied into it (Gradio's
        copies come and go), so the frames an interrupted job kept beside
        its output (`deepdream.frame_store`) match when the visitor asks again.

        Returns:
            `(source, engine, output)`: the kept input, the options naming
            the kept guide, and the output's path.
        """
        identity = dict(source=file_sha256(source), guide=file_sha256(engine.guide) if engine.guide else None,
                        engine=engine.replace(guide=None).as_dict(), options=[item.as_dict() for item in options])
        digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
        prune_outputs(self.output_dir, OUTPUT_MAX_AGE_S)
        folder = self.output_dir / f"job-{digest[:32]}"
        folder.mkdir(exist_ok=True)
        os.utime(folder)  # a job tried again is kept an hour from this try
        kept = _kept_copy(source, folder / _original_name(source))
        if engine.guide:
            engine = engine.replace(guide=str(_kept_copy(engine.guide, folder / "guide" / _original_name(engine.guide))))
        return kept, engine, folder / name

    def load_photo(self, path) -> np.ndarray:
        """The upload at full size, as the command line reads it; raises `ValueError` with one line for a bad file."""
        with _named_as_uploaded(path):
            return self.limits.read_image(path)

    def preview(self, path) -> tuple[np.ndarray, tuple[int, int]]:
        """A copy of the upload to show, at most the server's largest side (a JPEG decoded small), and its own size."""
        with _named_as_uploaded(path):
            size = self.limits.image_size(path)
            return self.limits.read_image(path, side=self.limits.serve.max_side), size

    def camera_frame(self, payload, side: int) -> np.ndarray:
        """A camera frame as the browser sends it (a data URL, or a file uploaded first), within `side`.

        The frame is read like any upload (`Limits.read_image`): its header
        checked before it is decoded, a JPEG decoded small.
        """
        payload = payload if isinstance(payload, dict) else {}
        if payload.get("path"):
            with _named_as_uploaded(payload["path"]):
                return self.limits.read_image(payload["path"], side)
        header, _, encoded = (payload.get("url") or "").partition(",")
        if not (header.startswith("data:") and header.endswith(";base64")):
            raise ValueError("A camera frame must be an image sent as a data URL.")
        if len(encoded) // 4 * 3 > self.limits.serve.max_upload_bytes:
            raise ValueError(f"A camera frame is over this server's {self.limits.serve.max_upload_mb:g} MB.")
        try:
            data = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise ValueError("A camera frame's data URL is not base64.") from None
        with tempfile.NamedTemporaryFile(dir=self.output_dir, prefix="camera-", suffix=".frame") as file:
            file.write(data)
            file.flush()
            try:
                return self.limits.read_image(file.name, side)
            except ValueError as error:
                raise ValueError(str(error).replace(file.name, "the camera frame")) from None

    # -- the modes

    def photo(self, photo, *controls, progress=None):
        """Yields `(preview, status, download, command)` while dreaming `photo`; the last is the result."""
        from inception_keras.images import save_image

        image = self.load_photo(photo)
        engine, dream = self.options(*controls)
        image = jobs.fit_max_side(image, engine.max_side)

        def work(job):
            dreamer = self.engine(engine)
            return jobs.dream_image(dreamer, image, dream, job.hooks(previews=True)), dreamer.precision

        (result, precision), _ = yield from self._followed(
            work, progress, "dreaming", "steps",
            lambda state: (state.preview, self.status(state, "steps"), None, None))
        recorded = settings.build("still", engine, dream, precision)  # as jobs.dream_still records it
        output = self.new_output(f"{Path(_original_name(photo)).stem}_dream.png")
        with _removed_if_failed(output.parent):
            save_image(result, output, metadata=settings.image_metadata(recorded))
        command = settings.command_line(recorded, _original_name(photo), output.name)
        yield result, f"Done: {result.shape[1]}x{result.shape[0]} pixels.", str(output), command

    def render(self, layer, channel, param, size, octaves, steps, seed, progress=None):
        """Renders one channel from noise (`jobs.render`); returns `(image, status, download, command)`."""
        engine, dream, render = self.render_options(layer, _channel(channel), None, param, size, octaves, steps,
                                                    seed)
        if progress is not None:
            progress(0.0, desc="rendering")
        output = self.new_output(f"render_{layer}{'' if engine.channel is None else f'_c{engine.channel}'}.png")
        with _removed_if_failed(output.parent), self.turns.job():
            jobs.render(output, engine, dream, render, renderer=self.renderer(engine))
        return str(output), "Done.", str(output), _command(output)

    def gallery(self, layer, first, count, param, size, octaves, steps, seed, progress=None):
        """Yields `(cells, status, download, command)` as each channel of the gallery is rendered."""
        first, count = int(first), int(count)
        if not 1 <= count <= MAX_GALLERY_CELLS:
            raise ValueError(f"A gallery on this page has 1 to {MAX_GALLERY_CELLS} channels. Received: {count}")
        channels = tuple(range(first, first + count))
        engine, dream, render = self.render_options(layer, None, channels, param, size, octaves, steps, seed)
        output = self.new_output(f"gallery_{layer}_c{channels[0]}-{channels[-1]}.png")
        cells = []

        def work(job):
            job.step(0, count)
            return jobs.render_gallery(output, engine, dream, render, renderer=self.renderer(engine),
                                       hooks=job.hooks(),
                                       on_cell=lambda channel, image: cells.append((image, f"{layer}:{channel}")))

        with _removed_if_failed(output.parent):
            yield from self._followed(work, progress, "rendering channels", "channels",
                                      lambda state: (list(cells), self.status(state, "channels"), None, None))
        yield cells, "Done: click a channel to dream it on your photo.", str(output), _command(output)

    def video(self, clip, frames, frame_steps, *controls, progress=None):
        """Yields `(status, video, download, command)` while dreaming the first `frames` frames of `clip`.

        The job is `jobs.dream_video` (flows computed ahead, frames kept for
        a resume): the same clip with the same settings, asked again after
        an interruption, continues from the frames finished.
        """
        with _named_as_uploaded(clip):
            self.limits.probe_video(clip)
        engine, dream = self.options(*controls)
        video = VideoOptions(frame_steps=int(frame_steps), max_frames=int(frames), resume=True)
        yield from self._frames(jobs.dream_video, clip, "_dream.mp4", engine, dream, video, video.max_frames,
                                progress)

    def zoom(self, photo, frames, zoom, *controls, progress=None):
        """Yields `(status, video, download, command)` while making a zoom animation from `photo` (`jobs.dream_zoom`)."""
        with _named_as_uploaded(photo):
            self.limits.image_size(photo)  # a bad upload is refused before any work
        engine, dream = self.options(*controls)
        zoom = ZoomOptions(frames=int(frames), zoom=float(zoom), resume=True)
        yield from self._frames(jobs.dream_zoom, photo, "_zoom.mp4", engine, dream, zoom, zoom.frames, progress)

    def live(self, payload, state, *controls):
        """Dreams one camera frame through the video mode's flow carry; returns `(dream, state, frames per second)`.

        `payload` is the frame as the browser sends it (`camera_frame`);
        `state` holds the visitor's `FrameDreamer` (the previous dream, warped
        forward to each new frame) and the times of the last frames. The frame
        takes the device only when no queued job runs or waits; otherwise
        the dream is `None` (the last one stays) and the line says why.
        """
        from deepdream.colors import keep_colors
        from deepdream.video_dream import FrameDreamer

        if payload is None:
            return None, state, ""
        engine, dream = self.options(*controls)
        engine = engine.replace(max_side=min(LIVE_SIDE, self.limits.serve.max_side))
        dream = dream.replace(octaves=1, steps=LIVE_STEPS)
        video = VideoOptions(frame_steps=LIVE_STEPS, flow_preset=LIVE_FLOW_PRESET)
        with self.turns.frame() as free:
            if not free:
                return None, state, "Paused: another visitor's job is running; the camera goes on after it."
            frame = self.camera_frame(payload, engine.max_side)
            key = (engine, dream, frame.shape)
            if state is None or state["key"] != key:
                dreamer = FrameDreamer(self.engine(engine), dream.engine_kwargs(), frame_steps=video.frame_steps,
                                       blend=video.blend, flow=video.flow, flow_preset=video.flow_preset)
                state = {"key": key, "dreamer": dreamer, "times": collections.deque(maxlen=10)}
            dreamed = state["dreamer"].dream(frame)
        if dream.original_colors:
            dreamed = keep_colors(dreamed, frame)
        state["times"].append(time.monotonic())
        times = state["times"]
        rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0
        return dreamed, state, f"{rate:.1f} frames per second at {frame.shape[1]}x{frame.shape[0]}"

    def status(self, state: Progress, unit: str) -> str:
        """`3/12 steps, about 40 s left.`, and the job's message (a resume) without the server's folders."""
        eta = state.eta_s
        left = "" if eta is None else f", about {eta:.0f} s left"
        return f"{state.done}/{state.total} {unit}{left}.{self.message(state)}"

    def message(self, state: Progress) -> str:
        """The job's message as a sentence to append (" Resuming with 2 of 4 frames finished."), or ""."""
        if not state.message:
            return ""
        text = re.sub(rf" in {re.escape(str(self.output_dir))}\S*", "", state.message)
        return f" {text[0].upper()}{text[1:]}."

    def _frames(self, run, upload, tag: str, engine: EngineOptions, dream: DreamOptions, extra, frames: int,
                progress):
        """Runs a video or zoom job in its resumable folder; yields its status as it goes, then the video.

        Args:
            run: `jobs.dream_video` or `jobs.dream_zoom`.
            upload: the clip or photo uploaded.
            tag: the output's name after the upload's stem, `_dream.mp4` or `_zoom.mp4`.
            extra: the job's `VideoOptions` or `ZoomOptions`.
            frames: the frames asked for.
        """
        self.limits.check(None, extra.frame_steps, frames=frames)
        name = _original_name(upload)
        source, engine, output = self.resumable_output(upload, f"{Path(name).stem}{tag}", engine, dream, extra)
        with _removed_if_failed(output.parent), _named_as_uploaded(upload, source):
            _, last = yield from self._followed(
                lambda job: run(source, output, engine, dream, extra, dreamer=self.engine(engine), hooks=job.hooks(),
                                even_sides=True),
                progress, "dreaming frames", "frames", lambda state: (self.status(state, "frames"), None, None, None))
        yield f"Done: {last.total} frames.{self.message(last)}", str(output), str(output), _command(output, name)

    def _followed(self, work, progress, what: str, unit: str, shown):
        """Runs `work(job)` on a `Job`; yields `shown(progress)` as it reports; returns `(result, last progress)`.

        `progress` is Gradio's progress bar, or `None`. A closed tab closes
        this generator, which cancels the job at its next report. The work
        runs in its turn on the device (`DeviceTurns.job`).
        """
        def in_turn(job):
            with self.turns.job():
                return work(job)

        job = Job(in_turn, self._ended)
        self._jobs.add(job)
        try:
            for state in job.updates():
                if progress is not None:
                    progress((state.done, state.total), desc=what, unit=unit)
                yield shown(state)
            return job.result(), job.snapshot()
        finally:
            job.cancel()

    def _ended(self, outcome: str) -> None:
        self.outcomes[outcome] += 1

    def close(self, wait_s: float = SHUTDOWN_WAIT_S) -> None:
        """Cancels the running jobs, waits up to `wait_s` for them, and removes the output folder the server made.

        A folder named in `config.output_dir` stays, with what is in it.
        """
        running = list(self._jobs)
        for job in running:
            job.cancel()
        deadline = time.monotonic() + wait_s
        for job in running:
            job.wait(max(0.0, deadline - time.monotonic()))
        if self.owns_output_dir:
            shutil.rmtree(self.output_dir, ignore_errors=True)


def build_app(config: ServerConfig):
    """The page (`gradio.Blocks`) of a server with `config`; call `.queue(...)` and `.launch(...)`, or `launch`."""
    import gradio as gr

    from inception_keras.introspection import build_for_size, tap_points

    from deepdream.options import parse_layer_spec

    dreams = Dreams(config)
    serve = config.serve
    default_terms = parse_layer_spec(DEFAULT_LAYERS)
    points = tap_points(build_for_size(299, 299))
    layer_choices = [(f"{p.name} · {p.channels} channels · sees {p.receptive_field} px", p.name) for p in points]
    names = [p.name for p in points]
    render_side = RenderOptions().size[1]

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
                            seed = gr.Number(label="Seed", precision=0, **_control(DreamOptions, "seed"),
                                             elem_id="seed")
                        size = gr.Slider(label="Largest side (pixels)",
                                         **_control(EngineOptions, "max_side", most=serve.max_side), elem_id="size")
                        octaves = gr.Slider(label="Octaves", **_control(DreamOptions, "octaves"), elem_id="octaves")
                        steps = gr.Slider(label="Steps per octave", **_control(DreamOptions, "steps",
                                                                               most=serve.max_steps),
                                          elem_id="steps")
                        step_size = gr.Number(label="Step size", **_control(DreamOptions, "step_size", step=0.001),
                                              elem_id="step_size")
                        jitter = gr.Slider(label="Jitter (pixels)", **_control(DreamOptions, "jitter"),
                                           elem_id="jitter")
                        original_colors = gr.Checkbox(DreamOptions.original_colors, label="Keep the photo's colours",
                                                      info=_help(DreamOptions, "original_colors"),
                                                      elem_id="original_colors")
                        with gr.Accordion("Guide and normalisation", open=False):
                            guide = gr.File(label="Guide image (optional)", file_types=["image"], type="filepath",
                                            elem_id="guide")
                            lapnorm = gr.Checkbox(DreamOptions.lapnorm, label="Laplacian normalisation",
                                                  elem_id="lapnorm")
                        dream_button = gr.Button("Dream", variant="primary", elem_id="dream")
                        estimate = gr.Markdown("", elem_id="estimate")
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
                atlas_panels = atlas_tab.build_panels(gr, serve.atlas)
            with gr.Tab("From noise", id="noise"):
                with gr.Row():
                    with gr.Column(scale=1):
                        r_layer = gr.Dropdown(names, value=RENDER_LAYER, label="Layer", elem_id="r_layer")
                        r_param = gr.Radio(list(PARAMETERIZATIONS), value=RenderOptions.param,
                                           label="Parameterisation", elem_id="r_param")
                        r_size = gr.Slider(MIN_SIDE, min(serve.max_side, MAX_RENDER_SIDE),
                                           value=min(render_side, serve.max_side), step=1, label="Size (pixels)",
                                           elem_id="r_size")
                        r_octaves = gr.Slider(label="Octaves (pixel)", **_control(DreamOptions, "octaves"),
                                              elem_id="r_octaves")
                        r_steps = gr.Slider(label=f"Steps (fft: {FFT_STEPS} when left at {DreamOptions.steps})",
                                            **_control(DreamOptions, "steps", most=max(serve.max_steps, FFT_STEPS)),
                                            elem_id="r_steps")
                        r_seed = gr.Number(label="Seed", precision=0, **_control(DreamOptions, "seed"),
                                           elem_id="r_seed")
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
                gr.Markdown(f"Uses the Photo tab's layers and settings. At most {serve.max_frames} frames. "
                            "A job stopped half-way continues where it stopped when asked again.")
                with gr.Row():
                    with gr.Column(scale=1):
                        clip = gr.File(label="Clip", file_types=["video"], type="filepath", elem_id="clip")
                        v_shots = shot_table(gr)
                        v_frames = gr.Slider(label="Frames (from the start)",
                                             **_control(VideoOptions, "max_frames", most=serve.max_frames),
                                             elem_id="v_frames")
                        v_frame_steps = gr.Slider(label="Steps per later frame",
                                                  **_control(VideoOptions, "frame_steps", most=serve.max_steps),
                                                  elem_id="v_frame_steps")
                        video_button = gr.Button("Dream the clip", variant="primary", elem_id="video_button")
                        z_frames = gr.Slider(label="Zoom: frames (from the Photo tab's photo)",
                                             **_control(ZoomOptions, "frames", most=serve.max_frames),
                                             elem_id="z_frames")
                        z_zoom = gr.Slider(label="Zoom per frame", **_control(ZoomOptions, "zoom", step=0.01),
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
            if serve.atlas:
                atlas_tab.build_atlas_tab(gr, atlas_panels, serve.atlas)

        controls = [layers, layer_weights, channel, guide, lapnorm, octaves, steps, step_size, jitter, seed, size,
                    original_colors]
        render_controls = [r_param, r_size, r_octaves, r_steps, r_seed]

        # `progress=gr.Progress()` defaults are how Gradio hands a job its progress bar.
        def show_photo(path):
            if path is None:
                return None, "Upload a photo to start."
            try:
                image, (width, height) = dreams.preview(path)
            except ValueError as error:
                LOG.warning("visitor error: %s", _one_line(error))
                return None, f"**This file cannot be dreamed:** {_one_line(error)}"
            return image, f"Photo: {width}x{height} pixels. Press **Dream**."

        def dream_photo(path, *values, progress=gr.Progress()):  # noqa: B008
            yield from _shown_errors(dreams.photo(path, *values, progress=progress), gr)

        def render_channel(layer, channel_value, *values, progress=gr.Progress()):  # noqa: B008
            with _visitor_errors(gr):
                return dreams.render(layer, channel_value, *values, progress=progress)

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

        # A preview decodes the upload (small, but a PNG in full): one at a time, in its own queue.
        photo.upload(show_photo, photo, [shown, status], api_name="load_photo", concurrency_id=PREVIEW,
                     concurrency_limit=1)
        photo.clear(show_photo, photo, [shown, status], queue=False, api_visibility="private")
        dream_button.click(dream_photo, [photo, *controls], [shown, status, download, command], api_name="dream",
                          concurrency_id=DEVICE)
        estimates.wire(dreams, photo, controls, estimate)
        render_button.click(render_channel, [r_layer, r_channel, *render_controls],
                            [r_image, r_status, r_download, r_command], api_name="render",
                            concurrency_id=DEVICE)
        gallery_button.click(render_gallery, [r_layer, g_first, g_count, *render_controls],
                             [cells, r_status, r_download, r_command], api_name="gallery",
                             concurrency_id=DEVICE)
        cells.select(chosen_cell, [r_layer], [layers, layer_weights, channel, tabs], queue=False,
                     api_visibility="private").then(dream_photo, [photo, *controls], [shown, status, download, command],
                                          api_visibility="private", concurrency_id=DEVICE)

        def list_clip_shots(path, frames):
            if not path:
                return []
            with _visitor_errors(gr), _named_as_uploaded(path):
                return shot_rows(path, dreams.limits, int(frames))

        clip.upload(list_clip_shots, [clip, v_frames], v_shots, api_name="shots", concurrency_id=PREVIEW,
                    concurrency_limit=1)
        for chosen in atlas_tab.wire(gr, atlas_panels, dreams, serve.atlas, photo, [layers, layer_weights, channel, tabs],
                                     DEVICE):
            chosen.then(dream_photo, [photo, *controls], [shown, status, download, command], api_visibility="private",
                        concurrency_id=DEVICE)
        video_button.click(dream_video, [clip, v_frames, v_frame_steps, *controls],
                           [v_status, v_video, v_download, v_command], api_name="video",
                           concurrency_id=DEVICE)
        zoom_button.click(dream_zoom, [photo, z_frames, z_zoom, *controls],
                          [v_status, v_video, v_download, v_command], api_name="zoom",
                          concurrency_id=DEVICE)
        def dream_live(frame, state, layer_names, weights, channel_value, guide_file, *values):
            # Unprocessed inputs: the frame as the browser sent it (checked before decoding), the guide as file data.
            guide_path = guide_file.get("path") if isinstance(guide_file, dict) else guide_file
            with _visitor_errors(gr):
                dreamed, state, rate = dreams.live(frame, state, layer_names, weights, channel_value, guide_path,
                                                   *values)
            return gr.skip() if dreamed is None else dreamed, state, rate

        # Its own slots, not the device's: each frame takes the device in turn (DeviceTurns), so a stream never
        # holds a queued job up by more than one frame; a stream ends at its time limit or when its tab closes.
        camera.stream(dream_live, [camera, live_state, *controls], [live_dream, live_state, live_rate],
                      stream_every=0.25, time_limit=LIVE_TIME_LIMIT_S, api_visibility="private",
                      concurrency_id=LIVE, concurrency_limit=LIVE_STREAMS, preprocess=False)
    return demo


def launch(config: ServerConfig, block: bool = True, quiet: bool = False):
    """Builds the page, queues it (one job at a time, `config.serve.queue_size` waiting) and serves it.

    The address, the password and the upload limit are `config.serve`'s;
    with a password, wrong logins slow down per client address
    (`deepdream.web.logins`). When the server stops (`close()`, Ctrl-C,
    SIGTERM) its running jobs are cancelled and its temporary output folder
    removed (`Dreams.close`). Returns the `gradio.Blocks` (its `local_url`,
    `close()`, `dreams`); with `block` it returns only once the server
    stopped, and Ctrl-C or SIGTERM reach the caller as `KeyboardInterrupt`.
    Without `block`, call `demo.close()` and then `demo.dreams.close()` to be
    sure the folder is gone before the process ends.
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr
    from starlette.middleware import Middleware

    from deepdream.web.logins import LoginThrottle, password_check

    serve = config.serve
    demo = build_app(config)
    dreams = demo.dreams
    demo.queue(max_size=serve.queue_size, default_concurrency_limit=1)

    @contextlib.asynccontextmanager
    async def cleaned_up_at_the_end(app):
        yield
        dreams.close()

    app_kwargs = {"lifespan": cleaned_up_at_the_end}
    if serve.credentials:
        app_kwargs["middleware"] = [Middleware(LoginThrottle)]
    theme = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"])
    demo.launch(server_name=serve.host, server_port=serve.port,
                auth=password_check(*serve.credentials) if serve.credentials else None,
                prevent_thread_lock=True, quiet=quiet, max_file_size=serve.max_upload_bytes,
                allowed_paths=[str(dreams.output_dir), *filter(None, [serve.atlas])], show_error=True, ssr_mode=False,
                theme=theme,
                footer_links=[], app_kwargs=app_kwargs)
    if block:
        try:
            while demo.is_running:
                time.sleep(0.2)
        finally:
            # Gradio's close can wait on a connection a visitor abandoned: bounded, so a stop always ends.
            closing = threading.Thread(target=demo.close, kwargs=dict(verbose=not quiet), daemon=True,
                                       name="deepdream-close")
            closing.start()
            closing.join(CLOSE_TIMEOUT_S)
            dreams.close()  # again, in case the server's own end was cut short
    return demo


def _control(cls, name: str, most=None, step=1) -> dict:
    """`minimum`, `maximum`, `value` and `step` of the control of the field `name` of `cls`.

    The range is the field's (an exclusive bound one `step` inside), its
    top capped by `most` (a server limit); the value is the field's default,
    or the top where the default is "no limit" (`None`).
    """
    meta = _field(cls, name).metadata
    low = meta["least"] if meta["least"] is not None else meta["above"] + step
    high = meta["most"] if meta["most"] is not None else meta["below"] - step
    high = high if most is None else min(high, most)
    default = getattr(cls, name)
    return dict(minimum=low, maximum=high, value=high if default is None else min(default, high), step=step)


def _help(cls, name: str) -> str:
    """The field's help text, as a sentence."""
    text = _field(cls, name).metadata["help"]
    return f"{text[0].upper()}{text[1:]}."


def _field(cls, name: str) -> dataclasses.Field:
    return next(field for field in dataclasses.fields(cls) if field.name == name)


def _channel(value) -> int | None:
    """A channel box: blank for every channel, else one whole number."""
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is None or not number.is_integer():
        raise ValueError(f"`channel` must be a whole number, or blank for every channel. Received: channel={text!r}")
    return int(number)


def _kept_copy(source, target: Path) -> Path:
    """`target`, a copy of the file `source` made once (atomically)."""
    if not target.is_file():
        target.parent.mkdir(exist_ok=True)
        with atomic_path(target) as temp_path:
            shutil.copyfile(source, temp_path)
    return target


def _command(output: Path, input_name: str = "photo.jpg") -> str:
    """The command line that repeats the settings `output` holds, on `input_name`."""
    return settings.command_line(settings.read(output), input_name, output.name)


@contextlib.contextmanager
def _named_as_uploaded(*paths):
    """A `ValueError` about an upload names the visitor's file, not the server's copies of it."""
    try:
        yield
    except ValueError as error:
        text = str(error)
        for path in paths:
            text = text.replace(str(path), _original_name(path))
        raise ValueError(text) from None


@contextlib.contextmanager
def _removed_if_failed(folder: Path):
    """Removes a job's `folder` when the job fails; a cancelled or interrupted job's stays (its frames resume it)."""
    try:
        yield
    except Cancelled:
        raise
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _shown_errors(updates, gr):
    """Passes the updates of a job on; a `ValueError` (bad input, a limit) becomes a message on the page."""
    with _visitor_errors(gr):
        for update in updates:
            yield tuple(gr.skip() if value is None else value for value in update)


@contextlib.contextmanager
def _visitor_errors(gr):
    """A `ValueError` (bad input, a limit) becomes a message on the page and one line in the log, no traceback."""
    try:
        yield
    except ValueError as error:
        LOG.warning("visitor error: %s", _one_line(error))
        raise gr.Error(_one_line(error), print_exception=False) from None
    except Cancelled:
        raise gr.Error("The job was stopped: the server is shutting down.", print_exception=False) from None


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def _original_name(path) -> str:
    """Gradio keeps an upload's own file name as the last part of its path."""
    return Path(str(path)).name
