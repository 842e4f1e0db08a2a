"""Datasets of the reproduction (paper 4.1): Buffy Stickmen, LSP and FLIC read into one record
type (``PoseRecord``), with the training filter, the registry and the downloader.

    load_dataset("buffy", root, "test")      # list[PoseRecord]
    load_pool(DataConfig(), root)            # the pre-training pool + drop counts

``root`` is the data root, which an entry point resolves once (``hmlpe.data.source``).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from hmlpe.config import DataConfig
from hmlpe.data.datasets.filters import REASONS, filter_training
from hmlpe.data.datasets.records import DATASETS, SPLITS, PoseRecord
from hmlpe.errors import UnknownNameError
from hmlpe.paths import data_root_folder

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


def load_dataset(name: str, root: str | os.PathLike, split: str | None = None) -> list[PoseRecord]:
    """All records of dataset ``name`` ("buffy" | "lsp" | "flic") under the data root
    ``root``, or those of ``split`` ("train" | "test"). Records are immutable and memoised
    per (name, root)."""
    if name not in DATASETS:
        raise UnknownNameError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    if split is not None and split not in SPLITS:
        raise UnknownNameError(f"unknown split {split!r}; known: {', '.join(SPLITS)}")
    records = _load_all(name, str(data_root_folder(root).resolve()))
    return [r for r in records if split is None or r.split == split]


PARTS = ("all", "train", "validation")


def training_records(
    name: str, root: str | os.PathLike, max_examples: int | None = None, part: str = "all"
) -> tuple[list[PoseRecord], dict[str, int]]:
    """The training split of ``name`` after the paper 4.1 filter (``filters``), capped to the
    first ``max_examples`` kept records; counts of dropped examples by reason.

    ``part``: "all" (the paper's training set), "train" (without the validation split,
    ``hmlpe.data.splits``) or "validation" (only it); "held_out" counts the kept examples of
    the other part."""
    if part not in PARTS:
        raise UnknownNameError(
            f"unknown part {part!r} of a training set; known: {', '.join(PARTS)}"
        )
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
    config: DataConfig, root: str | os.PathLike
) -> tuple[list[PoseRecord], dict[str, dict[str, int]]]:
    """The pre-training pool (paper 4.1: the training sets of the datasets in
    ``config.pool``; ETHZ, SA and WAF are not available here, data README) under the data
    root ``root``, without the validation split when ``config.holdout_validation``, and, per
    dataset, the counts of ``training_records``."""
    pool: list[PoseRecord] = []
    counts: dict[str, dict[str, int]] = {}
    part = "train" if config.holdout_validation else "all"
    for name in config.pool:
        kept, c = training_records(name, root, config.max_train_examples, part)
        pool.extend(kept)
        counts[name] = c
    return pool, counts
