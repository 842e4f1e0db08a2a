"""Datasets of the reproduction (paper 4.1): Buffy Stickmen, LSP and FLIC read into one record
type (``PoseRecord``), with the training filter, the registry and the downloader.

    load_dataset("buffy", split="test")      # list[PoseRecord]
    load_pool(DataConfig())                  # the pre-training pool + drop counts
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from hmlpe.config import DataConfig
from hmlpe.data.datasets.filters import REASONS, filter_training
from hmlpe.data.datasets.records import DATASETS, SPLITS, PoseRecord
from hmlpe.paths import resolve_data_root

__all__ = ["DATASETS", "REASONS", "PoseRecord", "filter_training", "load_dataset", "load_pool",
           "training_records"]


def _reader(name: str):
    from hmlpe.data.datasets import buffy, flic, lsp
    return {"buffy": buffy.read_buffy, "lsp": lsp.read_lsp, "flic": flic.read_flic}[name]


@lru_cache(maxsize=8)
def _load_all(name: str, root: str) -> tuple[PoseRecord, ...]:
    return tuple(_reader(name)(Path(root)))


def load_dataset(name: str, root: str | os.PathLike | None = None,
                 split: str | None = None) -> list[PoseRecord]:
    """All records of dataset ``name`` ("buffy" | "lsp" | "flic"), or those of ``split``
    ("train" | "test"). ``root``: the data root (``hmlpe.paths.resolve_data_root``).
    Records are immutable and memoised per (name, root)."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    if split is not None and split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known: {', '.join(SPLITS)}")
    root = resolve_data_root(root)
    records = _load_all(name, str(Path(root).resolve()))
    return [r for r in records if split is None or r.split == split]


def training_records(name: str, root=None, max_examples: int | None = None
                     ) -> tuple[list[PoseRecord], dict[str, int]]:
    """The training split of ``name`` after the paper 4.1 filter (``filters``), capped to the
    first ``max_examples`` kept records; counts of dropped examples by reason."""
    kept, counts = filter_training(load_dataset(name, root, "train"))
    if max_examples is not None and len(kept) > max_examples:
        counts["capped"] = len(kept) - max_examples
        kept = kept[:max_examples]
        counts["kept"] = len(kept)
    return kept, counts


def load_pool(config: DataConfig | None = None, root=None
              ) -> tuple[list[PoseRecord], dict[str, dict[str, int]]]:
    """The pre-training pool (paper 4.1: the training sets of the datasets in
    ``config.pool``; ETHZ, SA and WAF are not available here, data README) and, per dataset,
    the counts of ``training_records``."""
    config = config or DataConfig()
    root = root if root is not None else config.data_root
    pool: list[PoseRecord] = []
    counts: dict[str, dict[str, int]] = {}
    for name in config.pool:
        kept, c = training_records(name, root, config.max_train_examples)
        pool.extend(kept)
        counts[name] = c
    return pool, counts
