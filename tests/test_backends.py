"""The engine on every Keras backend: TensorFlow, JAX and torch dream alike (slow: three child processes).

One child process per backend (`tests/backend_cases.py`) runs a dream, a
render and a video frame's `refine` with the same random weights and no
jitter (on JAX and torch also a dream tiled on the device and by the host
loop, jitter on), and saves the results; the tests compare them here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import WEIGHTS_ENV_VAR

BACKENDS = ("tensorflow", "jax", "torch")
pytestmark = pytest.mark.slow
CASES = Path(__file__).with_name("backend_cases.py")


def start_backend(backend: str, out: Path, weights: Path, *flags: str) -> subprocess.Popen:
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
    env["PYTHONPATH"] = os.pathsep.join([str(CASES.parent.parent), env.get("PYTHONPATH", "")])
    return subprocess.Popen([sys.executable, str(CASES), str(out), str(weights), *flags], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_backend(process: subprocess.Popen, backend: str) -> None:
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, f"{backend} cases failed:\n{output[-3000:]}"


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict:
    """`{(backend, case): array}` from one child process per backend, all started at once.

    The TensorFlow process writes the shared random weights; the others wait for them.
    """
    out = tmp_path_factory.mktemp("backends")
    weights = out / "random_notop.h5"
    trained = os.environ.get(WEIGHTS_ENV_VAR)
    torch_flags = ["--trained", trained] if trained and Path(trained).is_file() else []
    processes = {"tensorflow": start_backend("tensorflow", out, weights, "--write-weights"),
                 "jax": start_backend("jax", out, weights), "torch": start_backend("torch", out, weights, *torch_flags)}
    for backend, process in processes.items():
        wait_backend(process, backend)
    return {tuple(path.stem.split("_", 1)): np.load(path) for path in out.glob("*.npy")}


# (mean, 99.9th percentile) of the absolute difference from TensorFlow, in 0..255 levels. Renders are
# stretched to a fixed contrast (`visstd`), which magnifies float rounding (convolution algorithms differ
# between backends): a render moves by as much when its start noise moves by 1e-6.
TOLERANCES = {"dream": (0.2, 2.0), "render": (0.6, 20.0), "refine": (0.005, 0.05)}


@pytest.mark.parametrize("backend", ["jax", "torch"])
@pytest.mark.parametrize("case", sorted(TOLERANCES))
def test_backends_dream_alike_with_the_same_weights_and_no_jitter(results, backend, case):
    reference = results["tensorflow", case].astype(np.float32)
    other = results[backend, case].astype(np.float32)
    assert other.shape == reference.shape
    # The dream moved the image: agreement is not two untouched inputs agreeing.
    assert reference.std() > 5
    difference = np.abs(other - reference)
    mean, percentile = TOLERANCES[case]
    assert difference.mean() < mean and np.percentile(difference, 99.9) <= percentile, (
        difference.mean(), np.percentile(difference, 99.9))
    assert np.corrcoef(other.ravel(), reference.ravel())[0, 1] > 0.99


@pytest.mark.parametrize("backend", BACKENDS)
def test_refine_of_a_backend_tensor_returns_a_backend_tensor(results, backend):
    assert results[backend, "refine_tensor_is_tensor"]
    np.testing.assert_allclose(results[backend, "refine_tensor"], results[backend, "refine"], atol=1e-3)


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_device_tiles_dream_equals_the_host_tiled_loop(results, backend):
    from test_device_tiles import assert_dreams_agree, photo

    assert_dreams_agree(results[backend, "tiles_device"], results[backend, "tiles_host"], photo(150, 150))


def test_torch_mixed4_dream_is_stronger_than_the_photo(trained_weights_path, results):
    gains = results.get(("torch", "gains"))
    assert gains is not None, "the torch child process got no trained weights"
    assert np.all(gains > 1.3), gains


def test_a_jax_dream_makes_only_explicit_transfers_at_most_two_per_octave(results):
    octaves, puts, gets = results["jax", "transfers"]
    assert puts + gets <= 2 * octaves, (puts, gets)
