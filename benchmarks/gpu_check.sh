#!/usr/bin/env bash
# The GPU check of issue 11, in one go, through the JAX backend (TensorFlow need not be installed).
#
#   bash benchmarks/gpu_check.sh [WEIGHTS.h5]
#
# Weights: the argument, else $INCEPTION_KERAS_TEST_WEIGHTS, else shared/weights/ or
# ../shared/weights/inception_v3_notop_q8.h5, else random weights (said in the results).
# Results go to $OUT when it is set, else benchmarks/gpu_results/: machine.txt (card, versions,
# what `auto` picks), startup.md, still_960x640.md, still_3840x2160.md, video.md (once
# benchmarks/bench_video.py exists) and the log of each stage. Every stage has its own time
# limit, so one that fails or runs long leaves the others' results; at most 9 minutes in all (11 with video).
# GPU_CHECK_SMOKE=1 runs the same stages on small images (to try the script on a CPU).
set -u
cd "$(dirname "$0")/.."
export KERAS_BACKEND=jax
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export TF_CPP_MIN_LOG_LEVEL=3
PYTHON=${PYTHON:-python}
RESULTS=${OUT:-benchmarks/gpu_results}
mkdir -p "$RESULTS"

WEIGHTS=${1:-${INCEPTION_KERAS_TEST_WEIGHTS:-}}
for candidate in shared/weights/inception_v3_notop_q8.h5 ../shared/weights/inception_v3_notop_q8.h5; do
    if [ -z "$WEIGHTS" ] && [ -f "$candidate" ]; then WEIGHTS=$candidate; fi
done
WEIGHTS=${WEIGHTS:-none}
STILL=960x640 STILL_STEPS=20 LARGE=3840x2160
if [ -n "${GPU_CHECK_SMOKE:-}" ]; then STILL=320x240 STILL_STEPS=1 LARGE=480x320; fi
export PYTHON WEIGHTS

stage() {  # stage NAME SECONDS COMMAND...: runs one stage with a time limit, logging it
    local name=$1 limit=$2
    shift 2
    echo "== $name (limit ${limit}s): $*" | tee -a "$RESULTS/stages.txt"
    local start=$SECONDS
    timeout "$limit" bash -c '"$@"' stage "$@" > "$RESULTS/$name.log" 2>&1
    local status=$?
    echo "   exit $status after $((SECONDS - start))s" | tee -a "$RESULTS/stages.txt"
    tail -n 3 "$RESULTS/$name.log"
}

machine_info() {
    nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv || true
    "$PYTHON" - <<EOF
import importlib.util, jax, keras
print("jax", jax.__version__, "keras", keras.__version__, "devices", jax.devices())
print("tensorflow installed:", importlib.util.find_spec("tensorflow") is not None)
print("weights:", "$WEIGHTS")
from deepdream import hardware
print("compute capability:", hardware.gpu_compute_capability())
print("auto precision:", hardware.resolve_precision("auto"))
print("whole-image pixels:", hardware.default_whole_image_pixels())
EOF
}

startup() {  # a tiny 1-step dream, whole process, against importing jax and keras; 2 rounds
    "$PYTHON" - "$WEIGHTS" <<'EOF'
import statistics, subprocess, sys, tempfile, time
import numpy as np
from PIL import Image
weights = sys.argv[1]
work = tempfile.mkdtemp()
Image.fromarray((np.random.RandomState(0).rand(120, 160, 3) * 255).astype(np.uint8)).save(f"{work}/tiny.png")
cases = {
    "import jax, keras": [sys.executable, "-c", "import jax, keras"],
    "tiny 1-step dream": [sys.executable, "-m", "deepdream", f"{work}/tiny.png", "-o", f"{work}/out.png",
                          "--weights", weights, "--octaves", "1", "--steps", "1", "--quiet"],
}
times = {name: [] for name in cases}
for _ in range(2):
    for name, command in cases.items():
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times[name].append(time.perf_counter() - start)
floor = statistics.median(times["import jax, keras"])
print("| case | wall s (median of 2) | / import |\n|---|---|---|")
for name, values in times.items():
    print(f"| {name} | {statistics.median(values):.2f} | {statistics.median(values) / floor:.2f}x |")
EOF
}

still() {  # still() SIZE STEPS CASES [extra args]: the still-image benchmark, engine cases
    local size=$1 steps=$2 cases=$3
    shift 3
    "$PYTHON" benchmarks/bench_deepdream.py --weights "$WEIGHTS" --sizes "$size" --steps "$steps" \
        --cases "$cases" "$@"
}
export -f machine_info startup still

stage machine 30 machine_info
cat "$RESULTS/machine.log" > "$RESULTS/machine.txt"
stage startup 120 startup
grep '^|' "$RESULTS/startup.log" > "$RESULTS/startup.md"
stage still_small 180 still "$STILL" "$STILL_STEPS" engine_float32,engine_bfloat16
grep -E '^\||^Machine|^Layers' "$RESULTS/still_small.log" > "$RESULTS/still_$STILL.md"
# Whole-image (the GPU default) against 512-pixel tiles, 2 steps per octave.
stage still_large 120 still "$LARGE" 2 engine_auto
stage still_large_tiled 90 still "$LARGE" 2 engine_auto --whole-image-pixels 0
cat "$RESULTS/still_large.log" "$RESULTS/still_large_tiled.log" | grep -E '^\||^Machine' \
    > "$RESULTS/still_$LARGE.md"
if [ -f benchmarks/bench_video.py ]; then
    stage video 120 "$PYTHON" benchmarks/bench_video.py --weights "$WEIGHTS"
    cp "$RESULTS/video.log" "$RESULTS/video.md"
fi
echo "results in $RESULTS"
