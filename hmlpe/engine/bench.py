"""Benchmark: training and inference images/s of plain fp32 eager against the engine's own
path (device.select_device("auto")), measured side by side in one run, alternating the two so
machine noise hits both alike; achieved GFLOP/s against fp32 and bf16 matmul rates measured in
the same run; and the share of a training step spent preparing the batch.

Targets (issue 3): training and inference >= 2.2x fp32 eager; data loading < 10% of a step.

Also side by side (issue 14): the old host data path (NumPy ``make_batch`` + copy) against the
device path (``DevicePool.batch``) per batch; a whole training step as the trainer runs it
(device batch, forward, backward, update; no host sync) eager and, with ``compile_model``,
under ``torch.compile``; on a CPU with glibc, that step in child processes with glibc's default
allocator and with the engine's tuned one (``device.tune_cpu_allocator``); on a GPU, achieved
training FLOP/s as a fraction of the card's nominal dense bf16 peak (``NOMINAL_BF16_TFLOPS``).

``run_ranks_bench`` (``hmlpe bench --ranks 1 2``): training images/s of one process beside
data-parallel ranks (gloo on a CPU) at the same global batch, in one run (issue 10).
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hmlpe.config import TrainConfig
from hmlpe.data.pipeline import TrainSet
from hmlpe.engine import distributed
from hmlpe.engine.batches import DevicePool, epoch_plan, make_batch
from hmlpe.engine.batches import to_device as _to_device
from hmlpe.engine.checkpoint import build_model
from hmlpe.engine.device import DeviceSpec, autocast, select_device
from hmlpe.engine.training import _data_parallel, _shard_loss, build_optimizer
from hmlpe.network import losses
from hmlpe.network.model import count_flops
from hmlpe.provenance import atomic_write_json, git_commit, now_utc, package_versions

# Environment variables that cap the CPU kernels PyTorch and oneDNN pick, so that one machine
# can time an older CPU's path: ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 times an
# AVX2-only CPU's fp32 on an AVX-512 one (the same cores and caches: an estimate).
CPU_ISA_CAPS = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA")


def _synthetic_train_set(n: int, size: int, seed: int = 0) -> TrainSet:
    """Random 128x128 crops with plausible joints: the benchmark measures compute, not data."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)
    joints = rng.uniform(20, size - 20, size=(n, 8, 2))
    return TrainSet(
        name="synthetic",
        images=images,
        joints=joints,
        ids=[str(i) for i in range(n)],
        fingerprint="synthetic",
    )


def _sync(spec: DeviceSpec) -> None:
    if spec.device.type == "cuda":
        torch.cuda.synchronize()


def _train_steps(cfg, spec, batch, steps: int) -> float:
    """Seconds per training step (median over ``steps``) after one warm-up step."""
    torch.manual_seed(0)
    model = build_model(cfg, spec)
    opt = build_optimizer(cfg, model)
    model.train()
    x, j, p = _to_device(spec, *batch)

    def step():
        with autocast(spec):
            out = model(x)
        total, _, _ = losses.total_loss(
            (out.joints.float(), out.part_logits.float()), (j, p), cfg.loss
        )
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()

    return _median_seconds(step, spec, steps)


def _median_seconds(step, spec: DeviceSpec, steps: int, before=None) -> float:
    """Median wall time of ``step()`` over ``steps`` calls after one warm-up call; ``before()``
    (e.g. a barrier of the ranks) runs untimed ahead of each call."""
    times = []
    for i in range(steps + 1):
        if before is not None:
            before()
        _sync(spec)
        t = time.perf_counter()
        step()
        _sync(spec)
        if i:
            times.append(time.perf_counter() - t)
    return statistics.median(times)


@torch.no_grad()
def _infer_steps(cfg, spec, images: np.ndarray, steps: int) -> float:
    from hmlpe.network.model import to_input

    torch.manual_seed(0)
    model = build_model(cfg, spec).eval()
    x = to_input(images, channels_last=spec.channels_last).to(spec.device)
    times = []
    for i in range(steps + 1):
        _sync(spec)
        t = time.perf_counter()
        with autocast(spec):
            model(x)
        _sync(spec)
        if i:
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def _matmul_gflops(dtype: torch.dtype, device: torch.device, n: int = 2048, reps: int = 5) -> float:
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    torch.mm(a, b)
    times = []
    for _ in range(reps):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        torch.mm(a, b)
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return 2 * n**3 / statistics.median(times) / 1e9


