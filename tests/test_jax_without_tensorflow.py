"""The JAX backend dreams on a machine without TensorFlow (as benchmarks/gpu_check.sh needs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import sys
import numpy as np
from deepdream import DeepDream
from deepdream.hardware import resolve_precision
engine = DeepDream("mixed0", weights=None, tile_size=160, precision="auto")
image = (np.random.RandomState(0).rand(100, 120, 3) * 255).astype(np.uint8)
result = engine.dream(image, octaves=1, steps=1)
print(result.shape, result.dtype, engine.precision == resolve_precision("auto"), "tensorflow" in sys.modules and
      sys.modules["tensorflow"] is not None)
"""


@pytest.mark.slow  # a fresh process compiling the JAX gradient: 162 s on the busy 2-core machine
def test_jax_dream_imports_no_tensorflow(tmp_path):
    # `sys.modules["tensorflow"] = None` makes every `import tensorflow` fail, as if it were not installed.
    (tmp_path / "sitecustomize.py").write_text('import sys\nsys.modules["tensorflow"] = None\n')
    tree = Path(__file__).resolve().parent.parent
    env = dict(os.environ, KERAS_BACKEND="jax", PYTHONPATH=os.pathsep.join([str(tmp_path), str(tree)]))
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "(100, 120, 3) uint8 True False"
