"""Reading and writing videos with PyAV, one frame at a time.

`read_video` yields `(H, W, 3)` uint8 RGB frames from .mp4, .mov, .mkv, .webm,
.avi or an animated .gif; `write_video` encodes any iterable of such frames to
.mp4/.mov/.mkv (H.264, yuv420p, constant quality `crf`), an animated .gif or an
animated .webp, copying the audio packets of a source video unchanged. Neither
holds more than a frame or two in memory, so a clip's length does not change
the memory a run needs. A file that is not a video, has no frames or is cut
short raises `ValueError` with one line that names it.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import av
import numpy as np

from inception_keras.files import atomic_path

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".webm", ".avi", ".gif"})
H264_SUFFIXES = frozenset({".mp4", ".mov", ".mkv"})
OUTPUT_SUFFIXES = H264_SUFFIXES | {".gif", ".webp"}
DEFAULT_CRF = 18
DEFAULT_FPS = Fraction(24)
WEBP_QUALITY = 85
# FFmpeg demuxers of the input containers (FFmpeg would also "read" a text file as ANSI art).
INPUT_DEMUXERS = frozenset({"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi", "gif"})
# FFmpeg's GIF timing is in 1/100 s; faster rates play wrongly in browsers.
MAX_GIF_FPS = 50
# The clock of a variable-rate H.264 output's time stamps.
EXACT_TIME_BASE = Fraction(1, 90_000)


@dataclasses.dataclass(frozen=True)
class VideoInfo:
    """What a video file holds, read from its header and its packets (nothing decoded).

    `frame_times` are the frames' presentation times in seconds from the
    first frame, in order.
    """

    path: Path
    width: int
    height: int
    fps: Fraction
    frame_count: int
    has_audio: bool
    frame_times: tuple[float, ...] = ()

    def retiming_error(self, fps, count: int | None = None) -> float:
        """The most seconds any of the first `count` frames would move if shown at a constant `fps`."""
        times = self.frame_times[:count]
        return max((abs(t - index / float(fps)) for index, t in enumerate(times)), default=0.0)

    def variable_rate(self, count: int | None = None) -> bool:
        """Whether the frames' times stray from the average rate by more than half a frame."""
        return self.retiming_error(self.fps, count) > 0.5 / float(self.fps)


