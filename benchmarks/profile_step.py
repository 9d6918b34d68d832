"""Where the time of one DeepDream gradient step goes, by TensorFlow op type.

    python benchmarks/profile_step.py --weights PATH [--size 960x640] [--steps 2]

Runs the engine's compiled gradient (keras.io's layers) under the TensorFlow
profiler and prints, per op type, the milliseconds per step summed over the
executor threads (ops run in parallel, so the total exceeds the wall time).
"""

from __future__ import annotations

import argparse
import collections
import glob
import tempfile
import time

LAYERS = "mixed4:1.0,mixed5:1.5,mixed6:2.0,mixed7:2.5"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--size", default="960x640", help="WxH")
    parser.add_argument("--steps", type=int, default=2)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    import tensorflow as tf
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    from deepdream import DeepDream

    engine = DeepDream(LAYERS, weights=args.weights)
    image = tf.random.uniform((1, height, width, 3), -1, 1)
    engine.gradient(image)[1].numpy()
    log_dir = tempfile.mkdtemp()
    tf.profiler.experimental.start(log_dir)
    start = time.perf_counter()
    for _ in range(args.steps):
        gradient = engine.gradient(image)[1]
    gradient.numpy()
    wall = (time.perf_counter() - start) / args.steps
    tf.profiler.experimental.stop()

    space = xplane_pb2.XSpace()
    with open(glob.glob(f"{log_dir}/plugins/profile/*/*.xplane.pb")[0], "rb") as file:
        space.ParseFromString(file.read())
    totals = collections.Counter()
    for plane in space.planes:
        names = {key: value.name for key, value in plane.event_metadata.items()}
        for line in plane.lines:
            if line.name.startswith("tf_Compute"):
                for event in line.events:
                    op_type = names.get(event.metadata_id, "?").rsplit(":", 1)[-1]
                    if op_type != "Process":
                        totals[op_type] += event.duration_ps / 1e9 / args.steps
    print(f"{args.size}: {wall * 1000:.0f} ms per step (wall)")
    for op_type, milliseconds in totals.most_common(12):
        print(f"{milliseconds:9.1f} ms  {op_type}")


if __name__ == "__main__":
    main()
