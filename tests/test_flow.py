"""Optical flow, warping and the occlusion check on synthetic motion whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from deepdream import flow


@pytest.fixture(scope="module")
def photo():
    import skimage.data

    return skimage.data.astronaut()  # 512 x 512 RGB


def test_flow_of_a_shift_is_the_shift(photo):
    first = photo[100:370, 20:500]
    second = photo[103:373, 25:505]  # the view moved 5 right and 3 down: second(x) = first(x + (5, 3))
    estimated = flow.optical_flow(first, second)
    interior = estimated[20:-20, 20:-20]
    assert np.allclose(np.median(interior.reshape(-1, 2), axis=0), (-5.0, -3.0), atol=0.1)
    assert np.mean(np.abs(interior - (-5.0, -3.0))) < 0.3


def test_warp_by_the_flow_reproduces_the_frame(photo):
    first = photo[100:370, 20:500]
    second = photo[103:373, 25:505]
    motion = flow.motion_between(first, second)
    carried = motion.carry(first.astype(np.float32))
    error = np.abs(carried - second)[motion.valid]
    assert error.mean() < 2.0
    assert np.all(carried[~motion.valid] == 0)


def test_points_that_came_from_outside_are_not_valid(photo):
    first = photo[100:370, 20:500]
    second = photo[103:373, 25:505]
    valid = flow.motion_between(first, second).valid
    assert not valid[:, -5:].any()  # the 5 right columns of `second` were outside `first`
    assert not valid[-3:, :].any()
    assert valid[10:-10, 10:380].mean() > 0.95  # textured; the flat dark right of the photo is ambiguous


def test_a_moving_square_uncovers_what_it_hid():
    rng = np.random.RandomState(0)
    background = (rng.rand(60, 80, 3) * 255).astype(np.uint8)
    background = np.repeat(np.repeat(background, 4, axis=0), 4, axis=1)  # 240 x 320, blocky texture
    square = (rng.rand(20, 20, 3) * 255).astype(np.uint8).repeat(4, axis=0).repeat(4, axis=1)  # 80 x 80
    previous, current = background.copy(), background.copy()
    previous[80:160, 100:180] = square
    current[80:160, 112:192] = square  # 12 pixels to the right
    valid = flow.motion_between(previous, current).valid
    uncovered = valid[90:150, 102:110]  # hidden under the square before, seen now
    assert uncovered.mean() < 0.3
    assert valid[:60].mean() > 0.95  # still background far from the square
    assert valid[95:145, 130:175].mean() > 0.9  # inside the moved square


def test_forward_backward_check_matches_ruder_thresholds():
    shape = (8, 10, 2)
    forward = np.zeros(shape, np.float32)
    forward[..., 0] = 3.0
    backward_ok = -forward
    assert flow.consistent(forward, backward_ok).all()
    assert not flow.consistent(forward, forward).any()  # |3 + 3|^2 = 36 > 0.01 * 18 + 0.5
    still = np.zeros(shape, np.float32)
    small = still.copy()
    small[..., 0] = 0.7  # mismatch 0.49 <= 0.01 * 0.49 + 0.5
    large = still.copy()
    large[..., 0] = 0.75  # mismatch 0.5625 > 0.01 * 0.5625 + 0.5
    assert flow.consistent(still, small).all()
    assert not flow.consistent(still, large).any()


def test_inside_marks_flow_that_leaves_the_frame():
    leftward = np.zeros((6, 9, 2), np.float32)
    leftward[..., 0] = -2.0
    inside = flow.inside(leftward)
    assert not inside[:, :2].any()
    assert inside[:, 2:].all()


def test_bad_arguments_raise_value_errors(photo):
    with pytest.raises(ValueError, match="differ in size"):
        flow.optical_flow(photo[:100, :100], photo[:100, :90])
    with pytest.raises(ValueError, match="preset"):
        flow.optical_flow(photo[:100, :100], photo[:100, :100], preset="slow")
    with pytest.raises(ValueError, match="uint8"):
        flow.optical_flow(photo[:100, :100].astype(np.float32), photo[:100, :100])