# Dense bf16 tensor-core peaks from the vendors' data sheets (TFLOP/s, no sparsity), by a
# substring of torch.cuda.get_device_name(); a card not listed reports no peak fraction.
NOMINAL_BF16_TFLOPS: dict[str, float] = {
    "H200": 989.0,
    "H100 SXM": 989.0,
    "H100 NVL": 835.0,
    "H100 PCIe": 756.0,
    "H100": 756.0,
    "A100": 312.0,
    "L40S": 362.0,
    "L4": 121.0,
    "A10G": 70.0,
    "RTX 4090": 165.0,
    "RTX 3090": 71.0,
}


def nominal_bf16_tflops(name: str) -> float | None:
    """The nominal dense bf16 peak of a GPU named ``name`` (longest matching key), or None."""
    hits = [k for k in NOMINAL_BF16_TFLOPS if k.lower() in name.lower()]
    return NOMINAL_BF16_TFLOPS[max(hits, key=len)] if hits else None


def _device_pool(
    train_set: TrainSet, cfg: TrainConfig, spec: DeviceSpec, passes: int = 1
) -> DevicePool:
    pool = DevicePool(
        train_set.images,
        train_set.joints,
        spec.device,
        out=cfg.crop.input_size,
        labels=cfg.labels,
        channels_last=spec.channels_last,
    )
    a = cfg.augment
    pool.set_plan(
        epoch_plan(len(pool), passes, 0, 1, pool.height, pool.width, cfg.crop.input_size, a)
    )
    return pool


def _data_path_seconds(cfg, spec, train_set, steps: int) -> dict[str, float]:
    """Median seconds per batch of the old host path (NumPy, then the copy to the device) and
    of the device path, alternated."""
    bs = cfg.optim.batch_size
    idx, rng = np.arange(bs), np.random.default_rng(0)
    pool = _device_pool(train_set, cfg, spec, passes=steps + 1)
    old, new = [], []
    for k in range(steps + 1):
        _sync(spec)
        t = time.perf_counter()
        _to_device(spec, *make_batch(train_set, idx, rng, cfg))
        _sync(spec)
        t1 = time.perf_counter()
        pool.batch(k * bs, (k + 1) * bs)
        _sync(spec)
        if k:
            old.append(t1 - t)
            new.append(time.perf_counter() - t1)
    return {"host_numpy": statistics.median(old), "device": statistics.median(new)}


