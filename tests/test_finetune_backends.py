"""`finetune` on every installed Keras backend, and `.keras` files that move between backends.

Each backend trains its own tiny classifier for one epoch (75 px, a random
conv base read from a weights file), streaming from tf.data: TensorFlow's is
the run the test files share, JAX and torch each train in their own process
through the command line; every saved model then reloads on every other
backend and gives the same scores as on the backend that trained it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from inception_keras.classifier import load_classifier

ROOT = Path(__file__).resolve().parents[1]
OTHER_BACKENDS = [name for name in ("jax", "torch") if importlib.util.find_spec(name) is not None]

# Run under KERAS_BACKEND=...: check every model trained so far, refuse a tf.distribute strategy, train its own.
BACKEND_RUN = """
import json, sys
from pathlib import Path
import keras, numpy as np
from inception_keras.cli import main
from inception_keras.classifier import load_classifier

folder, data, weights = map(Path, sys.argv[1:4])
backend = keras.backend.backend()
probe = np.load(folder / "probe.npy")
differences = {}
for path in sorted(folder.glob("model_*.keras")):
    model, class_names = load_classifier(path)
    assert class_names == ["bright", "dark"], class_names
    expected = np.load(path.with_suffix(".npy"))
    differences[path.stem] = float(np.max(np.abs(model.predict(probe, verbose=0) - expected)))
strategy_status = main(["finetune", str(data), "--out", str(folder / "unused.keras"), "--strategy", "mirrored"])
out = folder / f"model_{backend}.keras"
status = main(["finetune", str(data), "--out", str(out), "--weights", str(weights), "--image-size", "75",
               "--epochs", "1", "--batch-size", "8", "--quiet"])
model, _ = load_classifier(out)
np.save(out.with_suffix(".npy"), model.predict(probe, verbose=0))
print(json.dumps({"backend": backend, "differences": differences, "status": status,
                  "strategy_status": strategy_status}))
"""


@pytest.mark.slow
@pytest.mark.skipif(not OTHER_BACKENDS, reason="needs jax or torch installed")
def test_finetune_on_every_backend_and_models_reload_on_the_others(finetuned_brightness, random_conv_base, tmp_path):
    # TensorFlow's model is the shared run's (`conftest.finetuned_brightness`: 10 a class, 16 training images
    # in two full batches of 8, so each backend compiles one step); the others train on the same folder.
    result, data = finetuned_brightness
    folder = tmp_path / "models"
    folder.mkdir()
    rng = np.random.RandomState(0)
    probe = np.concatenate([rng.uniform(170, 255, (2, 75, 75, 3)), rng.uniform(0, 85, (2, 75, 75, 3))])
    np.save(folder / "probe.npy", probe.astype("float32"))

    shutil.copyfile(result.model_path, folder / "model_tensorflow.keras")
    model, _ = load_classifier(folder / "model_tensorflow.keras")
    np.save(folder / "model_tensorflow.npy", model.predict(probe, verbose=0))

    for backend in OTHER_BACKENDS:
        env = dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
        done = subprocess.run([sys.executable, "-c", BACKEND_RUN, str(folder), str(data), str(random_conv_base)],
                              env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        report = json.loads(done.stdout.strip().splitlines()[-1])
        assert report["backend"] == backend and report["status"] == 0
        assert report["strategy_status"] == 2
        assert "tf.distribute strategy: it needs KERAS_BACKEND=tensorflow" in done.stderr
        assert set(report["differences"]) == {"model_tensorflow", *(f"model_{b}" for b in OTHER_BACKENDS
                                                                   [:OTHER_BACKENDS.index(backend)])}
        assert max(report["differences"].values()) < 1e-4, report

    for backend in OTHER_BACKENDS:
        path = folder / f"model_{backend}.keras"
        model, class_names = load_classifier(path)
        assert class_names == ["bright", "dark"]
        trained_there = np.load(path.with_suffix(".npy"))
        np.testing.assert_allclose(model.predict(probe, verbose=0), trained_there, atol=1e-4)
        assert trained_there.shape == (4, 2) and np.allclose(trained_there.sum(axis=1), 1.0, atol=1e-5)
