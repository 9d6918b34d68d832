"""A clip's shots: cuts found as the clip is decoded, `--list-shots`, and the dream restarting at each cut."""

from __future__ import annotations

import json

import numpy as np
import pytest
from video_clips import panning_shots, write_frames_clip

from deepdream.cli import main

FRAMES_PER_SHOT = 5
CUTS = [5, 10, 15]  # photos the other tests do not use, one shot each


@pytest.fixture(scope="module")
def shot_frames():
    import skimage.data

    photos = [skimage.data.rocket(), skimage.data.immunohistochemistry(), skimage.data.stereo_motorcycle()[0],
              skimage.data.cat()]
    return panning_shots(photos, FRAMES_PER_SHOT, 96, 80)


def test_list_shots_finds_each_cut_in_text_and_json(shot_frames, tmp_path, capsys):
    clip = write_frames_clip(tmp_path / "shots.mp4", shot_frames)
    assert main([str(clip), "--list-shots"]) == 0
    lines = capsys.readouterr().out.splitlines()
    shots = [tuple(int(n) for n in line.split()) for line in lines]
    assert len(shots) == len(CUTS) + 1 and shots[0][0] == 0 and shots[-1][1] == len(shot_frames) - 1
    assert all(abs(found[0] - cut) <= 1 for found, cut in zip(shots[1:], CUTS))
    assert all(end + 1 == start for (_, end), (start, _) in zip(shots, shots[1:]))

    assert main([str(clip), "--list-shots", "--format", "json", "--max-shot-frames", "3"]) == 0
    split = json.loads(capsys.readouterr().out)
    assert [s["start"] for s in split] == [0, 3, 5, 8, 10, 13, 15, 18]  # each shot split after 3 frames
    assert main([str(clip), "--list-shots", "--no-shots"]) == 0
    assert capsys.readouterr().out.split() == ["0", str(len(shot_frames) - 1)]


def test_a_shots_first_frame_is_the_still_dream_and_nothing_crosses_the_cut(shot_frames):
    from deepdream import DeepDream
    from deepdream.options import DreamOptions, VideoOptions
    from deepdream.video_dream import FrameDreamer, dream_shot

    engine = DeepDream("mixed2", weights=None)
    dream, video = DreamOptions(octaves=1, steps=2), VideoOptions(frame_steps=1)
    dreamer = FrameDreamer.from_options(engine, dream, video)
    first_shot = [d for _, d in dream_shot(dreamer, shot_frames[:5], 0)]
    second_shot = [d for _, d in dream_shot(dreamer, shot_frames[5:8], 5)]
    still = engine.dream(shot_frames[5], **dream.engine_kwargs())
    assert np.array_equal(second_shot[0], still) and len(first_shot) == 5

    carried = FrameDreamer.from_options(engine, dream, video)  # what --no-shots does: the carry crosses the cut
    across = [carried.dream(frame) for frame in shot_frames[:6]]
    assert np.mean(np.abs(across[5].astype(float) - still)) > 1.0

    resumed = [d for _, d in dream_shot(dreamer, shot_frames[5:8], 5, done=2,
                                        load=lambda index: second_shot[index - 5])]
    assert resumed[:2] == [None, None]
    assert np.mean(np.abs(resumed[2].astype(float) - second_shot[2])) < 1.0  # restored within rounding
