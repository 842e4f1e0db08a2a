"""Choosing where and in which precision the network runs.

``select_device(requested)``:

- "auto": CUDA if present (bf16 autocast if the GPU supports bf16, else fp16; channels_last);
  otherwise the CPU, with bf16 autocast + channels_last only when the CPU has *native* bf16
  arithmetic (AVX512-BF16 or AMX-BF16), else fp32 with channels_last. On CPUs without native
  bf16 (e.g. AVX2 only) oneDNN emulates bf16 convolutions and they are an order of magnitude
  slower than fp32 (measured on a 2-core AMD EPYC (Zen 3, AVX2), batch 128 training step of the
  default network: ~5 img/s bf16 + channels_last against ~65-80 img/s fp32 NCHW), so "auto"
  never picks bf16 there; fp32 with channels_last memory was ~1.25-1.5x faster than NCHW on
  the same machine (oneDNN's NHWC convolutions), so it is kept.
- "cpu": the CPU, with the same rule as "auto" uses for it.
- "cpu-fp32": plain fp32 eager on the CPU, contiguous NCHW (the benchmark's baseline).
- "cuda": CUDA with autocast as above; an error if CUDA is not available.
- "cuda-fp32": CUDA in plain fp32 (the benchmark's GPU baseline).

CPU bf16 detection (``cpu_has_native_bf16``): true when /proc/cpuinfo lists ``avx512_bf16`` or
``amx_bf16``, or PyTorch's oneDNN reports bf16 support (``torch.ops.mkldnn._is_mkldnn_bf16_supported``)
together with an AVX512 or AMX capability (``torch.backends.cpu.get_cpu_capability()``).
``HMLPE_CPU_BF16=1`` / ``=0`` overrides the detection.

CPU memory allocator (``tune_cpu_allocator``, applied whenever a CPU device is selected): glibc
serves every allocation above 128 kB-32 MB by a fresh ``mmap`` and returns it to the system on
free, so each training step page-faults its activations and gradients in again (measured on
this project's 2-core AMD EPYC (Zen 4), batch 32, bf16: a third of the step was system time).
Raising the mmap and trim thresholds to 1 GiB keeps freed blocks for reuse: 285-313 against
446-554 training images/s (bf16, batch 32) and 136 against 187 (fp32 eager), measured side by
side (``hmlpe bench`` reports it). ``HMLPE_CPU_MALLOC=default`` leaves glibc as it is.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from hmlpe.errors import DeviceError  # noqa: F401  (re-exported)

ALLOWED: tuple[str, ...] = ("auto", "cpu", "cpu-fp32", "cuda", "cuda-fp32")
_CPUINFO = Path("/proc/cpuinfo")


@dataclass(frozen=True)
class DeviceSpec:
    device: torch.device
    dtype: torch.dtype | None  # autocast dtype; None: plain fp32
    channels_last: bool
    description: str


def _cpuinfo_flags(path: Path = _CPUINFO) -> set[str]:
    try:
        text = path.read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def _torch_cpu_capability() -> str:
    try:
        return str(torch.backends.cpu.get_cpu_capability())
    except Exception:  # noqa: BLE001 - older torch or unusual builds
        return ""


def _onednn_bf16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except Exception:  # noqa: BLE001
        return False


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (module docstring)."""
    override = os.environ.get("HMLPE_CPU_BF16")
    if override in ("0", "1"):
        return override == "1"
    flags = _cpuinfo_flags()
    if flags & {"avx512_bf16", "amx_bf16"}:
        return True
    capability = _torch_cpu_capability().upper()
    return _onednn_bf16() and ("AVX512" in capability or "AMX" in capability)


_ALLOCATOR_TUNED: bool | None = None
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)


def tune_cpu_allocator(threshold: int = 1 << 30) -> bool:
    """Raise glibc's mmap and trim thresholds (module docstring); True when applied. A no-op
    (False) without glibc or with ``HMLPE_CPU_MALLOC=default``; idempotent."""
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED is not None:
        return _ALLOCATOR_TUNED
    _ALLOCATOR_TUNED = False
    if os.environ.get("HMLPE_CPU_MALLOC") == "default":
        return False
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        _ALLOCATOR_TUNED = bool(
            libc.mallopt(_M_MMAP_THRESHOLD, threshold)
            and libc.mallopt(_M_TRIM_THRESHOLD, threshold)
        )
    except (OSError, AttributeError):  # not glibc (macOS, musl): leave the allocator alone
        pass
    return _ALLOCATOR_TUNED


def _cpu_name() -> str:
    try:
        for line in _CPUINFO.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "cpu"


def _cuda_spec(fp32: bool) -> DeviceSpec:
    if not torch.cuda.is_available():
        raise DeviceError(
            "CUDA was requested but torch.cuda.is_available() is False "
            f"(torch {torch.__version__}); use device 'auto' or 'cpu'"
        )
    name = torch.cuda.get_device_name(0)
    if fp32:
        return DeviceSpec(torch.device("cuda"), None, False, f"cuda ({name}), fp32, NCHW")
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    label = "bf16" if dtype is torch.bfloat16 else "fp16"
    return DeviceSpec(
        torch.device("cuda"), dtype, True, f"cuda ({name}), {label} autocast, channels_last"
    )


def _cpu_spec(fp32: bool) -> DeviceSpec:
    tune_cpu_allocator()
    threads = torch.get_num_threads()
    where = f"cpu ({_cpu_name()}, {threads} threads)"
    if fp32:
        return DeviceSpec(torch.device("cpu"), None, False, f"{where}, fp32 eager, NCHW")
    if cpu_has_native_bf16():
        return DeviceSpec(
            torch.device("cpu"), torch.bfloat16, True, f"{where}, bf16 autocast, channels_last"
        )
    return DeviceSpec(
        torch.device("cpu"),
        None,
        True,
        f"{where}, fp32, channels_last (no native bf16 on this CPU)",
    )


def select_device(requested: str = "auto") -> DeviceSpec:
    """Device, autocast dtype and memory format for ``requested`` (one of ``ALLOWED``)."""
    if requested not in ALLOWED:
        raise DeviceError(f"unknown device {requested!r}; allowed: {', '.join(ALLOWED)}")
    if requested == "auto":
        return _cuda_spec(False) if torch.cuda.is_available() else _cpu_spec(False)
    if requested.startswith("cuda"):
        return _cuda_spec(requested == "cuda-fp32")
    return _cpu_spec(requested == "cpu-fp32")


def autocast(spec: DeviceSpec):
    """``torch.autocast`` for the spec's dtype, or a no-op context for plain fp32."""
    if spec.dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=spec.device.type, dtype=spec.dtype)