def trainer_step_seconds(
    cfg: TrainConfig, spec: DeviceSpec, steps: int, compile_model: bool = False, seed: int = 0
) -> float:
    """Median seconds of the trainer's step (``training._Stage._step``'s work: a device batch,
    autocast forward, fp32 losses, backward, update; no host sync) over ``steps`` steps after
    two warm-up steps (compilation happens there)."""
    bs = cfg.optim.batch_size
    train_set = _synthetic_train_set(bs * 4, cfg.crop.train_size, seed)
    pool = _device_pool(train_set, cfg, spec, passes=max(1, (steps + 2) // 4 + 1))
    torch.manual_seed(seed)
    model = build_model(cfg, spec)
    forward = torch.compile(model) if compile_model else model
    opt = build_optimizer(cfg, model)
    model.train()
    times = []
    for k in range(steps + 2):
        _sync(spec)
        t = time.perf_counter()
        x, j, p = pool.batch(k * bs, (k + 1) * bs)
        with autocast(spec):
            out = forward(x)
        total, _, _ = losses.total_loss(
            (out.joints.float(), out.part_logits.float()), (j, p), cfg.loss
        )
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        _sync(spec)
        if k >= 2:
            times.append(time.perf_counter() - t)
    return statistics.median(times)


_ALLOCATOR_CHILD = """
import json, sys
from hmlpe.config import TrainConfig, merge
from hmlpe.engine.bench import trainer_step_seconds
from hmlpe.engine.device import select_device
cfg = merge(TrainConfig(), {"optim.batch_size": int(sys.argv[1])})
print(json.dumps(trainer_step_seconds(cfg, select_device(sys.argv[2]), int(sys.argv[3]))))
"""


def _allocator_seconds(
    batch_size: int, device: str, steps: int, rounds: int
) -> dict[str, float] | None:
    """The trainer's step in child processes, glibc's default allocator (HMLPE_CPU_MALLOC=
    default) and the tuned one alternated; None where the allocator cannot be tuned."""
    import os
    import subprocess
    import sys

    from hmlpe.engine.device import tune_cpu_allocator

    if not tune_cpu_allocator():
        return None
    runs: dict[str, list[float]] = {"default": [], "tuned": []}
    for _ in range(rounds):
        for name in runs:
            env = {**os.environ, "HMLPE_CPU_MALLOC": "default" if name == "default" else "tuned"}
            out = subprocess.run(
                [sys.executable, "-c", _ALLOCATOR_CHILD, str(batch_size), device, str(steps)],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            runs[name].append(float(out.stdout.strip().splitlines()[-1]))
    return {k: statistics.median(v) for k, v in runs.items()}


def training_rate(cfg: TrainConfig, steps: int = 4) -> tuple[float, str]:
    """Training images per second of ``cfg`` (its model, batch size and device) on this
    machine: the median of ``steps`` training steps on synthetic crops after one warm-up
    step; and the device's label. Seconds, for an estimate before a long run."""
    spec = select_device(cfg.device)
    train_set = _synthetic_train_set(cfg.optim.batch_size, cfg.crop.train_size)
    batch = make_batch(train_set, np.arange(cfg.optim.batch_size), np.random.default_rng(0), cfg)
    return cfg.optim.batch_size / _train_steps(cfg, spec, batch, steps), spec.description


def run_bench(
    batch_size: int = 128,
    steps: int = 6,
    device: str = "auto",
    rounds: int = 2,
    out: Path | None = None,
    cfg: TrainConfig | None = None,
    compile_model: bool = False,
    allocator: bool = True,
) -> dict[str, Any]:
    cfg = cfg or TrainConfig()
    cfg = replace(cfg, optim=replace(cfg.optim, batch_size=batch_size))
    engine = select_device(device)
    baseline = select_device("cuda-fp32" if engine.device.type == "cuda" else "cpu-fp32")
    train_set = _synthetic_train_set(batch_size, cfg.crop.train_size)
    rng = np.random.default_rng(0)
    idx = np.arange(batch_size)
    batch = make_batch(train_set, idx, rng, cfg)

    # Data loading: the per-batch work of the input pipeline (random crops, mirrors, labels).
    prep = []
    for _ in range(steps):
        t = time.perf_counter()
        make_batch(train_set, idx, rng, cfg)
        prep.append(time.perf_counter() - t)
    prep_s = statistics.median(prep)

    # Alternate baseline and engine so both see the same machine state.
    t_base, t_eng, i_base, i_eng = [], [], [], []
    for _ in range(rounds):
        t_base.append(_train_steps(cfg, baseline, batch, steps))
        t_eng.append(_train_steps(cfg, engine, batch, steps))
        i_base.append(_infer_steps(cfg, baseline, batch[0], steps))
        i_eng.append(_infer_steps(cfg, engine, batch[0], steps))
    tb, te, ib, ie = (statistics.median(v) for v in (t_base, t_eng, i_base, i_eng))
    data_path = _data_path_seconds(cfg, engine, train_set, steps)
    step_eager, step_compiled = [], []
    for _ in range(rounds):
        step_eager.append(trainer_step_seconds(cfg, engine, steps))
        if compile_model:
            step_compiled.append(trainer_step_seconds(cfg, engine, steps, compile_model=True))
    se = statistics.median(step_eager)
    sc = statistics.median(step_compiled) if step_compiled else None
    alloc = (
        _allocator_seconds(batch_size, device, steps, rounds)
        if allocator and engine.device.type == "cpu"
        else None
    )
    mm32 = _matmul_gflops(torch.float32, engine.device)
    mm16 = _matmul_gflops(torch.bfloat16, engine.device)
    flops_fwd = count_flops(cfg.model)
    train_gflops = 3 * flops_fwd * batch_size / te / 1e9  # backward ~ 2x forward
    result = {
        "batch_size": batch_size,
        "steps": steps,
        "rounds": rounds,
        "baseline": baseline.description,
        "engine": engine.description,
        "train_images_per_s": {"fp32_eager": batch_size / tb, "engine": batch_size / te},
        "train_speedup": tb / te,
        "inference_images_per_s": {"fp32_eager": batch_size / ib, "engine": batch_size / ie},
        "inference_speedup": ib / ie,
        "data_loading_s_per_batch": prep_s,
        "data_loading_fraction_of_step": prep_s / (prep_s + te),
        "model_gflop_per_image_forward": flops_fwd / 1e9,
        "train_gflops_achieved": train_gflops,
        "matmul_gflops": {"fp32": mm32, "bf16": mm16},
        "train_gflops_fraction_of_matmul": {
            "fp32": train_gflops / mm32,
            "bf16": train_gflops / mm16,
        },
        "data_path_s_per_batch": data_path,
        "data_path_speedup": data_path["host_numpy"] / data_path["device"],
        "trainer_step_images_per_s": {
            "eager": batch_size / se,
            "compiled": None if sc is None else batch_size / sc,
        },
        "compile_speedup": None if sc is None else se / sc,
        "allocator_images_per_s": None
        if alloc is None
        else {k: batch_size / v for k, v in alloc.items()},
        "allocator_speedup": None if alloc is None else alloc["default"] / alloc["tuned"],
        "threads": torch.get_num_threads(),
        # kernel caps that make this CPU time like an older one (AVX2 only: README)
        "cpu_isa_caps": {k: os.environ[k] for k in CPU_ISA_CAPS if k in os.environ},
        "git_commit": git_commit(),
        "created": now_utc(),
        "versions": package_versions(),
    }
    if engine.device.type == "cuda":
        name = torch.cuda.get_device_name(engine.device)
        peak = nominal_bf16_tflops(name)
        best = batch_size / min(se, sc or se)
        achieved = 3 * flops_fwd * best / 1e12
        result["gpu"] = {
            "name": name,
            "nominal_bf16_tflops": peak,
            "trainer_tflops_achieved": achieved,
            "fraction_of_nominal_bf16_peak": None if peak is None else achieved / peak,
            "fraction_of_measured_bf16_matmul": achieved * 1e3 / mm16,
        }
    if out is not None:
        atomic_write_json(Path(out), result)
    return result


def print_table(r: dict[str, Any]) -> None:
    print(f"baseline: {r['baseline']}\nengine:   {r['engine']}\n")
    print(f"{'':28s}{'fp32 eager':>12s}{'engine':>12s}{'ratio':>8s}")
    for key, label in (("train", "training images/s"), ("inference", "inference images/s")):
        v = r[f"{key}_images_per_s"]
        print(f"{label:28s}{v['fp32_eager']:12.1f}{v['engine']:12.1f}{r[f'{key}_speedup']:7.2f}x")
    print(
        f"\ndata loading per batch: {r['data_loading_s_per_batch'] * 1e3:.1f} ms "
        f"({100 * r['data_loading_fraction_of_step']:.1f}% of a training step)"
    )
    print(
        f"training GFLOP/s achieved: {r['train_gflops_achieved']:.1f} "
        f"(matmul fp32 {r['matmul_gflops']['fp32']:.1f}, bf16 {r['matmul_gflops']['bf16']:.1f}; "
        f"fractions {r['train_gflops_fraction_of_matmul']['fp32']:.2f} / "
        f"{r['train_gflops_fraction_of_matmul']['bf16']:.2f})"
    )
    if "data_path_s_per_batch" not in r:  # a result file written before issue 14
        return
    d = r["data_path_s_per_batch"]
    print(f"\n{'':28s}{'old':>12s}{'new':>12s}{'ratio':>8s}")
    print(
        f"{'data path, ms per batch':28s}{d['host_numpy'] * 1e3:12.1f}{d['device'] * 1e3:12.1f}"
        f"{r['data_path_speedup']:7.2f}x   (host NumPy + copy / on the device)"
    )
    s = r["trainer_step_images_per_s"]
    if s["compiled"] is not None:
        print(
            f"{'trainer step, images/s':28s}{s['eager']:12.1f}{s['compiled']:12.1f}"
            f"{r['compile_speedup']:7.2f}x   (eager / torch.compile)"
        )
    else:
        print(f"{'trainer step, images/s':28s}{s['eager']:12.1f}   (eager; --compile to compare)")
    a = r.get("allocator_images_per_s")
    if a:
        print(
            f"{'trainer step, images/s':28s}{a['default']:12.1f}{a['tuned']:12.1f}"
            f"{r['allocator_speedup']:7.2f}x   (glibc default / tuned allocator)"
        )
    g = r.get("gpu")
    if g:
        frac = g["fraction_of_nominal_bf16_peak"]
        print(
            f"\nGPU {g['name']}: {g['trainer_tflops_achieved']:.1f} TFLOP/s in training, "
            + (
                f"{frac:.1%} of its nominal bf16 peak ({g['nominal_bf16_tflops']:g})"
                if frac is not None
                else "nominal peak unknown"
            )
            + f", {g['fraction_of_measured_bf16_matmul']:.1%} of the measured bf16 matmul"
        )


# --- data parallel: 1 process against N gloo (or NCCL) ranks, the same global batch ---------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ranks_worker(
    rank: int,
    world: int,
    port: int,
    threads: int,
    cfg: TrainConfig,
    device: str,
    steps: int,
    out: str,
) -> None:
    """One rank of the data-parallel benchmark: ``steps`` timed training steps (after one
    warm-up) of its shard of a fixed synthetic global batch; rank 0 writes the median."""
    import json
    import os

    torch.set_num_threads(threads)
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world),
    )
    with distributed.session(device) as ctx:
        spec = select_device(device)
        batch_size = cfg.optim.batch_size
        train_set = _synthetic_train_set(batch_size, cfg.crop.train_size)
        idx = np.arange(batch_size)
        part = distributed.shard(batch_size, ctx) if ctx.enabled else None
        x, j, p = _to_device(spec, *make_batch(train_set, idx, np.random.default_rng(0), cfg, part))
        torch.manual_seed(0)
        model = build_model(cfg, spec)
        net = _data_parallel(model, cfg, spec, ctx)
        opt = build_optimizer(cfg, model)
        net.train()

        def step():
            with autocast(spec):
                out_ = net(x)
            if ctx.enabled:
                loss, _ = _shard_loss(out_, j, p, cfg, ctx, batch_size)
            else:
                loss, _, _ = losses.total_loss(
                    (out_.joints.float(), out_.part_logits.float()), (j, p), cfg.loss
                )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        seconds = _median_seconds(step, spec, steps, before=lambda: distributed.barrier(ctx))
        if ctx.is_main:
            Path(out).write_text(
                json.dumps({"step_s": seconds, "device": spec.description, "backend": ctx.backend})
            )


