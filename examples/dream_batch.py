"""Dream every image of a folder with one engine: the model and its gradient are built once.

    python examples/dream_batch.py photos/ dreams/ --weights ../shared/weights/inception_v3_notop_q8.h5

A file that cannot be read is reported and skipped; the others are written.
"""

import argparse
from pathlib import Path

from _common import add_weights_argument
from deepdream import jobs
from deepdream.options import DreamOptions, EngineOptions

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("inputs", nargs="+", help="images and folders of images")
parser.add_argument("output_dir", help="folder for <stem>_dream<suffix> files (created if missing)")
add_weights_argument(parser)
parser.add_argument("--steps", type=int, default=10, help="steps per octave")
args = parser.parse_args()

output_dir = Path(args.output_dir)
output_dir.mkdir(parents=True, exist_ok=True)
report = jobs.dream_batch(args.inputs, output_dir, EngineOptions(weights=args.weights),
                          DreamOptions(octaves=3, steps=args.steps),
                          on_file=lambda source, error: print(error or f"dreamed {source}"))
print(f"{len(report.written)} written, {len(report.failed)} failed")
raise SystemExit(2 if report.failed else 0)