def probe_video(path) -> VideoInfo:
    """Reads a video's size, rate, audio and frame count; demuxes every packet (decodes none).

    The packets are counted against the frame count or duration the header
    announces, so a file cut short is found before any frame is dreamed.

    Raises:
        ValueError: the file is missing, empty, not a video, has no frames,
            or holds fewer frames than its header announces (truncated).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"Input video not found: {path}")
    if path.stat().st_size == 0:
        raise ValueError(f"Input video is empty (0 bytes): {path}")
    with _opened(path) as container:
        stream = _video_stream(container, path)
        announced = stream.frames
        packets, end, times = 0, 0.0, []
        try:
            for packet in container.demux():
                if packet.size == 0:
                    continue
                if packet.stream.index == stream.index:
                    packets += 1
                    if packet.pts is not None and packet.time_base is not None:
                        times.append(float(packet.pts * packet.time_base))
                if packet.pts is not None and packet.time_base is not None:
                    end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
        except av.error.FFmpegError as error:
            raise ValueError(f"Input video is unreadable or truncated: {path} ({error})") from None
        info = VideoInfo(
            path=path, width=stream.codec_context.width, height=stream.codec_context.height,
            fps=_frame_rate(stream), frame_count=packets,
            has_audio=any(s.type == "audio" for s in container.streams),
            frame_times=tuple(t - min(times) for t in sorted(times)) if len(times) == packets else (),
        )
        start = (container.start_time or 0) / av.time_base
        announced_seconds = (container.duration or 0) / av.time_base
    if packets == 0:
        raise ValueError(f"Input video has no frames: {path}")
    if announced and packets < announced:
        raise ValueError(
            f"Input video is truncated: {path} holds {packets} of the {announced} frames its header announces."
        )
    if announced_seconds and end - start < announced_seconds - max(0.25, 3 / info.fps):
        raise ValueError(
            f"Input video is truncated: {path} ends at {end - start:.2f} s of the "
            f"{announced_seconds:.2f} s its header announces."
        )
    return info


def read_video(path, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """Yields the frames of a video as `(H, W, 3)` uint8 RGB arrays, decoding one at a time.

    Args:
        path: a video file (.mp4, .mov, .mkv, .webm, .avi, animated .gif).
        max_frames: stop after this many frames. Defaults to `None`: all.

    Raises:
        ValueError: the file cannot be opened or decoding fails part-way
            (the frames before the failure have been yielded).
    """
    path = Path(path)
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"`max_frames` must be at least 1. Received: max_frames={max_frames}")
    count = 0
    with _opened(path) as container:
        stream = _video_stream(container, path)
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                yield frame.to_ndarray(format="rgb24")
                count += 1
                if max_frames is not None and count >= max_frames:
                    return
        except av.error.FFmpegError as error:
            raise ValueError(f"Input video is unreadable or truncated after {count} frames: {path} ({error})") from None
    if count == 0:
        raise ValueError(f"Input video has no frames: {path}")


def write_video(frames: Iterable[np.ndarray], path, fps=DEFAULT_FPS, crf: int = DEFAULT_CRF,
                audio_from=None, trim_audio: bool = False, metadata: dict[str, str] | None = None,
                times: Sequence[float] | None = None) -> Path:
    """Encodes `frames` to `path` atomically, frame by frame; returns `path`.

    The format follows the extension: .mp4, .mov or .mkv (H.264, yuv420p,
    constant quality `crf`), .gif (a palette per frame) or .webp (animated).
    Frames with an odd side keep their size: H.264 is then yuv444p (High
    4:4:4, which some browsers and QuickTime do not play).

    Args:
        frames: `(H, W, 3)` uint8 RGB arrays, all of one size.
        path: the output file; it appears only once every frame is written.
        fps: frames per second (a `Fraction` keeps 30000/1001 exact).
            Defaults to 24.
        crf: H.264 constant rate factor, 0 (lossless) to 51. Defaults to 18.
        audio_from: a video whose first audio stream is copied packet by
            packet (not re-encoded) into an H.264 output, cut at the end of
            the written frames. Defaults to `None`.
        trim_audio: drop the audio packets that start after the last frame
            (for a clip cut short with `max_frames`). Defaults to `False`:
            every packet is copied.
        metadata: container tags, such as `{"comment": ...}` (the keys an
            MP4 keeps: title, comment, description, ...). Defaults to `None`.
        times: each frame's time in seconds, for an H.264 output that keeps
            a variable-rate clip's timing (`VideoInfo.frame_times`); frames
            past its end follow at `fps`. Defaults to `None`: a constant `fps`.

    Raises:
        ValueError: an unknown extension, a bad `fps` or `crf`, no frames,
            or frames of mixed sizes.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    check_output_suffix(path)
    fps = Fraction(fps).limit_denominator(1001)
    if not 0 < fps <= 1000:
        raise ValueError(f"`fps` must be above 0 and at most 1000. Received: fps={float(fps)}")
    if not 0 <= crf <= 51:
        raise ValueError(f"`crf` must be between 0 and 51. Received: crf={crf}")
    muxer_options = {"loop": "0"} if suffix == ".webp" else {}
    with atomic_path(path) as temp_path, av.open(str(temp_path), "w", format=_muxer(suffix),
                                                options=muxer_options) as container:
        container.metadata.update(metadata or {})
        audio = _AudioCopy(audio_from, container) if audio_from is not None and suffix in H264_SUFFIXES else None
        stream = None
        count = 0
        times = list(times) if times is not None and suffix in H264_SUFFIXES else None

        def time_of(index: int) -> float:
            if times is None:
                return index / fps
            return times[index] if index < len(times) else times[-1] + (index - len(times) + 1) / fps

        for frame in frames:
            frame = np.ascontiguousarray(frame)
            if stream is None:
                stream = _add_video_stream(container, suffix, fps, crf, frame.shape, exact_times=times is not None)
            elif frame.shape != (stream.height, stream.width, 3):
                raise ValueError(
                    f"Every frame must be {stream.width}x{stream.height} RGB. Received: shape={frame.shape}"
                )
            video_frame = _to_video_frame(frame, suffix, count)
            if times is not None:
                video_frame.pts = round(time_of(count) / EXACT_TIME_BASE)
                video_frame.time_base = EXACT_TIME_BASE
            for packet in stream.encode(video_frame):
                container.mux(packet)
            count += 1
            if audio is not None:
                audio.copy_until(time_of(count))
        if stream is None:
            raise ValueError(f"No frames to write to {path}.")
        container.mux(stream.encode())
        if audio is not None:
            audio.copy_until(time_of(count) if trim_audio else math.inf)
            audio.close()
    return path


def check_output_suffix(path) -> None:
    """Raises `ValueError` unless `path` ends in a video extension `write_video` can write."""
    if Path(path).suffix.lower() not in OUTPUT_SUFFIXES:
        raise ValueError(
            f"Cannot write a video to {path}: use one of {', '.join(sorted(OUTPUT_SUFFIXES))}."
        )


