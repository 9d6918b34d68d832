"""The frame loop on the backend (warp, occlusion check, blend), its reader and writer threads, and odd sizes."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest
from keras import ops
from video_clips import moving_square

from deepdream import flow, flow_ops
from deepdream.pipelining import WriteCancelled, read_ahead, write_behind
from deepdream.video_dream import FrameDreamer


@pytest.fixture(scope="module")
def frame_pair():
    """Two views of a real photo: the camera zooms in 3 % and pans 2.3 right, 1.6 down (sub-pixel flow)."""
    import skimage.data

    photo = skimage.data.coffee()  # 400 x 600

    def view(scale, x, y):
        matrix = np.array([[scale, 0, -x * scale], [0, scale, -y * scale]], np.float64)
        return cv2.warpAffine(photo, matrix, (320, 200), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)

    return view(1.0, 120.0, 90.0), view(1.03, 122.3, 91.6)


def _threads():
    return [t.name for t in threading.enumerate() if t.name.startswith("deepdream-")]


def test_device_warp_equals_opencv_remap_on_a_real_frame_pair(frame_pair):
    previous, current = frame_pair
    backward, forward = flow.flows_between(previous, current)
    assert np.abs(backward - np.round(backward)).mean() > 0.1  # really sub-pixel
    image = previous.astype(np.float32)
    reference = flow.warp(image, backward)
    warped = ops.convert_to_numpy(flow_ops.warp(ops.convert_to_tensor(image), ops.convert_to_tensor(backward)))
    assert np.abs(warped - reference).max() < 0.01  # float rounding (pixels 0..255)
    wrong = ops.convert_to_numpy(flow_ops.warp(image, backward / 2))
    assert np.abs(wrong - reference).mean() > 1.0  # the test can tell a wrong warp
    motion = flow.motion_between(previous, current)
    valid = ops.convert_to_numpy(ops.logical_and(flow_ops.consistent(forward, backward), flow_ops.inside(backward)))
    assert 0.5 < motion.valid.mean() < 1.0 and (valid == motion.valid).mean() > 0.999
    carried = ops.convert_to_numpy(flow_ops.carry(image, backward, forward))
    agree = valid == motion.valid
    assert np.abs(carried - motion.carry(image))[agree].max() < 0.01


def test_device_checks_match_ruder_thresholds_and_the_frame_edge():
    still = np.zeros((8, 10, 2), np.float32)
    small, large, leftward = still.copy(), still.copy(), still.copy()
    small[..., 0], large[..., 0], leftward[..., 0] = 0.7, 0.75, -2.0
    for forward, backward in [(still, small), (still, large), (-leftward, leftward), (leftward, leftward)]:
        assert np.array_equal(ops.convert_to_numpy(flow_ops.consistent(forward, backward)),
                              flow.consistent(forward, backward))
    assert np.array_equal(ops.convert_to_numpy(flow_ops.inside(leftward)), flow.inside(leftward))


class _ShiftEngine:
    """Stands in for `DeepDream`: a dream adds a fixed pattern; `refine` returns its start (as NumPy or not)."""

    def __init__(self, to_numpy: bool):
        self.to_numpy = to_numpy
        self.starts = []

    def dream(self, image, **options):
        rows = np.arange(image.shape[0], dtype=np.float32)[:, None, None]
        return np.clip(image + 40.0 * np.sin(rows / 3.0), 0, 255).astype(np.float32)

    def refine(self, image, steps, step_size, jitter, lapnorm, seed):
        self.starts.append(image)
        return ops.convert_to_numpy(image) if self.to_numpy else image


@pytest.mark.parametrize("to_numpy", [True, False], ids=["refine-numpy", "refine-tensor"])
def test_the_device_loop_equals_the_numpy_reference(to_numpy):
    engine = _ShiftEngine(to_numpy)
    dreamer = FrameDreamer(engine, frame_steps=1, blend=0.9)
    first, second = moving_square(0), moving_square(1)
    dreamed = dreamer.dream(first)
    residual = engine.dream(first) - first
    result = dreamer.dream(second)
    assert not isinstance(engine.starts[0], np.ndarray)  # the start stays a backend tensor
    carried = 0.9 * flow.motion_between(first, second).carry(residual)
    level = np.sqrt(np.mean(np.square(residual)))
    carried *= min(1.0, level / np.sqrt(np.mean(np.square(carried))))
    expected = np.clip(second + carried + 0.5, 0, 255).astype(np.uint8)
    assert dreamed.dtype == result.dtype == np.uint8
    assert np.mean(np.abs(result.astype(int) - expected)) < 0.2
    assert np.mean(np.abs(result.astype(int) - second)) > 5  # the residual was carried


def test_read_ahead_keeps_order_stays_bounded_and_stops_when_closed():
    pulled, closed = [], []

    def items():
        try:
            for index in range(100):
                pulled.append(index)
                yield index
        finally:
            closed.append(True)

    ahead = read_ahead(items(), depth=2)
    assert [next(ahead) for _ in range(3)] == [0, 1, 2]
    for _ in range(100):  # give the reader time to fill the queue
        if len(pulled) >= 6:
            break
        threading.Event().wait(0.01)
    assert len(pulled) <= 3 + 2 + 1  # taken, queued, in the reader's hand
    ahead.close()
    assert closed == [True] and not _threads()


def test_read_ahead_raises_the_readers_error_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise ValueError("cut short")

    got = []
    with pytest.raises(ValueError, match="cut short"):
        for item in read_ahead(items()):
            got.append(item)
    assert got == [1, 2] and not _threads()


def test_write_behind_returns_what_the_writer_returns():
    assert write_behind(lambda stream: sum(stream), iter(range(10)), depth=1) == 45
    assert not _threads()


def test_a_failing_writer_stops_the_loop_and_its_error_is_raised():
    pulled = []

    def items():
        for index in range(100):
            pulled.append(index)
            yield index

    def write(stream):
        for item in stream:
            if item == 3:
                raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_behind(write, items())
    assert len(pulled) < 10 and not _threads()


def test_an_error_in_the_loop_cancels_the_writer_and_leaves_no_file(tmp_path):
    from deepdream.video_io import write_video

    seen = []

    def frames():
        for index in range(3):
            yield moving_square(index)
        raise KeyboardInterrupt

    def write(stream):
        try:
            return write_video(stream, tmp_path / "out.mp4")
        except WriteCancelled:
            seen.append("cancelled")
            raise

    with pytest.raises(KeyboardInterrupt):
        write_behind(write, frames())
    assert seen == ["cancelled"] and list(tmp_path.iterdir()) == [] and not _threads()


def test_depth_must_be_positive():
    with pytest.raises(ValueError, match="depth"):
        next(read_ahead([1], depth=0))
    with pytest.raises(ValueError, match="depth"):
        write_behind(list, [1], depth=0)


def test_an_odd_sized_clip_keeps_its_size(tmp_path, capsys):
    from deepdream.cli import main
    from deepdream.video_io import probe_video, read_video, write_video

    clip = [cv2.resize(moving_square(index), (321, 241)) for index in range(3)]
    source = write_video(clip, tmp_path / "odd.mp4", crf=0)
    read_back = list(read_video(source))
    assert [f.shape for f in read_back] == [(241, 321, 3)] * 3
    assert np.abs(read_back[1].astype(int) - clip[1]).mean() < 1.0  # 4:4:4 at crf 0: nearly lossless
    output = tmp_path / "odd_dream.mp4"
    assert main([str(source), "-o", str(output), "--weights", "none", "--layer", "mixed0", "--octaves", "1",
                 "--steps", "1", "--frame-steps", "1"]) == 0
    info = probe_video(output)
    assert (info.width, info.height, info.frame_count) == (321, 241, 3)
    notes = [line for line in capsys.readouterr().err.splitlines() if "odd side" in line]
    assert len(notes) == 1 and "321x241" in notes[0]
