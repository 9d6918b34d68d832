"""A zoom animation from a still, Google's loop: dream, zoom into the centre, dream again.

    python examples/dream_zoom.py photo.jpg --weights ../shared/weights/inception_v3_notop_q8.h5
"""

import deepdream
from _common import example_arguments
from deepdream.options import DreamOptions
from deepdream.video_io import write_video
from deepdream.zoom import zoom_frames

args = example_arguments(__doc__.splitlines()[0], "dream_zoom.gif")
engine = deepdream.DeepDream("mixed3:1.0,mixed5:1.5", weights=args.weights)
image = deepdream.load_image(args.image)
frames = zoom_frames(engine, image, frames=24, zoom=1.04, rotate=0.5,
                     dream=DreamOptions(octaves=3, steps=args.steps), frame_steps=max(1, args.steps // 2))
write_video(frames, args.output, fps=12)
print(f"wrote {args.output}")
