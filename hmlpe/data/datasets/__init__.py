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

__all__ = [
    "DATASETS",
    "REASONS",
    "PoseRecord",
    "filter_training",
    "load_dataset",
    "load_pool",
    "training_records",
]


def _reader(name: str):
    from hmlpe.data.datasets import buffy, flic, lsp

    return {"buffy": buffy.read_buffy, "lsp": lsp.read_lsp, "flic": flic.read_flic}[name]


@lru_cache(maxsize=8)
def _load_all(name: str, root: str) -> tuple[PoseRecord, ...]:
    from hmlpe.data.datasets.registry import warn_on_count_differences

    records = tuple(_reader(name)(Path(root)))
    # once per (dataset, root): the cache keeps a second read from warning again
    warn_on_count_differences(
        name, Path(root), {s: sum(r.split == s for r in records) for s in SPLITS}
    )
    return records


def load_dataset(
    name: str, root: str | os.PathLike | None = None, split: str | None = None
) -> list[PoseRecord]:
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


PARTS = ("all", "train", "validation")


def training_records(
    name: str, root=None, max_examples: int | None = None, part: str = "all"
) -> tuple[list[PoseRecord], dict[str, int]]:
    """The training split of ``name`` after the paper 4.1 filter (``filters``), capped to the
    first ``max_examples`` kept records; counts of dropped examples by reason.

    ``part``: "all" (the paper's training set), "train" (without the validation split,
    ``hmlpe.data.splits``) or "validation" (only it); "held_out" counts the kept examples of
    the other part."""
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r} of a training set; known: {', '.join(PARTS)}")
    kept, counts = filter_training(load_dataset(name, root, "train"))
    if part != "all":
        from hmlpe.data.splits import split_validation

        train, val = split_validation(kept)
        kept, other = (train, val) if part == "train" else (val, train)
        counts["held_out"] = len(other)
        counts["kept"] = len(kept)
    if max_examples is not None and len(kept) > max_examples:
        counts["capped"] = len(kept) - max_examples
        kept = kept[:max_examples]
        counts["kept"] = len(kept)
    return kept, counts


def load_pool(
    config: DataConfig | None = None, root=None
) -> tuple[list[PoseRecord], dict[str, dict[str, int]]]:
    """The pre-training pool (paper 4.1: the training sets of the datasets in
    ``config.pool``; ETHZ, SA and WAF are not available here, data README), without the
    validation split when ``config.holdout_validation``, and, per dataset, the counts of
    ``training_records``."""
    config = config or DataConfig()
    root = root if root is not None else config.data_root
    pool: list[PoseRecord] = []
    counts: dict[str, dict[str, int]] = {}
    part = "train" if config.holdout_validation else "all"
    for name in config.pool:
        kept, c = training_records(name, root, config.max_train_examples, part)
        pool.extend(kept)
        counts[name] = c
    return pool, counts
