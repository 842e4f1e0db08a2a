"""Benchmark: training and inference images/s of plain fp32 eager against the engine's own
path (device.select_device("auto")), measured side by side in one run, alternating the two so
machine noise hits both alike; achieved GFLOP/s against fp32 and bf16 matmul rates measured in
the same run; and the share of a training step spent preparing the batch.

Targets (issue 3): training and inference >= 2.2x fp32 eager; data loading < 10% of a step.

``run_ranks_bench`` (``hmlpe bench --ranks 1 2``): training images/s of one process beside
data-parallel ranks (gloo on a CPU) at the same global batch, in one run (issue 10).
"""
from __future__ import annotations

import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hmlpe.network import losses
from hmlpe.config import TrainConfig
from hmlpe.engine.device import DeviceSpec, autocast, select_device
from hmlpe.network.model import count_flops
from hmlpe.provenance import atomic_write_json, git_commit, now_utc, package_versions
from hmlpe.engine.checkpoint import build_model
from hmlpe.engine import distributed
from hmlpe.engine.batches import make_batch, to_device as _to_device
from hmlpe.engine.training import (_data_parallel, _shard_loss, build_optimizer)
from hmlpe.data.pipeline import TrainSet


def _synthetic_train_set(n: int, size: int, seed: int = 0) -> TrainSet:
    """Random 128x128 crops with plausible joints: the benchmark measures compute, not data."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)
    joints = rng.uniform(20, size - 20, size=(n, 8, 2))
    return TrainSet(name="synthetic", images=images, joints=joints, ids=[str(i) for i in range(n)],
                    fingerprint="synthetic")


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
        total, _, _ = losses.total_loss((out.joints.float(), out.part_logits.float()), (j, p), cfg.loss)
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
    return 2 * n ** 3 / statistics.median(times) / 1e9


def run_bench(batch_size: int = 128, steps: int = 6, device: str = "auto", rounds: int = 2,
              out: Path | None = None, cfg: TrainConfig | None = None) -> dict[str, Any]:
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
    mm32 = _matmul_gflops(torch.float32, engine.device)
    mm16 = _matmul_gflops(torch.bfloat16, engine.device)
    flops_fwd = count_flops(cfg.model)
    train_gflops = 3 * flops_fwd * batch_size / te / 1e9  # backward ~ 2x forward
    result = {
        "batch_size": batch_size, "steps": steps, "rounds": rounds,
        "baseline": baseline.description, "engine": engine.description,
        "train_images_per_s": {"fp32_eager": batch_size / tb, "engine": batch_size / te},
        "train_speedup": tb / te,
        "inference_images_per_s": {"fp32_eager": batch_size / ib, "engine": batch_size / ie},
        "inference_speedup": ib / ie,
        "data_loading_s_per_batch": prep_s,
        "data_loading_fraction_of_step": prep_s / (prep_s + te),
        "model_gflop_per_image_forward": flops_fwd / 1e9,
        "train_gflops_achieved": train_gflops,
        "matmul_gflops": {"fp32": mm32, "bf16": mm16},
        "train_gflops_fraction_of_matmul": {"fp32": train_gflops / mm32, "bf16": train_gflops / mm16},
        "threads": torch.get_num_threads(),
        "git_commit": git_commit(), "created": now_utc(), "versions": package_versions(),
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
    print(f"\ndata loading per batch: {r['data_loading_s_per_batch'] * 1e3:.1f} ms "
          f"({100 * r['data_loading_fraction_of_step']:.1f}% of a training step)")
    print(f"training GFLOP/s achieved: {r['train_gflops_achieved']:.1f} "
          f"(matmul fp32 {r['matmul_gflops']['fp32']:.1f}, bf16 {r['matmul_gflops']['bf16']:.1f}; "
          f"fractions {r['train_gflops_fraction_of_matmul']['fp32']:.2f} / "
          f"{r['train_gflops_fraction_of_matmul']['bf16']:.2f})")


# --- data parallel: 1 process against N gloo (or NCCL) ranks, the same global batch ---------

def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ranks_worker(rank: int, world: int, port: int, threads: int, cfg: TrainConfig, device: str,
                  steps: int, out: str) -> None:
    """One rank of the data-parallel benchmark: ``steps`` timed training steps (after one
    warm-up) of its shard of a fixed synthetic global batch; rank 0 writes the median."""
    import json
    import os

    torch.set_num_threads(threads)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(world))
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
                loss, _, _ = losses.total_loss((out_.joints.float(), out_.part_logits.float()),
                                               (j, p), cfg.loss)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        seconds = _median_seconds(step, spec, steps, before=lambda: distributed.barrier(ctx))
        if ctx.is_main:
            Path(out).write_text(json.dumps({"step_s": seconds,
                                             "device": spec.description,
                                             "backend": ctx.backend}))


def run_ranks_bench(ranks: tuple[int, ...] = (1, 2), batch_size: int = 128, steps: int = 6,
                    device: str = "auto", rounds: int = 2, out: Path | None = None,
                    cfg: TrainConfig | None = None) -> dict[str, Any]:
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
                result = Path(tmp) / f"ranks_{n}.json"
                mp.spawn(_ranks_worker, args=(n, _free_port(), threads, cfg, device, steps,
                                              str(result)), nprocs=n, join=True)
                seen[n] = json.loads(result.read_text())
                times[n].append(seen[n]["step_s"])
    step_s = {n: statistics.median(v) for n, v in times.items()}
    base = step_s[ranks[0]]
    result = {
        "global_batch_size": batch_size, "steps": steps, "rounds": rounds,
        "device": seen[ranks[0]]["device"], "threads_total": total_threads,
        "ranks": {str(n): {"backend": seen[n]["backend"] or "none (one process)",
                           "threads_per_rank": max(1, total_threads // n),
                           "step_s": step_s[n],
                           "train_images_per_s": batch_size / step_s[n],
                           f"speedup_vs_{ranks[0]}": base / step_s[n]} for n in ranks},
        "git_commit": git_commit(), "created": now_utc(), "versions": package_versions(),
    }
    if out is not None:
        atomic_write_json(Path(out), result)
    return result


def print_ranks_table(r: dict[str, Any]) -> None:
    first = next(iter(r["ranks"]))
    print(f"data-parallel training, global batch {r['global_batch_size']}, {r['device']}\n")
    print(f"{'ranks':>6s}  {'backend':20s}{'threads/rank':>13s}{'images/s':>11s}"
          f"{f'vs {first} rank':>11s}")
    for n, v in r["ranks"].items():
        print(f"{n:>6s}  {v['backend']:20s}{v['threads_per_rank']:13d}"
              f"{v['train_images_per_s']:11.1f}{v[f'speedup_vs_{first}']:10.2f}x")
