"""Device selection logic, with CUDA and CPU features faked by monkeypatching."""

from __future__ import annotations

import pytest
import torch

from hmlpe.engine import device as dev
from hmlpe.engine.device import (
    ALLOWED,
    DeviceError,
    DeviceSpec,
    autocast,
    cpu_has_native_bf16,
    select_device,
)


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.delenv("HMLPE_CPU_BF16", raising=False)


def test_unknown_device_lists_allowed():
    with pytest.raises(ValueError) as e:
        select_device("tpu")
    for name in ALLOWED:
        assert name in str(e.value)


def test_cuda_without_cuda_is_a_clear_error(no_cuda):
    for name in ("cuda", "cuda-fp32"):
        with pytest.raises(DeviceError, match="CUDA"):
            select_device(name)


def test_cpu_fp32_baseline(no_cuda):
    spec = select_device("cpu-fp32")
    assert spec.device == torch.device("cpu") and spec.dtype is None and not spec.channels_last
    assert "fp32" in spec.description


@pytest.mark.parametrize("requested", ["auto", "cpu"])
def test_cpu_with_native_bf16(monkeypatch, no_cuda, requested):
    monkeypatch.setattr(dev, "cpu_has_native_bf16", lambda: True)
    spec = select_device(requested)
    assert spec.device.type == "cpu" and spec.dtype is torch.bfloat16 and spec.channels_last
    assert "bf16" in spec.description


@pytest.mark.parametrize("requested", ["auto", "cpu"])
def test_cpu_without_native_bf16_is_fp32(monkeypatch, no_cuda, requested):
    monkeypatch.setattr(dev, "cpu_has_native_bf16", lambda: False)
    spec = select_device(requested)
    assert spec.device.type == "cpu" and spec.dtype is None and spec.channels_last
    assert spec != select_device("cpu-fp32")  # the baseline stays NCHW


@pytest.mark.parametrize("bf16, expect", [(True, torch.bfloat16), (False, torch.float16)])
def test_auto_prefers_cuda(monkeypatch, bf16, expect):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "Fake GPU")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    for requested in ("auto", "cuda"):
        spec = select_device(requested)
        assert spec.device.type == "cuda" and spec.dtype is expect and spec.channels_last
        assert "Fake GPU" in spec.description
    base = select_device("cuda-fp32")
    assert base.dtype is None and not base.channels_last
    assert select_device("cpu-fp32").device.type == "cpu"


def _fake_cpu(monkeypatch, flags=(), capability="AVX2", onednn=False):
    monkeypatch.setattr(dev, "_cpuinfo_flags", lambda *a: set(flags))
    monkeypatch.setattr(dev, "_torch_cpu_capability", lambda: capability)
    monkeypatch.setattr(dev, "_onednn_bf16", lambda: onednn)


@pytest.mark.parametrize(
    "flags, capability, onednn, expect",
    [
        (("avx2", "fma"), "AVX2", False, False),  # e.g. AMD Zen 3: bf16 only emulated
        (("avx2",), "AVX2", True, False),  # oneDNN alone is not enough
        (("avx512f", "avx512_bf16"), "AVX512", False, True),
        (("amx_bf16", "amx_tile"), "AMX", False, True),
        ((), "AVX512", True, True),  # no /proc/cpuinfo: torch's view decides
        ((), "AMX", True, True),
        ((), "AVX512", False, False),
        ((), "", False, False),
    ],
)
def test_cpu_bf16_detection(monkeypatch, clean_env, flags, capability, onednn, expect):
    _fake_cpu(monkeypatch, flags, capability, onednn)
    assert cpu_has_native_bf16() is expect


def test_cpu_bf16_env_override(monkeypatch):
    _fake_cpu(monkeypatch)
    monkeypatch.setenv("HMLPE_CPU_BF16", "1")
    assert cpu_has_native_bf16() is True
    _fake_cpu(monkeypatch, ("avx512_bf16",))
    monkeypatch.setenv("HMLPE_CPU_BF16", "0")
    assert cpu_has_native_bf16() is False


def test_cpuinfo_flags_parsing(tmp_path):
    f = tmp_path / "cpuinfo"
    f.write_text(
        "processor\t: 0\nmodel name\t: Fake\nflags\t\t: fpu avx2 avx512_bf16\n\nflags\t: other\n"
    )
    assert dev._cpuinfo_flags(f) == {"fpu", "avx2", "avx512_bf16"}
    assert dev._cpuinfo_flags(tmp_path / "missing") == set()


def test_autocast_contexts():
    a = torch.randn(4, 4)
    with autocast(DeviceSpec(torch.device("cpu"), None, False, "fp32")):
        assert (a @ a).dtype == torch.float32
    with autocast(DeviceSpec(torch.device("cpu"), torch.bfloat16, True, "bf16")):
        assert (a @ a).dtype == torch.bfloat16
    assert (a @ a).dtype == torch.float32


def test_this_machine_selects_something_consistent():
    spec = select_device("auto")
    assert isinstance(spec, DeviceSpec)
    assert spec.dtype in (None, torch.bfloat16, torch.float16)
    if spec.device.type == "cpu":
        assert (spec.dtype is torch.bfloat16) == cpu_has_native_bf16()
