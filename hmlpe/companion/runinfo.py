"""Where a result comes from, as tables for the book: the provenance of a training run or an
evaluation (code commit, device, config, time, data fingerprints), the data checksum manifests
and the data root's check, and the settings of a config with the notes ``hmlpe.config`` writes
beside each field.

Everything here reads what the engine wrote (``config.json``, ``last.pt``, ``history.jsonl``,
``metrics.json``); no absolute path is shown.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Iterable, Mapping
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from hmlpe.companion.history import duration_text, load_history
from hmlpe.config import TrainConfig
from hmlpe.data.datasets.registry import verify
from hmlpe.engine.checkpoint import load_checkpoint
from hmlpe.engine.layout import CHECKPOINT_NAME, CONFIG_NAME, METRICS_NAME
from hmlpe.engine.records import (
    EvaluationRecord,
    evaluation_record_from_json,
    read_evaluation_record,
    read_run_record,
)
from hmlpe.errors import ResultsError
from hmlpe.paths import PROJECT_ROOT
from hmlpe.provenance import file_digest

CHECKSUMS_DIR = PROJECT_ROOT / "data" / "checksums"
OPTIMISER_NAMES = {"sgd": "SGD", "adam": "AdamW"}
PROVENANCE_CSS = {"font-size": "80%", "overflow-wrap": "anywhere"}


# --------------------------------------------------------------------------- data
def manifest_digests(checksums_dir: Path = CHECKSUMS_DIR) -> dict[str, str]:
    """SHA-256 of each data checksum manifest ``data/checksums/*.sha256``: {file name: hex}.

    The manifests list the SHA-256 of every data file, so one digest per manifest pins the
    exact data a result was computed from."""
    return {p.name: file_digest(p) for p in sorted(Path(checksums_dir).glob("*.sha256"))}


@functools.cache
def data_verification(root: Path) -> dict[str, str]:
    """The fast verification of the data root ``root`` (existence, sizes, record counts), once
    per process: {dataset: "ok (756 files checked)" | "missing ..." | "problems: ..."}."""
    try:
        report = verify(root, full=False)
    except Exception as exc:  # no data root: say so instead of failing the page
        return {"data root": f"not verified ({type(exc).__name__}: {exc})"}
    out = {}
    for name, st in report.datasets.items():
        text = f"{st.status} ({st.files_checked} files checked)"
        if st.problems:
            text += f"; {len(st.problems)} problems, first: {st.problems[0]}"
        out[name] = text
    return out


def data_provenance_frame(root: Path) -> pd.DataFrame:
    """The data part of the provenance (same layout as :func:`provenance_frame`): the SHA-256
    of each checksum manifest and the fast verification status of the data root ``root``."""
    rows: dict[str, Any] = {}
    for name, digest in manifest_digests().items():
        rows[f"data manifest {name} (SHA-256)"] = digest
    for name, status in data_verification(Path(root)).items():
        rows[f"data root check, {name}"] = status
    frame = pd.Series(rows, name="value", dtype=object).to_frame()
    frame.index.name = "item"
    return frame


# --------------------------------------------------------------------------- provenance
def config_summary(config: TrainConfig) -> str:
    """One line with what distinguishes a run: profile, stage, schedule, optimiser, weights.
    A record's config (a dict of any version) becomes a ``TrainConfig`` through the record's
    ``.config`` (``config.from_dict``)."""
    st, o, loss = config.stage, config.optim, config.loss
    parts = [
        f"profile {config.profile}",
        f"stage {st.dataset} x {st.epochs} epochs (lr scale {st.lr_scale})",
        (
            f"{OPTIMISER_NAMES.get(o.name, o.name)} lr {o.lr}, "
            f"{'beta1' if o.name == 'adam' else 'momentum'} {o.momentum}, "
            f"weight decay {o.weight_decay}, "
            f"x{o.lr_decay} at {list(o.lr_decay_at)} of the stage"
        ),
        f"batch {o.batch_size}",
        f"lambda_r {loss.lambda_r:.4g}, lambda_d {loss.lambda_d:.4g} "
        f"(eq. 3 {loss.detection_reduction} over windows)",
        f"seed {config.seed}",
    ]
    if config.data.max_train_examples is not None:
        parts.append(f"at most {config.data.max_train_examples} training examples per dataset")
    if config.max_test_examples is not None:
        parts.append(f"per-epoch test errors on at most {config.max_test_examples} crops per set")
    return "; ".join(parts)


def provenance_frame(
    source: Path | str | EvaluationRecord | Mapping[str, Any], *, data_root: Path | None = None
) -> pd.DataFrame:
    """Provenance of one result as a one-column table (index ``item``, column ``value``).

    source: a training run folder (``config.json``, ``last.pt``, ``history.jsonl``), an
    evaluation folder (``metrics.json``), an evaluation's record (``engine.records``) or a
    ``metrics.json`` object. Rows: code commit,
    device, created, config summary, epochs, time, data fingerprint; then, given the data root
    ``data_root`` the result was computed from, the SHA-256 of each data checksum manifest and
    its fast verification status (:func:`data_provenance_frame`). No absolute path is shown.
    """
    rows: dict[str, Any] = {}
    if isinstance(source, EvaluationRecord):
        _metrics_rows(source, rows)
    elif isinstance(source, Mapping):
        _metrics_rows(evaluation_record_from_json(source), rows)
    else:
        folder = Path(source)
        if (folder / METRICS_NAME).is_file():
            _metrics_rows(read_evaluation_record(folder), rows)
        elif (folder / CONFIG_NAME).is_file():
            _run_rows(folder, rows)
        else:
            raise ResultsError(
                f"{folder} holds neither metrics.json nor config.json: "
                "not a run or evaluation folder"
            )
    frame = pd.Series(rows, name="value", dtype=object).to_frame()
    frame.index.name = "item"
    if data_root is not None:
        frame = pd.concat([frame, data_provenance_frame(data_root)])
    return frame


def _metrics_rows(m: EvaluationRecord, rows: dict[str, Any]) -> None:
    p = m.provenance
    rows["result"] = f"evaluation on {m.dataset} test set"
    rows["code commit (evaluation)"] = p.git_commit
    rows["code commit (checkpoint)"] = m.checkpoint_commit
    rows["checkpoint"] = (
        f"{Path(str(m.checkpoint)).parent.name}/"
        f"{Path(str(m.checkpoint)).name}, epoch {m.checkpoint_epoch}"
    )
    rows["device"] = p.device
    rows["created"] = p.created
    if p.config is not None:
        rows["config"] = config_summary(m.config)
    if m.association:
        rows["Buffy association rule"] = m.association
    rows["test examples (matched)"] = f"{m.n_examples} ({m.n_matched})"
    rows["evaluation time"] = duration_text(p.seconds)
    rows["inference images/s"] = p.inference_images_per_second
    rows["test data fingerprint"] = p.data_fingerprint


def _run_rows(folder: Path, rows: dict[str, Any]) -> None:
    info = read_run_record(folder)
    ckpt = folder / CHECKPOINT_NAME
    state = load_checkpoint(ckpt) if ckpt.is_file() else {}
    rows["result"] = f"training run {folder.name}"
    rows["code commit"] = state.get("git_commit", info.git_commit)
    rows["device"] = state.get("device", info.device)
    rows["created"] = state.get("created", info.created)
    rows["config"] = config_summary(info.config)
    rows["initialised from"] = (
        f"{Path(info.init_from).parent.name}/{Path(info.init_from).name}"
        if info.init_from
        else "random (seeded)"
    )
    try:
        hist = load_history(folder)
    except FileNotFoundError:
        hist = None
    # exported results keep the history but not the checkpoint
    rows["epochs done"] = state.get(
        "epoch", int(hist["epoch"].max()) if hist is not None and len(hist) else "no checkpoint"
    )
    rows["training time"] = (
        duration_text(float(hist["train_seconds"].sum()))
        if hist is not None and "train_seconds" in hist
        else ""
    )
    # the checkpoint's record, else config.json's (exported results keep no checkpoint; runs
    # written before config.json carried them have neither)
    data = state.get("data") or {}
    for label, key in (
        ("training examples", "train_examples"),
        ("training data fingerprint", "train_fingerprint"),
    ):
        value = data.get(key, getattr(info, key))
        rows[label] = value if value is not None else "not recorded (a run older than the field)"


# --------------------------------------------------------------------------- config
def _field_notes(cls: type) -> dict[str, str]:
    """The ``# comment`` on each field line of a config dataclass's source (hmlpe.config),
    where the library writes which values are the paper's and which are its own choice."""
    notes: dict[str, str] = {}
    try:
        src = inspect.getsource(cls)
    except (OSError, TypeError):
        return notes
    above: list[str] = []  # a block of comment lines right above a field also documents it
    for line in src.splitlines():
        comment = re.match(r"^\s+#\s?(.*)$", line)
        if comment:
            above.append(comment.group(1).strip())
            continue
        m = re.match(r"^\s+(\w+)\s*:[^#=]*(?:=[^#]*)?(?:#\s*(.+))?$", line)
        if m and m.group(1) not in ("def", "return"):
            text = " ".join(t for t in (" ".join(above), m.group(2) or "") if t).strip()
            if text:
                notes[m.group(1)] = text
        above = []
    return notes


def config_table(config: Any) -> pd.DataFrame:
    """Every setting of a (nested) config dataclass as rows ``key`` (dotted), ``value`` and
    ``note``: the comment hmlpe.config writes beside the field ("paper: ...", "[14]",
    "ours", ...; empty where it writes none)."""
    rows = []

    def walk(obj: Any, prefix: str) -> None:
        notes = _field_notes(type(obj))
        for f in fields(obj):
            value = getattr(obj, f.name)
            if is_dataclass(value):
                walk(value, f"{prefix}{f.name}.")
            else:
                shown = list(value) if isinstance(value, tuple) else value
                rows.append(
                    {"key": prefix + f.name, "value": str(shown), "note": notes.get(f.name, "")}
                )

    walk(config, "")
    return pd.DataFrame(rows).set_index("key")


def schedule_text(lrs: Iterable[float]) -> str:
    """Per-epoch learning rates as runs: "0.01 (epochs 1-6), 0.001 (epochs 7-8)"."""
    lrs = list(lrs)
    out, start = [], 0
    for k in range(1, len(lrs) + 1):
        if k == len(lrs) or lrs[k] != lrs[start]:
            span = f"epoch {start + 1}" if k - start == 1 else f"epochs {start + 1}-{k}"
            out.append(f"{lrs[start]:g} ({span})")
            start = k
    return ", ".join(out)
