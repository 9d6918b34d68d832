#!/usr/bin/env bash
# The built wheel runs outside the source tree (issue 20): it is built, installed into a fresh
# virtual environment in a temporary folder, and run from that folder, where the checkout cannot
# be imported: the help of both commands, the package data, and a real two-octave dream.
#
#   bash benchmarks/check_wheel.sh [WEIGHTS.h5]
#
# Weights: the argument, else $INCEPTION_KERAS_TEST_WEIGHTS, else ../shared/weights/ or
# /work/shared/weights/inception_v3_notop_q8.h5 (the dream needs trained weights to look like one).
# The wheel goes in with --no-deps, and its dependencies are borrowed, not downloaded: a `.pth`
# line puts $PYTHON's site-packages (default: the `python` on PATH, e.g. the project's .venv)
# behind the fresh environment's own. A path line is not a site directory, so that
# environment's editable install of a checkout is not seen; the script stops if `inception_keras`
# or `deepdream` is imported from anywhere but the fresh environment. `pip check` then confirms
# that the borrowed packages satisfy the wheel's requirements.
# The dream is written to $DREAM_OUT (default /tmp/check_wheel_dream.jpg); KEEP=1 keeps the
# temporary folder. Exit status 0 when every step passed.
set -euo pipefail
cd "$(dirname "$0")/.."
unset PYTHONPATH
export TF_CPP_MIN_LOG_LEVEL=3
PYTHON=${PYTHON:-python}
DREAM_OUT=${DREAM_OUT:-/tmp/check_wheel_dream.jpg}

WEIGHTS=${1:-${INCEPTION_KERAS_TEST_WEIGHTS:-}}
for candidate in ../shared/weights/inception_v3_notop_q8.h5 /work/shared/weights/inception_v3_notop_q8.h5; do
    if [ -z "$WEIGHTS" ] && [ -f "$candidate" ]; then WEIGHTS=$candidate; fi
done
if [ -z "$WEIGHTS" ] || [ ! -f "$WEIGHTS" ]; then
    echo "check_wheel: no weights file; pass one: bash benchmarks/check_wheel.sh WEIGHTS.h5" >&2
    exit 2
fi
WEIGHTS=$(cd "$(dirname "$WEIGHTS")" && pwd)/$(basename "$WEIGHTS")

WORK=$(mktemp -d /tmp/check_wheel.XXXXXX)
if [ -z "${KEEP:-}" ]; then trap 'rm -rf "$WORK"' EXIT; fi
step() { echo "== $*"; }

step "build the wheel"
"$PYTHON" -m pip wheel --quiet --no-deps --wheel-dir "$WORK/dist" .
WHEEL=$(ls "$WORK"/dist/inception_keras-*.whl)
echo "$(basename "$WHEEL")"

step "install it into a fresh virtual environment, dependencies borrowed from $PYTHON"
"$PYTHON" -m venv --without-pip "$WORK/venv"  # nothing in it but the wheel; $PYTHON's pip installs
VENV_PYTHON="$WORK/venv/bin/python"
"$PYTHON" -m pip --python "$VENV_PYTHON" install --quiet --no-deps "$WHEEL"
borrowed=$("$PYTHON" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
own=$("$VENV_PYTHON" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
echo "$borrowed" > "$own/_check_wheel_dependencies.pth"
"$PYTHON" -m pip --python "$VENV_PYTHON" check

cd "$WORK"  # outside the source tree from here on
step "imported from the fresh environment, package data included"
"$VENV_PYTHON" - "$WORK/venv" <<'EOF'
import sys

import deepdream
import inception_keras

for module in (inception_keras, deepdream):
    if not module.__file__.startswith(sys.argv[1]):
        sys.exit(f"check_wheel: {module.__name__} was imported from {module.__file__}, not the wheel")
    print(module.__name__, module.__file__)
print("inception_keras", inception_keras.__version__, "ImageNet classes:", len(inception_keras.imagenet_class_index()))
EOF

step "python -m deepdream --help (first lines)"
"$VENV_PYTHON" -m deepdream --help | head -n 4
step "console scripts"
"$WORK/venv/bin/deepdream" --help | head -n 1
"$WORK/venv/bin/inception-keras" --help | head -n 1

step "a real dream: mixed4, 2 octaves of 2 steps"
"$VENV_PYTHON" -c "import matplotlib.cbook as c, shutil; shutil.copy(c.get_sample_data('grace_hopper.jpg', asfileobj=False), 'grace_hopper.jpg')"
start=$(date +%s.%N)
"$VENV_PYTHON" -m deepdream --layer mixed4 grace_hopper.jpg --weights "$WEIGHTS" --steps 2 --octaves 2 -o "$DREAM_OUT"
end=$(date +%s.%N)
"$VENV_PYTHON" - "$DREAM_OUT" "$start" "$end" <<'EOF'
import os
import sys

import numpy as np
from PIL import Image

path, start, end = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
dream = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
photo = np.asarray(Image.open("grace_hopper.jpg").convert("RGB"), dtype=np.float32)
if dream.shape != photo.shape:
    sys.exit(f"check_wheel: the dream is {dream.shape}, the photo {photo.shape}")
difference = np.abs(dream - photo).mean()
if difference < 1.0:
    sys.exit(f"check_wheel: the dream hardly differs from the photo (mean |difference| {difference:.2f})")
print(f"{path}: {dream.shape[1]}x{dream.shape[0]}, {os.path.getsize(path)} bytes, "
      f"{end - start:.1f} s for the whole command, mean |dream - photo| {difference:.1f} of 255")
EOF
step "passed"