def _opened(path: Path):
    try:
        container = av.open(str(path), "r")
    except (av.error.FFmpegError, UnicodeDecodeError) as error:
        raise ValueError(f"Not a video file (or an unsupported or truncated one): {path} ({error})") from None
    if container.format.name not in INPUT_DEMUXERS:
        container.close()
        raise ValueError(
            f"Not a video file: {path} reads as {container.format.long_name!r}; "
            f"give an {', '.join(sorted(VIDEO_SUFFIXES))} file."
        )
    return container


def _video_stream(container, path: Path):
    if not container.streams.video:
        container.close()
        raise ValueError(f"The file has no video stream: {path}")
    return container.streams.video[0]


def _frame_rate(stream) -> Fraction:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and 0 < rate <= 1000:
            return Fraction(rate)
    return DEFAULT_FPS


def _muxer(suffix: str) -> str:
    return {".mkv": "matroska", ".webp": "webp"}.get(suffix, suffix[1:])


def _add_video_stream(container, suffix: str, fps: Fraction, crf: int, shape: tuple, exact_times: bool = False):
    height, width = shape[:2]
    if len(shape) != 3 or shape[2] != 3:
        raise ValueError(f"Frames must be (H, W, 3) RGB. Received: shape={shape}")
    if suffix == ".gif":
        stream = container.add_stream("gif", rate=min(fps, Fraction(MAX_GIF_FPS)))
        stream.pix_fmt = "pal8"
    elif suffix == ".webp":
        stream = container.add_stream("libwebp_anim", rate=fps, options={"quality": str(WEBP_QUALITY)})
        stream.pix_fmt = "yuv420p"
    else:
        stream = container.add_stream("libx264", rate=fps, options={"crf": str(crf)})
        # x264 refuses odd sides in 4:2:0 (even its crop is in whole chroma samples); 4:4:4 keeps them.
        stream.pix_fmt = "yuv444p" if width % 2 or height % 2 else "yuv420p"
        if exact_times:  # each frame's own time stamp, in MPEG's 90 kHz clock
            stream.codec_context.time_base = stream.time_base = EXACT_TIME_BASE
    stream.width, stream.height = width, height
    return stream


def _to_video_frame(frame: np.ndarray, suffix: str, index: int) -> av.VideoFrame:
    if frame.dtype != np.uint8:
        raise ValueError(f"Frames must be uint8. Received: dtype={frame.dtype}")
    if suffix == ".gif":
        video_frame = av.VideoFrame.from_ndarray(_palette_image(frame), format="pal8")
    else:
        video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
    video_frame.pts = index
    return video_frame


def _palette_image(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The frame in 256 colours of its own (median cut, dithered) and its ARGB palette."""
    from PIL import Image

    quantized = Image.fromarray(frame).quantize(256, method=Image.Quantize.MEDIANCUT,
                                                dither=Image.Dither.FLOYDSTEINBERG)
    rgb = np.zeros((256, 3), np.uint8)
    used = np.frombuffer(bytes(quantized.getpalette()[: 256 * 3]), np.uint8).reshape(-1, 3)
    rgb[: len(used)] = used
    palette = np.concatenate([np.full((256, 1), 255, np.uint8), rgb], axis=1)
    return np.asarray(quantized, np.uint8), palette


class _AudioCopy:
    """Copies the first audio stream of a source video into an output, packet by packet."""

    def __init__(self, source, container):
        self.source = av.open(str(source), "r")
        audio = self.source.streams.audio
        self.input = audio[0] if audio else None
        self.output = None
        if self.input is not None:
            codec = self.input.codec_context.name
            if codec not in container.supported_codecs:
                import warnings

                warnings.warn(f"The audio ({codec}) cannot go into this container and is left out.", stacklevel=3)
                self.input = None
            else:
                self.output = container.add_stream_from_template(self.input)
        self.container = container
        self.packets = self.source.demux(self.input) if self.input is not None else iter(())
        self.pending = None

    def copy_until(self, seconds: float) -> None:
        """Muxes the audio packets that start before `seconds` (the end of the video so far)."""
        while True:
            packet = self.pending if self.pending is not None else next(self.packets, None)
            self.pending = None
            if packet is None:
                return
            if packet.size == 0 or packet.dts is None:
                continue
            start = float(packet.pts * packet.time_base) if packet.pts is not None else 0.0
            if start >= seconds and not math.isclose(start, seconds):
                self.pending = packet
                return
            packet.stream = self.output
            self.container.mux(packet)

    def close(self) -> None:
        self.source.close()
