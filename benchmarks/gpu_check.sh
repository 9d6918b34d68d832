#!/usr/bin/env bash
# The GPU check of issues 11 and 14, in one go, on the JAX and torch backends (TensorFlow need not be installed).
#
#   bash benchmarks/gpu_check.sh [WEIGHTS.h5]
#
# Weights: the argument, else $INCEPTION_KERAS_TEST_WEIGHTS, else shared/weights/ or
# ../shared/weights/inception_v3_notop_q8.h5, else random weights (said in the results).
# Results go to $OUT when it is set, else benchmarks/gpu_results/: machine.txt (card, versions,
# what `auto` picks, whole-image limit), results.md (one row per stage and backend) and the log
# of each stage. Stages, on each backend in $BACKENDS (default "jax torch"), each after a warm-up:
#   keras.io's settings at 1920x1080; 3840x2160 whole, tiled on the device and tiled by the host loop
#   (2 steps per octave);
#   a 1280x720 clip at --frame-steps 5 in frames per second; a 16-channel gallery.
# Every stage has its own time limit, so one that fails or runs long leaves the others' results.
# GPU_CHECK_SMOKE=1 runs the same stages on tiny sizes (to try the script on a CPU).
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export TF_CPP_MIN_LOG_LEVEL=3
PYTHON=${PYTHON:-python}
RESULTS=${OUT:-benchmarks/gpu_results}
BACKENDS=${BACKENDS:-jax torch}
mkdir -p "$RESULTS"

WEIGHTS=${1:-${INCEPTION_KERAS_TEST_WEIGHTS:-}}
for candidate in shared/weights/inception_v3_notop_q8.h5 ../shared/weights/inception_v3_notop_q8.h5; do
    if [ -z "$WEIGHTS" ] && [ -f "$candidate" ]; then WEIGHTS=$candidate; fi
done
WEIGHTS=${WEIGHTS:-none}
STILL=1920x1080 STILL_STEPS=20 LARGE=3840x2160 LARGE_PIXELS=$((3840 * 2160)) CLIP=1280x720 FRAMES=48
CHANNELS=16 GALLERY=128 GALLERY_STEPS=20 LIMIT=240
if [ -n "${GPU_CHECK_SMOKE:-}" ]; then
    STILL=160x120 STILL_STEPS=1 LARGE=200x150 LARGE_PIXELS=$((200 * 150)) CLIP=96x80 FRAMES=2
    CHANNELS=2 GALLERY=80 GALLERY_STEPS=1 LIMIT=300
fi

stage() {  # stage NAME SECONDS COMMAND...: runs one stage with a time limit, logging it
    local name=$1 limit=$2
    shift 2
    echo "== $name (limit ${limit}s): $*" | tee -a "$RESULTS/stages.txt"
    local start=$SECONDS
    timeout "$limit" "$@" > "$RESULTS/$name.log" 2>&1
    local status=$?
    echo "   exit $status after $((SECONDS - start))s" | tee -a "$RESULTS/stages.txt"
    grep '^|' "$RESULTS/$name.log" | tee -a "$RESULTS/results.md"
    [ $status -eq 0 ] || tail -n 3 "$RESULTS/$name.log"
}

{
    nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv 2>/dev/null || echo "no nvidia-smi"
    echo "weights: $WEIGHTS"
} > "$RESULTS/machine.txt"
echo "| stage | result |" > "$RESULTS/results.md"
echo "|---|---|" >> "$RESULTS/results.md"
for backend in $BACKENDS; do
    export KERAS_BACKEND=$backend
    "$PYTHON" - >> "$RESULTS/machine.txt" 2>&1 <<'PYEOF'
import keras
from deepdream import hardware
print(keras.backend.backend(), "keras", keras.__version__, "GPU:", hardware.has_gpu(),
      "compute capability:", hardware.gpu_compute_capability(), "auto precision:", hardware.resolve_precision("auto"),
      "whole-image pixels:", hardware.default_whole_image_pixels())
PYEOF
    run=("$PYTHON" benchmarks/gpu_stages.py --weights "$WEIGHTS")
    stage "${backend}_still" "$LIMIT" "${run[@]}" still --size "$STILL" --steps "$STILL_STEPS"
    stage "${backend}_large_whole" "$LIMIT" "${run[@]}" still --size "$LARGE" --steps 2 --whole-image-pixels "$LARGE_PIXELS"
    stage "${backend}_large_tiled" "$LIMIT" "${run[@]}" still --size "$LARGE" --steps 2 --whole-image-pixels 0 --tiles device
    stage "${backend}_large_host_tiled" "$LIMIT" "${run[@]}" still --size "$LARGE" --steps 2 --whole-image-pixels 0 --tiles host
    stage "${backend}_video" "$LIMIT" "${run[@]}" video --size "$CLIP" --frames "$FRAMES" --frame-steps 5
    stage "${backend}_gallery" "$LIMIT" "${run[@]}" gallery --channels "$CHANNELS" --size "$GALLERY" --steps "$GALLERY_STEPS"
done
echo "results in $RESULTS"
