"""Reading and writing videos: every input container, every output format, audio copied, bad files refused."""

from __future__ import annotations

import weakref
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image
from video_clips import CODECS, audio_packets, moving_square, square_left_edge, write_audio_only, write_clip

from deepdream.video_io import probe_video, read_video, write_video


@pytest.mark.parametrize("suffix", sorted(CODECS))
def test_every_input_container_reads_frame_by_frame(tmp_path, suffix):
    path = write_clip(tmp_path / f"clip{suffix}", frames=10)
    info = probe_video(path)
    assert (info.width, info.height, info.frame_count) == (96, 80, 10)
    assert abs(float(info.fps) - 12) < 0.6  # a GIF keeps time in 1/100 s: 12 fps reads back as 12.5
    frames = read_video(path)
    assert iter(frames) is frames  # a generator, not a list
    edges = [square_left_edge(frame) for frame in frames]
    assert edges == [8.0 + 4 * index for index in range(10)]


def test_max_frames_stops_early(tmp_path):
    path = write_clip(tmp_path / "clip.mp4", frames=10)
    assert len(list(read_video(path, max_frames=3))) == 3


def test_mp4_output_keeps_size_rate_count_and_pixels(tmp_path):
    frames = [moving_square(index) for index in range(9)]
    path = write_video(iter(frames), tmp_path / "out.mp4", fps=Fraction(30000, 1001), crf=10)
    info = probe_video(path)
    assert (info.width, info.height, info.frame_count, info.fps) == (96, 80, 9, Fraction(30000, 1001))
    decoded = list(read_video(path))
    assert np.mean(np.abs(decoded[4].astype(int) - frames[4])) < 3.0
    assert [square_left_edge(f) for f in decoded] == [square_left_edge(f) for f in frames]


def test_gif_and_webp_outputs_are_animated(tmp_path):
    frames = [moving_square(index) for index in range(6)]
    gif = write_video(iter(frames), tmp_path / "out.gif", fps=10)
    webp = write_video(iter(frames), tmp_path / "out.webp", fps=10)
    for path in (gif, webp):
        with Image.open(path) as image:
            assert image.size == (96, 80) and image.n_frames == 6
            assert image.info.get("loop") == 0  # plays forever
            image.seek(3)
            assert np.mean(np.abs(np.asarray(image.convert("RGB"), int) - frames[3])) < 8.0


def test_audio_packets_are_copied_unchanged(tmp_path):
    source = write_clip(tmp_path / "clip.mp4", frames=12, audio=True)
    frames = (frame[::-1] for frame in read_video(source))  # any change to the pictures
    output = write_video(frames, tmp_path / "out.mp4", fps=probe_video(source).fps, audio_from=source)
    original = audio_packets(source)
    assert len(original) > 5
    assert audio_packets(output) == original


def test_trimmed_audio_ends_with_the_frames(tmp_path):
    source = write_clip(tmp_path / "clip.mp4", frames=12, audio=True)
    output = write_video(read_video(source, max_frames=3), tmp_path / "out.mp4", fps=12, audio_from=source,
                         trim_audio=True)
    copied, original = audio_packets(output), audio_packets(source)
    assert 0 < len(copied) < len(original)
    assert copied == original[: len(copied)]
    # 3 frames at 12 fps = 0.25 s; AAC packets are 1024 samples at 16 kHz = 0.064 s
    assert len(copied) * 1024 / 16000 < 0.25 + 2 * 1024 / 16000


def test_write_video_holds_no_frames_back(tmp_path):
    alive = []

    def frames():
        for index in range(40):
            frame = np.random.RandomState(index).randint(0, 256, (120, 160, 3), dtype=np.uint8)
            alive.append(weakref.ref(frame))
            yield frame
            del frame
            assert sum(ref() is not None for ref in alive) <= 2

    write_video(frames(), tmp_path / "noise.mp4", fps=24)
    assert probe_video(tmp_path / "noise.mp4").frame_count == 40


def test_an_interrupted_write_leaves_no_file(tmp_path):
    def frames():
        yield moving_square(0)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_video(frames(), tmp_path / "out.mp4", fps=12)
    assert list(tmp_path.iterdir()) == []


def _written(path, data: bytes):
    path.write_bytes(data)
    return path


def _truncated(tmp_path, suffix, faststart=True):
    data = write_clip(tmp_path / f"whole{suffix}", frames=12, audio=True, faststart=faststart).read_bytes()
    return _written(tmp_path / f"cut{suffix}", data[: len(data) // 2])


BAD_VIDEOS = {
    "missing": (lambda tmp: tmp / "missing.mp4", "not found"),
    "empty": (lambda tmp: _written(tmp / "empty.mp4", b""), "empty"),
    "junk": (lambda tmp: _written(tmp / "junk.mp4", bytes(range(256)) * 8), "Not a video"),
    "text": (lambda tmp: _written(tmp / "notes.mp4", b"not a video " * 50), "Not a video"),
    "audio only": (lambda tmp: write_audio_only(tmp / "sound.mp4"), "no video stream"),
    "mp4 cut, index first": (lambda tmp: _truncated(tmp, ".mp4"), "truncated"),
    "mp4 cut, index last": (lambda tmp: _truncated(tmp, ".mp4", faststart=False), "Not a video"),
    "mkv cut": (lambda tmp: _truncated(tmp, ".mkv"), "truncated"),
}


@pytest.mark.parametrize("name", sorted(BAD_VIDEOS))
def test_bad_videos_raise_one_clear_error(tmp_path, name):
    make, message = BAD_VIDEOS[name]
    path = make(tmp_path)
    with pytest.raises(ValueError, match=message) as error:
        probe_video(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("kwargs, message", [
    (dict(path="out.avi"), "Cannot write a video"),
    (dict(fps=0), "fps"),
    (dict(crf=60), "crf"),
])
def test_bad_output_settings_raise(tmp_path, kwargs, message):
    path = tmp_path / kwargs.pop("path", "out.mp4")
    with pytest.raises(ValueError, match=message):
        write_video([moving_square(0)], path, **kwargs)
    assert not path.exists()


def test_no_frames_or_mixed_sizes_raise(tmp_path):
    with pytest.raises(ValueError, match="No frames"):
        write_video([], tmp_path / "out.mp4")
    with pytest.raises(ValueError, match="96x80"):
        write_video([moving_square(0), moving_square(1)[:, :90]], tmp_path / "out.mp4")
    assert list(tmp_path.iterdir()) == []
