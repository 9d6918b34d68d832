"""Tiny videos made with PyAV for the tests: a bright square moving across a textured background."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

CODECS = {".mp4": "libx264", ".mov": "libx264", ".mkv": "libx264", ".webm": "libvpx-vp9", ".avi": "mpeg4",
          ".gif": "gif"}
AUDIO_RATE = 16000


def moving_square(index: int, width: int = 96, height: int = 80, speed: int = 4) -> np.ndarray:
    """Frame `index`: a smooth background and a 24-pixel orange square `speed` pixels further right."""
    rows, columns = np.mgrid[0:height, 0:width]
    frame = np.stack([40 + 60 * rows / height, 60 + 60 * columns / width, np.full_like(rows, 90.0)], axis=-1)
    left = 8 + speed * index
    frame[28:52, left:left + 24] = (230, 140, 40)
    return frame.astype(np.uint8)


def square_left_edge(frame: np.ndarray) -> float:
    """Column where the orange square starts (the first column that is mostly orange)."""
    orange = (frame[..., 0] > 180) & (frame[..., 2] < 90)
    columns = np.flatnonzero(orange[28:52].mean(axis=0) > 0.5)
    return float(columns[0]) if len(columns) else float("nan")


def write_clip(path, frames: int = 10, width: int = 96, height: int = 80, fps: int = 12,
               audio: bool = False, faststart: bool = False, times: list[float] | None = None) -> Path:
    """Writes a clip of `moving_square` frames; with `audio`, a 440 Hz AAC tone as long as the video.

    With `times` (seconds, one per frame) the frames carry those time stamps: a variable-rate clip.
    """
    path = Path(path)
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as container:
        stream = container.add_stream(CODECS[path.suffix], rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "pal8" if path.suffix == ".gif" else "yuv420p"
        if times is not None:
            stream.codec_context.time_base = stream.time_base = Fraction(1, 90_000)
        sound = _audio_stream(container) if audio else None
        for index in range(frames):
            frame = _video_frame(moving_square(index, width, height), path.suffix == ".gif")
            if times is not None:
                frame.pts, frame.time_base = round(times[index] * 90_000), Fraction(1, 90_000)
            for packet in stream.encode(frame):
                container.mux(packet)
        container.mux(stream.encode())
        if sound is not None:
            samples = int(AUDIO_RATE * (times[-1] + 1 / fps if times is not None else frames / fps))
            _encode_audio(container, sound, 0.3 * np.sin(2 * np.pi * 440 * np.arange(samples) / AUDIO_RATE))
    return path


def _video_frame(pixels: np.ndarray, palette: bool) -> av.VideoFrame:
    if not palette:
        return av.VideoFrame.from_ndarray(pixels, format="rgb24")
    from PIL import Image

    quantized = Image.fromarray(pixels).quantize(256)
    colours = np.zeros((256, 3), np.uint8)
    used = np.frombuffer(bytes(quantized.getpalette()), np.uint8).reshape(-1, 3)[:256]
    colours[: len(used)] = used
    argb = np.concatenate([np.full((256, 1), 255, np.uint8), colours], axis=1)
    return av.VideoFrame.from_ndarray((np.asarray(quantized), argb), format="pal8")


def audio_packets(path) -> list[bytes]:
    """The payloads of the first audio stream's packets."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return []
        return [bytes(packet) for packet in container.demux(container.streams.audio[0]) if packet.size]


def write_audio_only(path) -> Path:
    """An .mp4 holding only an AAC stream (no video)."""
    with av.open(str(path), "w") as container:
        _encode_audio(container, _audio_stream(container), np.zeros(4096))
    return Path(path)


def _audio_stream(container):
    """A mono AAC stream of `container` (added before anything is muxed)."""
    sound = container.add_stream("aac", rate=AUDIO_RATE)
    sound.layout = "mono"
    return sound


def _encode_audio(container, sound, samples: np.ndarray) -> None:
    """Encodes `samples` (floats in -1..1) into the stream `sound` of `container`."""
    tone = samples.astype(np.float32)[None]
    for start in range(0, tone.shape[1], 1024):
        chunk = av.AudioFrame.from_ndarray(np.ascontiguousarray(tone[:, start:start + 1024]),
                                           format="fltp", layout="mono")
        chunk.sample_rate, chunk.pts = AUDIO_RATE, start
        for packet in sound.encode(chunk):
            container.mux(packet)
    container.mux(sound.encode())


def panning_shots(photos: list[np.ndarray], frames_per_shot: int, width: int, height: int) -> list[np.ndarray]:
    """Frames of one shot per photo: a slow pan across it (1 pixel a frame), hard cuts between photos."""
    from inception_keras.images import resize_image

    frames = []
    for photo in photos:
        photo = np.repeat(photo[..., None], 3, axis=-1) if photo.ndim == 2 else photo[..., :3]
        wide = resize_image(photo, height + frames_per_shot, width + frames_per_shot)
        frames += [np.ascontiguousarray(wide[i: i + height, i: i + width])
                   for i in range(frames_per_shot)]
    return frames


def write_frames_clip(path, frames: list[np.ndarray], fps: int = 12, audio: bool = True) -> Path:
    """Writes `frames` to an H.264 clip (with an AAC tone as long as the video when `audio`)."""
    path = Path(path)
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"crf": "12"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        sound = _audio_stream(container) if audio else None
        for pixels in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        container.mux(stream.encode())
        if sound is not None:
            samples = int(AUDIO_RATE * len(frames) / fps)
            _encode_audio(container, sound, 0.3 * np.sin(2 * np.pi * 440 * np.arange(samples) / AUDIO_RATE))
    return path


def audio_seconds(path) -> float:
    """The duration of the first audio stream's packets, in seconds."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        packets = [p for p in container.demux(stream) if p.size]
        return float(sum(p.duration for p in packets) * stream.time_base)
