"""The Video tab's shot list: the hard cuts of an uploaded clip, where the dream restarts.

The list is what `deepdream.jobs.list_shots` finds (PySceneDetect's content
detector on the decoded frames), on the frames the Video tab dreams: the
first `max_frames`, downscaled to the server's `max_side`.
"""

from __future__ import annotations

from deepdream import jobs
from deepdream.options import EngineOptions, VideoOptions

SHOT_HEADERS = ["first frame", "last frame", "frames"]


def shot_rows(clip, limits, max_frames: int) -> list[list[int]]:
    """`[first, last, frames]` of each shot of the uploaded `clip`, checked against the server's `limits` first."""
    limits.probe_video(clip)
    engine = EngineOptions(max_side=limits.serve.max_side)
    shots = jobs.list_shots(clip, engine, VideoOptions(max_frames=max_frames))
    return [[start, end, end - start + 1] for start, end in shots]


def shot_table(gr):
    """The table that shows a clip's shots (Gradio's `Dataframe`, read-only)."""
    return gr.Dataframe(headers=SHOT_HEADERS, datatype=["number"] * len(SHOT_HEADERS), interactive=False,
                        label="Shots (the dream restarts at each cut)", elem_id="v_shots")