def run_ranks_bench(
    ranks: tuple[int, ...] = (1, 2),
    batch_size: int = 128,
    steps: int = 6,
    device: str = "auto",
    rounds: int = 2,
    out: Path | None = None,
    cfg: TrainConfig | None = None,
) -> dict[str, Any]:
    """Training images/s of one process and of data-parallel ranks (``distributed``: each rank
    computes its shard of the same global batch, DDP all-reduces the gradients), measured in
    one run, alternating the rank counts over ``rounds``. The cores are shared: each of N ranks
    gets 1/N of this process's threads (at least one), as torchrun's one thread per rank does on
    a small machine. On one CPU no speed-up is expected: the point is correctness, the scaling
    is for GPUs and nodes."""
    import json
    import tempfile

    import torch.multiprocessing as mp

    cfg = cfg or TrainConfig()
    cfg = replace(cfg, optim=replace(cfg.optim, batch_size=batch_size))
    total_threads = torch.get_num_threads()
    times: dict[int, list[float]] = {n: [] for n in ranks}
    seen: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            for n in ranks:
                threads = max(1, total_threads // n)
                result_file = Path(tmp) / f"ranks_{n}.json"
                mp.spawn(
                    _ranks_worker,
                    args=(n, _free_port(), threads, cfg, device, steps, str(result_file)),
                    nprocs=n,
                    join=True,
                )
                seen[n] = json.loads(result_file.read_text())
                times[n].append(seen[n]["step_s"])
    step_s = {n: statistics.median(v) for n, v in times.items()}
    base = step_s[ranks[0]]
    result = {
        "global_batch_size": batch_size,
        "steps": steps,
        "rounds": rounds,
        "device": seen[ranks[0]]["device"],
        "threads_total": total_threads,
        "ranks": {
            str(n): {
                "backend": seen[n]["backend"] or "none (one process)",
                "threads_per_rank": max(1, total_threads // n),
                "step_s": step_s[n],
                "train_images_per_s": batch_size / step_s[n],
                f"speedup_vs_{ranks[0]}": base / step_s[n],
            }
            for n in ranks
        },
        "git_commit": git_commit(),
        "created": now_utc(),
        "versions": package_versions(),
    }
    if out is not None:
        atomic_write_json(Path(out), result)
    return result


def print_ranks_table(r: dict[str, Any]) -> None:
    first = next(iter(r["ranks"]))
    print(f"data-parallel training, global batch {r['global_batch_size']}, {r['device']}\n")
    print(
        f"{'ranks':>6s}  {'backend':20s}{'threads/rank':>13s}{'images/s':>11s}"
        f"{f'vs {first} rank':>11s}"
    )
    for n, v in r["ranks"].items():
        print(
            f"{n:>6s}  {v['backend']:20s}{v['threads_per_rank']:13d}"
            f"{v['train_images_per_s']:11.1f}{v[f'speedup_vs_{first}']:10.2f}x"
        )
