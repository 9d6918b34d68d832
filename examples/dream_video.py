"""Dream a video with the Python API: frames in, frames out, the audio copied.

    python examples/dream_video.py clip.mp4 --weights ../shared/weights/inception_v3_notop_q8.h5

`dream_frames` takes any iterable of uint8 frames (here `read_video`'s
generator) and yields dreamed frames one at a time, so memory does not grow
with the clip; `write_video` encodes them as they come.
"""

import argparse

from _common import add_weights_argument
from deepdream import DeepDream
from deepdream.video_dream import dream_frames
from deepdream.video_io import probe_video, read_video, write_video

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("video", help="input video (.mp4, .mov, .mkv, .webm, .avi, animated .gif)")
add_weights_argument(parser)
parser.add_argument("--output", default="dream_video.mp4", help=".mp4, .gif or .webp")
parser.add_argument("--max-frames", type=int, help="dream only the first N frames")
parser.add_argument("--steps", type=int, default=10, help="steps per octave of the first frame")
args = parser.parse_args()

info = probe_video(args.video)
engine = DeepDream("mixed4", weights=args.weights)
frames = read_video(args.video, max_frames=args.max_frames)
dreams = dream_frames(engine, frames, dict(octaves=3, steps=args.steps), frame_steps=5)
write_video(dreams, args.output, fps=info.fps, audio_from=args.video if info.has_audio else None,
            trim_audio=args.max_frames is not None)
print(f"wrote {args.output}")
