"""Data-parallel plumbing for ``torchrun`` (the training engine's only contact with
``torch.distributed``).

``torchrun --nproc_per_node N -m hmlpe train ...`` starts N processes and gives each the
environment variables ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and
``MASTER_PORT``; ``session`` reads them, joins the process group (NCCL when training on CUDA,
gloo on the CPU) and leaves it at the end. Without them (or with ``WORLD_SIZE=1``) everything
here is a no-op and training runs as one plain process.

How a global batch is split (``shard``): rank r of W takes the contiguous block
``[r * b // W, (r + 1) * b // W)`` of each batch of b examples, so the shards' union is exactly
the single-process batch, whatever W, and the global batch size is the config's.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Context:
    """Where this process stands: its rank among ``world_size`` and the backend (None: one
    plain process)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes checkpoints, history and results."""
        return self.rank == 0

    def describe(self) -> str:
        return f"{self.world_size} ranks ({self.backend})" if self.enabled else "1 process"


SINGLE = Context()


def launched() -> bool:
    """Whether torchrun (or a launcher setting the same variables) started several ranks."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def backend_for(device: str) -> str:
    """NCCL for a CUDA device request ("cuda", "cuda-fp32", or "auto" with a GPU), else gloo."""
    if device.startswith("cuda") or (device == "auto" and torch.cuda.is_available()):
        return "nccl"
    return "gloo"


def current() -> Context:
    """The context of the process group this process belongs to (SINGLE if none)."""
    if not (dist.is_available() and dist.is_initialized()):
        return SINGLE
    return Context(
        dist.get_rank(),
        dist.get_world_size(),
        int(os.environ.get("LOCAL_RANK", "0")),
        dist.get_backend(),
    )


def is_main() -> bool:
    """Rank 0, or a plain process; also true before and after the process group exists (read
    from torchrun's ``RANK``), so the CLI prints once."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    return int(os.environ.get("RANK", "0")) == 0


@contextlib.contextmanager
def session(device: str = "auto") -> Iterator[Context]:
    """Join the process group torchrun's variables describe (backend from ``device``), yield
    the context, leave the group at the end. Re-entrant: inside an existing group it yields that
    group's context and leaves it alone; not launched, it yields SINGLE."""
    if dist.is_available() and dist.is_initialized():
        yield current()
        return
    if not launched():
        yield SINGLE
        return
    backend = backend_for(device)
    if backend == "nccl":
        # Before any CUDA work: "cuda" then means this rank's own GPU.
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend)
    try:
        yield current()
    finally:
        dist.destroy_process_group()


def shard(batch: int, ctx: Context) -> slice:
    """This rank's contiguous block of a global batch of ``batch`` examples (may be empty when
    ``batch`` < world size, e.g. a short last batch)."""
    return slice(ctx.rank * batch // ctx.world_size, (ctx.rank + 1) * batch // ctx.world_size)


def barrier(ctx: Context) -> None:
    if ctx.enabled:
        dist.barrier()


def all_reduce_sum(tensor: torch.Tensor, ctx: Context) -> torch.Tensor:
    """Sum of ``tensor`` over the ranks, in place (unchanged in one process)."""
    if ctx.enabled:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def broadcast(obj: Any, ctx: Context, src: int = 0) -> Any:
    """Rank ``src``'s ``obj`` on every rank (picklable objects; unchanged in one process)."""
    if not ctx.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


@contextlib.contextmanager
def main_first(ctx: Context) -> Iterator[None]:
    """Rank 0 runs the block first (e.g. to fill a cache on disk), the other ranks after it."""
    if ctx.enabled and not ctx.is_main:
        dist.barrier()
    yield  # an error on rank 0 skips its barrier: torchrun then stops the other ranks
    if ctx.enabled and ctx.is_main:
        dist.barrier()
