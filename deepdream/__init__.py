"""DeepDream on Inception-v3: photos, folders, videos, zoom animations and renders from noise.

Names are imported on first use, so `python -m deepdream` can configure the
backend's logging before Keras loads.
"""

import importlib

_EXPORTS = {
    "DEFAULT_LAYERS": "deepdream.options",
    "DreamOptions": "deepdream.options",
    "EngineOptions": "deepdream.options",
    "VideoOptions": "deepdream.options",
    "ZoomOptions": "deepdream.options",
    "RenderOptions": "deepdream.options",
    "dream_still": "deepdream.jobs",
    "dream_batch": "deepdream.jobs",
    "dream_video": "deepdream.jobs",
    "dream_zoom": "deepdream.jobs",
    "DeepDream": "deepdream.engine",
    "dream": "deepdream.engine",
    "LayerTerm": "deepdream.options",
    "parse_layer_spec": "deepdream.options",
    "octave_shapes": "deepdream.octaves",
    "Renderer": "deepdream.render",
    "render": "deepdream.render",
    "gallery": "deepdream.gallery",
    "dream_frames": "deepdream.video_dream",
    "probe_video": "deepdream.video_io",
    "read_video": "deepdream.video_io",
    "write_video": "deepdream.video_io",
    "zoom_frames": "deepdream.zoom",
    "collect_inputs": "deepdream.batch",
    "load_image": "inception_keras.images",
    "save_image": "inception_keras.images",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'deepdream' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
