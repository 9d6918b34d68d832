"""The stages of benchmarks/gpu_check.sh, one per call, on the backend `KERAS_BACKEND` names.

    python benchmarks/gpu_stages.py still --size 1920x1080 --steps 20 [--whole-image-pixels N] [--tiles device]
    python benchmarks/gpu_stages.py video --size 1280x720 --frames 24 --frame-steps 5
    python benchmarks/gpu_stages.py gallery --channels 16 --size 128

Each stage warms up first (compiles at the same sizes), then times the
work and prints one Markdown table row: `still` keras.io's settings
(mixed4..7 weighted 1/1.5/2/2.5, 3 octaves; above `--whole-image-pixels`
tiled on the device or by the host loop as `--tiles` says), `video` frames per second of
`dream_frames` on synthetic frames (a moving square, no decoder needed),
`gallery` a channel gallery by batches against channel by channel.
Weights: `--weights PATH`, or random ones (`none`).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

KERAS_IO = "mixed4:1.0,mixed5:1.5,mixed6:2.0,mixed7:2.5"


def _size(text: str) -> tuple[int, int]:
    width, height = (int(v) for v in text.lower().split("x"))
    return height, width


def _sync(array) -> None:
    import keras

    keras.ops.convert_to_numpy(array)


def still(args, weights) -> str:
    from deepdream import DeepDream

    height, width = _size(args.size)
    photo = (np.random.RandomState(0).rand(height, width, 3) * 255).astype(np.uint8)
    engine = DeepDream(KERAS_IO, weights=weights, whole_image_pixels=args.whole_image_pixels,
                       device_tiles={"auto": None, "device": True, "host": False}[args.tiles])
    engine.dream(photo, octaves=3, steps=args.steps)  # compiles every octave's program (JAX: per shape and step count)
    start = time.perf_counter()
    engine.dream(photo, octaves=3, steps=args.steps)
    seconds = time.perf_counter() - start
    if not engine.runs_on_device(height, width):
        path = "host tiled loop"
    else:
        path = "device loop" + (", tiles on the device" if height * width > engine.whole_image_pixels else "")
    return f"| still {args.size}, 3 octaves x {args.steps} steps, {path} | {seconds:.2f} s |"


def moving_frames(count: int, height: int, width: int):
    rows, columns = np.mgrid[0:height, 0:width]
    background = np.stack([40 + 60 * rows / height, 60 + 60 * columns / width, np.full_like(rows, 90.0)], -1)
    side = max(8, height // 4)
    for index in range(count):
        frame = background.copy()
        left = (8 + 4 * index) % max(1, width - side)
        frame[height // 3: height // 3 + side, left: left + side] = (230, 140, 40)
        yield frame.astype(np.uint8)


def video(args, weights) -> str:
    from deepdream import DeepDream
    from deepdream.video_dream import dream_frames

    height, width = _size(args.size)
    engine = DeepDream("mixed3:1.0,mixed5:1.5", weights=weights)
    for _ in dream_frames(engine, moving_frames(2, height, width), frame_steps=args.frame_steps):
        pass  # compiles
    start = time.perf_counter()
    count = sum(1 for _ in dream_frames(engine, moving_frames(args.frames, height, width),
                                        frame_steps=args.frame_steps, lookahead=True))
    seconds = time.perf_counter() - start
    return f"| video {args.size}, --frame-steps {args.frame_steps}, {count} frames | {count / seconds:.1f} fps |"


def gallery(args, weights) -> str:
    from deepdream.render import Renderer

    channels = list(range(args.channels))
    size = (int(args.size), int(args.size))
    times = {}
    for batch in (1, args.channels):
        renderer = Renderer("mixed4", weights=weights)
        start = time.perf_counter()
        if batch == 1:
            for channel in channels:
                renderer.render(channel, size, steps=args.steps)
        else:
            renderer.render_batch(channels, size, steps=args.steps)
        times[batch] = time.perf_counter() - start
    return (f"| gallery {args.channels} channels at {args.size}px | one by one {times[1]:.1f} s, "
            f"one batch {times[args.channels]:.1f} s ({times[1] / times[args.channels]:.2f}x) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=["still", "video", "gallery"])
    parser.add_argument("--weights", default="none")
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--whole-image-pixels", type=int)
    parser.add_argument("--tiles", choices=["auto", "device", "host"], default="auto",
                        help="above the whole-image limit: tiles on the device, the host tiled loop, "
                        "or the engine's pick")
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--frame-steps", type=int, default=5)
    parser.add_argument("--channels", type=int, default=16)
    args = parser.parse_args()
    import keras

    weights = None if args.weights == "none" else args.weights
    row = {"still": still, "video": video, "gallery": gallery}[args.stage](args, weights)
    print(row.replace("| ", f"| {keras.backend.backend()}: ", 1), flush=True)


if __name__ == "__main__":
    main()
