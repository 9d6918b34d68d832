"""`--precision auto`: bfloat16 only where the hardware runs it natively; emulated bfloat16 warns."""

from __future__ import annotations

import warnings

import pytest

from deepdream import hardware

ZEN4 = frozenset({"avx2", "avx512f", "avx512_bf16", "fma"})
SKYLAKE_SERVER = frozenset({"avx2", "avx512f", "avx512bw", "fma"})
SAPPHIRE_RAPIDS = frozenset({"avx2", "avx512f", "amx_tile", "amx_bf16", "amx_int8"})


@pytest.mark.parametrize("flags, capability, expected", [
    (ZEN4, None, "bfloat16"),
    (SAPPHIRE_RAPIDS, None, "bfloat16"),
    (SKYLAKE_SERVER, None, "float32"),
    (frozenset(), None, "float32"),
    (SKYLAKE_SERVER, (8, 0), "bfloat16"),
    (ZEN4, (7, 5), "float32"),  # the GPU runs the network, whatever the CPU has
    (SKYLAKE_SERVER, (9, 0), "bfloat16"),
])
def test_auto_precision_follows_native_bfloat16(flags, capability, expected):
    assert hardware.auto_precision(flags, capability) == expected


def _fake_machine(monkeypatch, flags, capability=None):
    monkeypatch.setattr(hardware, "cpu_flags", lambda: flags)
    monkeypatch.setattr(hardware, "gpu_compute_capability", lambda: capability)


def test_explicit_bfloat16_without_native_support_warns_in_one_line(monkeypatch):
    _fake_machine(monkeypatch, SKYLAKE_SERVER)
    with pytest.warns(UserWarning) as caught:
        assert hardware.resolve_precision("bfloat16") == "bfloat16"
    message = str(caught[0].message)
    assert "\n" not in message and "slower than float32" in message and "AVX512_BF16" in message
    assert hardware.resolve_precision("auto") == "float32"


def test_native_bfloat16_and_other_precisions_do_not_warn(monkeypatch):
    _fake_machine(monkeypatch, ZEN4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert hardware.resolve_precision("bfloat16") == "bfloat16"
        assert hardware.resolve_precision("auto") == "bfloat16"
        assert hardware.resolve_precision("float32") == "float32"


def test_cpu_flags_of_this_machine_are_read():
    flags = hardware.cpu_flags()
    assert isinstance(flags, frozenset)
    if flags:  # Linux: the flags every x86-64 or ARM CPU reports
        assert flags & {"sse2", "fp", "asimd", "fpu"}


def test_cli_default_precision_is_auto():
    from deepdream.cli import build_parser

    assert build_parser().parse_args(["x.png"]).precision == "auto"
