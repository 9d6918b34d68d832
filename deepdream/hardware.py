"""What the machine runs well: the precision `auto` picks, when a whole image fits in one piece, where tiles run.

bfloat16 halves the convolution time where the hardware computes it
natively (a CPU with AVX512_BF16 or AMX, an NVIDIA GPU of compute capability
8.0 or above) and is several times slower where it is emulated (an AVX-512
CPU without AVX512_BF16: 2.5 s against 0.85 s per 960x640 step). The choice
is one pure function, `native_bfloat16`, so tests can fake the flags.
"""

from __future__ import annotations

import warnings
from pathlib import Path

# CPU flags (as /proc/cpuinfo spells them) of native bfloat16 arithmetic.
BFLOAT16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
# Ampere and later GPUs have bfloat16 tensor cores.
BFLOAT16_MIN_COMPUTE_CAPABILITY = (8, 0)
# Whole-image gradients up to this size on a GPU with at least `_GPU_WHOLE_IMAGE_MEMORY` bytes:
# a float32 3840x2160 step through mixed7 needs about 8 GB of activations.
GPU_WHOLE_IMAGE_PIXELS = 3840 * 2160
_GPU_WHOLE_IMAGE_MEMORY = 16 * 2**30
# On a CPU one piece up to 1280x1024; above it, 512-pixel tiles keep memory flat (benchmarks/RESULTS.md).
CPU_WHOLE_IMAGE_PIXELS = 1280 * 1024


def native_bfloat16(cpu_flags: frozenset[str] | set[str], gpu_capability: tuple[int, int] | None) -> bool:
    """Whether the device that will run the network computes bfloat16 natively.

    Args:
        cpu_flags: the CPU's feature flags (lower case, as in /proc/cpuinfo).
        gpu_capability: the GPU's CUDA compute capability, or `None` when
            the network runs on the CPU.
    """
    if gpu_capability is not None:
        return tuple(gpu_capability) >= BFLOAT16_MIN_COMPUTE_CAPABILITY
    return bool(BFLOAT16_CPU_FLAGS & set(cpu_flags))


def auto_precision(cpu_flags: frozenset[str] | set[str], gpu_capability: tuple[int, int] | None) -> str:
    """`"bfloat16"` where it is native, else `"float32"` (float16 is not picked: never measured faster)."""
    return "bfloat16" if native_bfloat16(cpu_flags, gpu_capability) else "float32"


def resolve_precision(precision: str) -> str:
    """Turns `"auto"` into this machine's precision; warns (one line) for emulated bfloat16."""
    if precision not in ("auto", "bfloat16"):
        return precision
    flags, capability = cpu_flags(), gpu_compute_capability()
    if precision == "auto":
        return auto_precision(flags, capability)
    if not native_bfloat16(flags, capability):
        device = f"this GPU (compute capability {capability[0]}.{capability[1]})" if capability else (
            "this CPU (no AVX512_BF16 or AMX)")
        warnings.warn(f"bfloat16 is emulated on {device} and runs slower than float32; "
                      "use --precision auto or float32.", stacklevel=3)
    return precision


def cpu_flags() -> frozenset[str]:
    """The CPU feature flags from /proc/cpuinfo; empty where there is none (then float32 is picked)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def gpu_compute_capability() -> tuple[int, int] | None:
    """The compute capability of the first GPU the Keras backend uses, or `None` without one."""
    device = _first_gpu()
    if device is None:
        return None
    import keras

    if keras.backend.backend() == "jax":
        value = getattr(device, "compute_capability", None)
        return tuple(int(v) for v in str(value).split(".")[:2]) if value else None
    if keras.backend.backend() == "torch":
        import torch

        return tuple(torch.cuda.get_device_capability(device))
    import tensorflow as tf

    capability = tf.config.experimental.get_device_details(device).get("compute_capability")
    return tuple(capability) if capability else None


def default_whole_image_pixels() -> int:
    """Up to how many pixels a gradient is taken on the whole image rather than in tiles."""
    device = _first_gpu()
    if device is None:
        return CPU_WHOLE_IMAGE_PIXELS
    memory = _gpu_memory(device)
    if memory is None or memory >= _GPU_WHOLE_IMAGE_MEMORY:
        return GPU_WHOLE_IMAGE_PIXELS
    return CPU_WHOLE_IMAGE_PIXELS


def default_device_tiles() -> bool:
    """Whether images above the whole-image limit are tiled inside the device program (else the host tiled loop).

    On a GPU, yes: no tile crosses the bus (not yet measured on a GPU). On a
    CPU, no: at 3840x2160 the tiles in the program took as long on
    TensorFlow and 1.6x as long on JAX (XLA:CPU runs the network slowly
    inside a loop), and at 7680x4320 TensorFlow's peaked at 4.8 GiB against
    the host loop's 1.9 (benchmarks/RESULTS.md, "Tiles on the device").
    """
    return has_gpu()


def device_name() -> str:
    """The device the network runs on, for people: `"GPU: NVIDIA H100 80GB HBM3"` or `"CPU: AMD EPYC"`."""
    device = _first_gpu()
    if device is None:
        return f"CPU: {cpu_model_name()}"
    import keras

    if keras.backend.backend() == "jax":
        return f"GPU: {getattr(device, 'device_kind', 'unknown')}"
    if keras.backend.backend() == "torch":
        import torch

        return f"GPU: {torch.cuda.get_device_name(device)}"
    import tensorflow as tf

    return f"GPU: {tf.config.experimental.get_device_details(device).get('device_name', 'unknown')}"


def cpu_model_name() -> str:
    """The CPU's model name from /proc/cpuinfo (as `lscpu` shows it), else the platform's processor."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine() or "unknown"


def gpu_memory_bytes() -> int | None:
    """The memory of the first GPU the Keras backend uses (its JAX limit where JAX reports one), or `None`."""
    device = _first_gpu()
    return None if device is None else _gpu_memory(device)


def has_gpu() -> bool:
    """Whether the Keras backend runs on a GPU."""
    return _first_gpu() is not None


def _first_gpu():
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        devices = jax.devices()
        return devices[0] if devices and devices[0].platform == "gpu" else None
    if backend == "tensorflow":
        import tensorflow as tf

        devices = tf.config.list_physical_devices("GPU")
        return devices[0] if devices else None
    if backend == "torch":
        import torch

        return torch.device("cuda", 0) if torch.cuda.is_available() else None
    return None


def _gpu_memory(device) -> int | None:
    if getattr(device, "type", None) == "cuda":  # a torch device
        import torch

        return int(torch.cuda.get_device_properties(device).total_memory)
    stats = getattr(device, "memory_stats", None)
    if stats is None:
        return None
    try:
        return int((stats() or {}).get("bytes_limit", 0)) or None
    except Exception:  # not every JAX platform reports memory
        return None
