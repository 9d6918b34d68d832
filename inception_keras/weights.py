"""Pretrained weights: the official files, their download, and checked loading.

The official Inception-v3 files are Keras 2 "legacy" HDF5 weight files that
Keras loads by layer order. `load_weights` reads them itself so that every way
a file can be wrong (missing, not HDF5, with or without the classifier, a
different architecture) ends in one `ValueError` that says how to fix it.

A network built with `fold_batch_norm=True` gets the file's weights folded
(see `inception_keras.folding`). The folded arrays are cached, uncompressed,
in the Keras cache directory, keyed by the file's SHA-256 and the Keras and
NumPy versions: the official files are gzip-compressed HDF5, whose reading
takes most of the loading time.
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np

from inception_keras.files import atomic_path, file_sha256, keras_home
from inception_keras.folding import fold_layer_arrays, is_folded

WEIGHTS_BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
MIRROR_ENV_VAR = "INCEPTION_KERAS_WEIGHTS_MIRROR"

# include_top -> (file name, md5 hash), as published for keras.applications.
IMAGENET_WEIGHTS = {
    True: (
        "inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
        "9a0d58056eeedaa3f26cb7ebd46da564",
    ),
    False: (
        "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "bcbd6486424b2319ff4ef7d526e38f63",
    ),
}

# Layers that are not part of the keras.applications graph, so never in its files.
_EXTRA_LAYER_PREFIX = "aux_"
# keras.applications' BatchNormalization epsilon, which the official weights were trained with.
BATCH_NORM_EPSILON = 1e-3
# Bump when the layout of the folded-weights cache files changes.
_FOLDED_CACHE_FORMAT = 1


def validate_weights_argument(weights) -> None:
    """Raises `ValueError` unless `weights` is None, 'imagenet' or an existing file."""
    if weights is None or weights == "imagenet":
        return
    if not isinstance(weights, (str, os.PathLike)):
        raise ValueError(
            "`weights` must be None, 'imagenet' or a path to a weights file. "
            f"Received: weights={weights!r}"
        )
    if not Path(weights).is_file():
        raise ValueError(
            f"Weights file not found: {os.fspath(weights)}. Pass an existing "
            "legacy .h5 or .weights.h5 file, 'imagenet' or None."
        )


def imagenet_weights_path(include_top: bool, mirror: str | None = None, cache_dir=None) -> str:
    """Downloads (once) and verifies the official ImageNet weights file.

    Args:
        include_top: the file with the classifier, or the conv base only.
        mirror: base URL that serves the same file names, for offline or
            corporate use. Defaults to `None`: the environment variable
            `INCEPTION_KERAS_WEIGHTS_MIRROR`, else the official URL.
        cache_dir: where to cache the file. Defaults to `None`: the Keras
            cache (`$KERAS_HOME/models`, read when called, or `~/.keras/models`).

    Returns:
        The path of the verified file in the cache.
    """
    file_name, md5 = IMAGENET_WEIGHTS[bool(include_top)]
    base = mirror or os.environ.get(MIRROR_ENV_VAR) or WEIGHTS_BASE_URL
    url = base.rstrip("/") + "/" + file_name
    cache_dir = os.path.expanduser(cache_dir) if cache_dir else str(keras_home())
    os.makedirs(cache_dir, exist_ok=True)
    try:
        return keras.utils.get_file(
            file_name, url, cache_subdir="models", file_hash=md5, cache_dir=cache_dir
        )
    except ValueError as error:
        if "hash" in str(error):
            Path(cache_dir, "models", file_name).unlink(missing_ok=True)
            raise ValueError(
                f"The ImageNet weights downloaded from {url} are corrupt (md5 is not "
                f"{md5}); nothing was cached. Check the mirror ({MIRROR_ENV_VAR}) and retry."
            ) from None
        raise
    except Exception as error:  # network errors come in many types
        raise ValueError(
            f"Could not download the ImageNet weights from {url} ({error}). Set "
            f"{MIRROR_ENV_VAR} to a reachable mirror, or pass weights=PATH."
        ) from None


def load_weights(model: keras.Model, path, fresh_classifier: bool = False) -> None:
    """Loads a legacy `.h5` (by layer order) or a `.weights.h5` file into `model`.

    Layers that keras.applications' graph does not have (the auxiliary
    classifier) are skipped when reading a legacy file, so they keep their
    fresh initialisation.

    Args:
        model: an Inception-v3 built by this package.
        path: the weights file.
        fresh_classifier: with a legacy no-top file and a model that has
            the `predictions` classifier, load the trunk and leave the
            classifier freshly initialised (a new head for new classes).
            Defaults to `False`, which explains the mismatch instead.

    Raises:
        ValueError: the file is missing, not HDF5, or does not fit the model;
            the message names the fix.
    """
    import h5py

    path = os.fspath(path)
    validate_weights_argument(path)
    if not h5py.is_hdf5(path):
        raise ValueError(
            f"{path} is not an HDF5 weights file. Pass a legacy .h5 file such as "
            f"{IMAGENET_WEIGHTS[False][0]} or a .weights.h5 file saved by Keras 3."
        )
    if path.endswith(".weights.h5"):
        if is_folded(model):
            raise ValueError(
                f"{path} is a Keras 3 .weights.h5 file, which loads into the unfolded network "
                "only: build with fold_batch_norm=False, or pass a legacy .h5 file."
            )
        try:
            model.load_weights(path)
        except ValueError as error:
            raise ValueError(f"{path} does not fit this model: {error}") from None
        return
    if is_folded(model):
        _assign_checked(model, _folded_file_layers(path), path, fresh_classifier)
        return
    with h5py.File(path, "r") as file:
        group = file["model_weights"] if "model_weights" in file else file
        _assign_checked(model, _file_layers(group), path, fresh_classifier)


def folded_cache_path(path) -> Path:
    """Where the folded weights of the legacy file `path` are cached.

    `$KERAS_HOME/cache/inception_keras/` (read when called, else
    `~/.keras/...`); the name holds the file's SHA-256 and the Keras and NumPy
    versions, so a changed file or library never reads a stale cache.
    """
    name = (f"folded-{file_sha256(path)[:32]}-keras{keras.__version__}-numpy{np.__version__}"
            f"-v{_FOLDED_CACHE_FORMAT}.npz")
    return keras_home() / "cache" / "inception_keras" / name


def _folded_file_layers(path: str) -> list[tuple[str, list[np.ndarray]]]:
    """The folded `(name, arrays)` of a legacy file, from the cache when it holds them."""
    import h5py

    cache = folded_cache_path(path)
    try:
        with np.load(cache, allow_pickle=False) as stored:
            names = [str(n) for n in stored["names"]]
            counts = stored["counts"]
            return [(name, [stored[f"{index}_{k}"] for k in range(count)])
                    for index, (name, count) in enumerate(zip(names, counts))]
    except (OSError, KeyError, ValueError):
        pass
    with h5py.File(path, "r") as file:
        group = file["model_weights"] if "model_weights" in file else file
        try:
            layers = fold_layer_arrays(_file_layers(group), BATCH_NORM_EPSILON)
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None
    _write_cache(cache, layers)
    return layers


def _write_cache(cache: Path, layers: list[tuple[str, list[np.ndarray]]]) -> None:
    """Writes the folded arrays atomically; a cache that cannot be written is skipped."""
    arrays = {f"{index}_{k}": value for index, (_, values) in enumerate(layers) for k, value in enumerate(values)}
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(cache) as temp:
            with open(temp, "wb") as file:
                np.savez(file, names=np.array([name for name, _ in layers]),
                         counts=np.array([len(values) for _, values in layers]), **arrays)
    except OSError:
        pass


def _file_layers(group) -> list[tuple[str, list[np.ndarray]]]:
    """Returns (layer name, weight arrays) for each file layer that has weights."""
    layers = []
    for name in _decoded(group.attrs.get("layer_names", [])):
        layer_group = group[name]
        weight_names = _decoded(layer_group.attrs.get("weight_names", []))
        if weight_names:
            layers.append((name, [np.asarray(layer_group[w]) for w in weight_names]))
    return layers


def _assign_checked(model: keras.Model, file_layers: list, path: str, fresh_classifier: bool) -> None:
    """Assigns the file's weighted layers to the model's, in order, after checking they fit."""
    if not file_layers:
        raise ValueError(f"{path} holds no layer weights (no 'layer_names' attribute).")
    model_layers = [
        layer for layer in model.layers
        if layer.weights and not layer.name.startswith(_EXTRA_LAYER_PREFIX)
    ]
    has_top = any(layer.name == "predictions" for layer in model_layers)
    if fresh_classifier and has_top and len(file_layers) == len(model_layers) - 1:
        model_layers = [layer for layer in model_layers if layer.name != "predictions"]
        has_top = False
    if len(file_layers) == len(model_layers) + 1 and not has_top:
        raise ValueError(
            f"{path} includes the classifier (top) but the model was built with "
            "include_top=False; build with include_top=True or use the *_notop.h5 file."
        )
    if len(file_layers) == len(model_layers) - 1 and has_top:
        raise ValueError(
            f"{path} has no classifier (a *_notop file) but the model was built with "
            "include_top=True; build with include_top=False, use the file with the top, "
            "or set `classes` to your own number of classes for a new classifier."
        )
    if len(file_layers) != len(model_layers):
        raise ValueError(
            f"{path} has {len(file_layers)} layers with weights, the model has "
            f"{len(model_layers)}: it is not an Inception-v3 weights file for this model."
        )
    for layer, (file_name, values) in zip(model_layers, file_layers):
        expected = [tuple(w.shape) for w in layer.weights]
        received = [tuple(v.shape) for v in values]
        if expected != received:
            raise ValueError(
                f"{path}: weights of saved layer '{file_name}' have shapes {received}, "
                f"layer '{layer.name}' needs {expected}. Check `classes` and that the "
                "file is an Inception-v3 weights file."
            )
    for layer, (_, values) in zip(model_layers, file_layers):
        layer.set_weights(values)


def _decoded(names) -> list[str]:
    return [n.decode("utf8") if isinstance(n, bytes) else str(n) for n in names]
