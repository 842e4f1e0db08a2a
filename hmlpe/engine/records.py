"""The owners of a run folder's JSON records: a training stage's ``config.json`` and an
evaluation's ``metrics.json``: what they hold, how they are written and read. An export's
``MANIFEST.json`` is owned here too: :class:`ExportManifest`, :func:`write_export_manifest`
and :func:`read_export_manifest`.

A stage folder's ``config.json`` (``layout.CONFIG_NAME``) records the run's ``TrainConfig``
and where and how it ran: the device, the checkpoint it started from, the code commit, when
it was created, the training images and visits, whether it was compiled, the training data's
fingerprint and the data pack. The training loop writes it with :func:`write_run_record`;
everything else reads it with :func:`read_run_record` and the attributes of
:class:`RunRecord`, so that nothing else indexes the JSON.

An evaluation folder's ``metrics.json`` (``layout.METRICS_NAME``) records the numbers of
Table 1 (Buffy: the whole test set and the matched subset) or Table 2 and Figure 4 (FLIC),
the per-frame correctness behind them, the checkpoint evaluated and the provenance.
``engine.evaluation`` writes it with :func:`write_evaluation_record` from the
:class:`EvaluationScores` of ``engine.scoring``; everything else reads it with
:func:`read_evaluation_record` and the accessors of :class:`EvaluationRecord`
(``record.pcp("subset")``, ``record.test_set().n``, ``record.per_frame_correct()``, ...).
Files of earlier versions load with what they hold: without ``per_frame``, ``ci95``,
``mirror_average`` or ``provenance.data_pack``; an accessor of what a file lacks raises
``ResultsError`` naming the file and the key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hmlpe.config import TrainConfig, from_dict
from hmlpe.engine.layout import CONFIG_NAME, MANIFEST_NAME, METRICS_NAME
from hmlpe.errors import HMLPEError, ResultsError
from hmlpe.provenance import atomic_write_json
from hmlpe.skeleton import ARM_PARTS
from hmlpe.uncertainty import decode_bits, encode_bits


class RecordError(HMLPEError):
    """A ``config.json`` that is missing, not JSON, or without its ``config``."""


@dataclass(frozen=True)
class RunRecord:
    """One stage's ``config.json``. ``config_dict`` is the config as written (any version);
    ``config`` rebuilds it as today's ``TrainConfig`` (``config.from_dict``: fields removed
    since are dropped, unknown ones raise). Fields absent from files of earlier versions are
    None."""

    path: Path
    config_dict: dict[str, Any]
    device: str | None = None
    init_from: str | None = None
    git_commit: str | None = None
    created: str | None = None
    train_examples: int | None = None
    passes_per_epoch: int | None = None
    visits_per_epoch: int | None = None
    visits_total: int | None = None
    compiled: bool | None = None
    train_fingerprint: str | None = None
    data_pack: dict[str, Any] | None = None
    data_root: str | None = None  # the data root the run read (DataSource.provenance)

    @property
    def config(self) -> TrainConfig:
        return from_dict(TrainConfig, self.config_dict)

    @property
    def profile(self) -> str | None:
        return self.config_dict.get("profile")

    @property
    def epochs(self) -> int | None:
        """The stage's epochs (its schedule's length), from the config as written."""
        epochs = (self.config_dict.get("stage") or {}).get("epochs")
        return int(epochs) if epochs is not None else None


_FIELDS = tuple(f for f in RunRecord.__dataclass_fields__ if f not in ("path", "config_dict"))


def write_run_record(folder: Path, config: TrainConfig, **fields: Any) -> Path:
    """Write ``folder/config.json`` whole (temporary file, then rename): ``config`` and the
    :class:`RunRecord` fields given (device, init_from, git_commit, ...)."""
    unknown = sorted(set(fields) - set(_FIELDS))
    if unknown:
        raise TypeError(f"not fields of a run record: {unknown}")
    path = Path(folder) / CONFIG_NAME
    atomic_write_json(path, {"config": asdict(config), **fields})
    return path


def read_run_record(folder: Path) -> RunRecord:
    """The ``config.json`` of a stage folder; a missing or malformed file raises
    :class:`RecordError` naming it."""
    path = Path(folder) / CONFIG_NAME
    if not path.is_file():
        raise RecordError(f"{path} is missing: {Path(folder)} is not a training stage folder")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise RecordError(f"{path} cannot be read as JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
        raise RecordError(f"{path} has no 'config' object: not a run record")
    return RunRecord(
        path=path,
        config_dict=data["config"],
        **{name: data.get(name) for name in _FIELDS},
    )


# --------------------------------------------------------------------------- metrics.json
# Column labels of Tables 1 and 2, in the paper's order, for the parts in skeleton.ARM_PARTS.
ARM_COLUMNS = ("LL", "RL", "LU", "RU")
# The test sets of an evaluation: Buffy's whole set and matched subset (Table 1); FLIC has
# only its whole test set (Table 2), which ``None`` or "whole_set" names for either dataset.
WHOLE_SET, SUBSET = "whole_set", "subset"
PCP_ALPHA = 0.5  # eq. 6's alpha of every evaluation


@dataclass(frozen=True)
class PCPBlock:
    """One test set's row of Table 1 or 2: PCP in percent per arm ({"LL": ..., ...}), the
    number of frames and the bootstrap 95% interval per arm (None where a file of an earlier
    version has none)."""

    pcp: dict[str, float]
    n: int | None = None
    ci95: dict[str, tuple[float, float]] | None = None

    def values(self) -> list[float]:
        """The four PCPs in the order of ``ARM_COLUMNS``."""
        return [self.pcp[c] for c in ARM_COLUMNS]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {} if self.n is None else {"n": int(self.n)}
        out["pcp"] = {c: float(v) for c, v in self.pcp.items()}
        if self.ci95 is not None:
            out["ci95"] = {c: [float(lo), float(hi)] for c, (lo, hi) in self.ci95.items()}
        return out


@dataclass(frozen=True)
class Figure4:
    """Eq. 7's accuracy (percent of test examples) of the elbows and wrists at each radius
    (percent of the torso size), per torso definition: ``torso[definition][joint]``."""

    radii: tuple[float, ...]
    torso: dict[str, dict[str, tuple[float, ...]]]

    def to_json(self) -> dict[str, Any]:
        return {
            "radii": list(self.radii),
            "torso": {d: {j: list(acc) for j, acc in c.items()} for d, c in self.torso.items()},
        }


@dataclass(frozen=True, eq=False)
class EvaluationScores:
    """What scoring makes of one test set's predictions (``engine.scoring.score_predictions``):
    matched (N,) and correct (N, 4, ``ARM_COLUMNS``) per frame, the whole set's PCP block
    (Table 1's whole set or Table 2), Buffy's matched subset and FLIC's Figure 4."""

    dataset: str
    matched: np.ndarray
    correct: np.ndarray
    whole_set: PCPBlock
    subset: PCPBlock | None = None
    figure4: Figure4 | None = None


@dataclass(frozen=True)
class EvaluationProvenance:
    """Where and how an evaluation ran (``metrics.json["provenance"]``); ``config`` is the
    checkpoint's ``TrainConfig`` as a dict. Fields a file of an earlier version lacks are None."""

    git_commit: str | None = None
    config: dict[str, Any] | None = None
    device: str | None = None
    created: str | None = None
    seconds: float | None = None
    inference_seconds: float | None = None
    inference_images_per_second: float | None = None
    data_fingerprint: str | None = None
    data_pack: dict[str, Any] | None = None
    data_root: str | None = None  # written when known (files of earlier versions lack it)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        if out["data_root"] is None:
            del out["data_root"]
        return out


_PROVENANCE_FIELDS = tuple(EvaluationProvenance.__dataclass_fields__)


@dataclass(frozen=True, eq=False)
class EvaluationRecord:
    """One evaluation's ``metrics.json``. ``whole_set`` is Buffy's whole test set
    (``table1.whole_set``) or FLIC's test set (``table2``); ``subset`` Buffy's matched subset;
    ``matched`` and ``correct`` the decoded per-frame bits. Read the numbers through the
    accessors, which raise ``ResultsError`` naming the file where it lacks them."""

    path: Path | None
    dataset: str | None
    whole_set: PCPBlock | None = None
    subset: PCPBlock | None = None
    figure4: Figure4 | None = None
    matched: np.ndarray | None = None
    correct: np.ndarray | None = None
    checkpoint: str | None = None
    checkpoint_epoch: int | None = None
    checkpoint_commit: str | None = None
    pcp_alpha: float | None = None
    columns: dict[str, str] | None = None
    n_examples: int | None = None
    n_matched: int | None = None
    mirror_average: bool = False
    association: str | None = None
    provenance: EvaluationProvenance = field(default_factory=EvaluationProvenance)

    @property
    def where(self) -> str:
        """The file, for messages ("metrics" when the record was not read from one)."""
        return str(self.path) if self.path is not None else "metrics"

    def _missing(self, key: str, what: str | None = None) -> ResultsError:
        return ResultsError(
            f"{self.where} has no {key}: "
            + (what or f"not an evaluation of {self.dataset or 'this dataset'} by this version")
            + "; evaluate again"
        )

    def test_set(self, name: str | None = None) -> PCPBlock:
        """The PCP block of one test set: ``None`` or "whole_set" (Buffy's whole set, FLIC's
        test set) or "subset" (Buffy's matched subset)."""
        if name in (None, WHOLE_SET):
            key = "table2" if self.dataset == "flic" else f"table1/{WHOLE_SET}"
            block = self.whole_set
        elif name == SUBSET:
            if self.dataset == "flic":
                raise ResultsError(f"{self.where}: a FLIC evaluation has no matched subset")
            key, block = f"table1/{SUBSET}", self.subset
        else:
            raise ValueError(f"unknown test set {name!r}; choose None, {WHOLE_SET!r} or {SUBSET!r}")
        if block is None:
            raise self._missing(key)
        return block

    def pcp(self, name: str | None = None) -> dict[str, float]:
        """{"LL": ..., "RL": ..., "LU": ..., "RU": ...} in percent of one test set."""
        return dict(self.test_set(name).pcp)

    def pcp_values(self, name: str | None = None) -> list[float]:
        """The four PCPs of one test set in the order of ``ARM_COLUMNS``."""
        return self.test_set(name).values()

    def n(self, name: str | None = None) -> int | None:
        """The number of frames of one test set."""
        return self.test_set(name).n

    def per_frame_correct(self, subset: bool = False) -> np.ndarray:
        """Per-frame correctness (N, 4, ``ARM_COLUMNS``) in ``predictions.csv`` order; with
        ``subset``, only the matched frames."""
        if self.correct is None or self.matched is None:
            raise self._missing(
                "per_frame", "per-frame correctness (evaluated by an older version)"
            )
        return self.correct[self.matched] if subset else self.correct

    def accuracy_curves(self) -> Figure4:
        """Figure 4 (FLIC evaluations)."""
        if self.figure4 is None:
            raise self._missing("figure4")
        return self.figure4

    @property
    def config_dict(self) -> dict[str, Any]:
        """The checkpoint's config as the evaluation recorded it ({} when it recorded none)."""
        return dict(self.provenance.config or {})

    @property
    def config(self) -> TrainConfig:
        """``config_dict`` as today's ``TrainConfig`` (``config.from_dict``)."""
        return from_dict(TrainConfig, self.config_dict)

    @property
    def data_root(self) -> str | None:
        """The data root the evaluation read its test set from (None: not recorded, or a data
        pack alone); files of earlier versions kept it in the config's ``data.data_root``."""
        if self.provenance.data_root is not None:
            return self.provenance.data_root
        return (self.config_dict.get("data") or {}).get("data_root")

    def table_json(self) -> dict[str, Any]:
        """The table's blocks as the file stores them: Buffy {"whole_set": ..., "subset": ...},
        FLIC {"test": ...} (what ``hmlpe evaluate`` prints)."""
        if self.dataset == "flic":
            return {"test": self.test_set().to_json()}
        return {WHOLE_SET: self.test_set().to_json(), SUBSET: self.test_set(SUBSET).to_json()}

    def to_json(self) -> dict[str, Any]:
        """The ``metrics.json`` object, in the writer's key order."""
        out: dict[str, Any] = {"dataset": self.dataset}
        for name in ("checkpoint", "checkpoint_epoch", "checkpoint_commit", "pcp_alpha"):
            out[name] = getattr(self, name)
        out["columns"] = dict(self.columns or zip(ARM_COLUMNS, ARM_PARTS))
        out["n_examples"] = self.n_examples
        out["n_matched"] = self.n_matched
        out["mirror_average"] = bool(self.mirror_average)
        if self.correct is not None and self.matched is not None:
            out["per_frame"] = {
                "matched": encode_bits(self.matched),
                "correct": {c: encode_bits(self.correct[:, k]) for k, c in enumerate(ARM_COLUMNS)},
            }
        if self.dataset == "flic":
            if self.whole_set is not None:
                out["table2"] = self.whole_set.to_json()
            if self.figure4 is not None:
                out["figure4"] = self.figure4.to_json()
        else:
            out["association"] = self.association
            table1 = {}
            if self.whole_set is not None:
                table1[WHOLE_SET] = self.whole_set.to_json()
            if self.subset is not None:
                table1[SUBSET] = self.subset.to_json()
            out["table1"] = table1
        out["provenance"] = self.provenance.to_json()
        return out


def write_evaluation_record(
    folder: Path,
    scores: EvaluationScores,
    *,
    provenance: EvaluationProvenance,
    checkpoint: str | None = None,
    checkpoint_epoch: int | None = None,
    checkpoint_commit: str | None = None,
    association: str | None = None,
    mirror_average: bool = False,
) -> EvaluationRecord:
    """Write ``folder/metrics.json`` whole (temporary file, then rename) from what scoring
    made and the evaluation's provenance; returns the record as read back."""
    path = Path(folder) / METRICS_NAME
    record = EvaluationRecord(
        path=path,
        dataset=scores.dataset,
        whole_set=scores.whole_set,
        subset=scores.subset,
        figure4=scores.figure4,
        matched=np.asarray(scores.matched, bool),
        correct=np.asarray(scores.correct, bool),
        checkpoint=checkpoint,
        checkpoint_epoch=checkpoint_epoch,
        checkpoint_commit=checkpoint_commit,
        pcp_alpha=PCP_ALPHA,
        columns=dict(zip(ARM_COLUMNS, ARM_PARTS)),
        n_examples=int(len(scores.matched)),
        n_matched=int(np.asarray(scores.matched, bool).sum()),
        mirror_average=bool(mirror_average),
        association=association if scores.dataset == "buffy" else None,
        provenance=provenance,
    )
    atomic_write_json(path, record.to_json())
    return record


def read_evaluation_record(path: Path | str, dataset: str | None = None) -> EvaluationRecord:
    """The ``metrics.json`` at ``path`` (the file, or an evaluation folder holding it).
    ``dataset``: when given, the file must hold that dataset's table. A missing, truncated or
    foreign file raises ``ResultsError`` naming it and what is wrong."""
    path = Path(path)
    if path.is_dir():
        path = path / METRICS_NAME
    if not path.is_file():
        raise ResultsError(f"{path} is missing: not an evaluation folder; evaluate first")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path} is not valid JSON ({exc}); evaluate again") from None
    return evaluation_record_from_json(data, path=path, dataset=dataset)


def evaluation_record_from_json(
    data: Any, *, path: Path | None = None, dataset: str | None = None
) -> EvaluationRecord:
    """An :class:`EvaluationRecord` from a ``metrics.json`` object already in memory (as
    :func:`read_evaluation_record`; ``path`` only names it in messages)."""
    where = str(path) if path is not None else "metrics"
    if not isinstance(data, Mapping):
        raise ResultsError(f"{where} holds a {type(data).__name__}, not an evaluation's metrics")

    def missing(key: str) -> ResultsError:
        return ResultsError(
            f"{where} has no {key}: not an evaluation of {dataset} by this version; evaluate again"
        )

    if dataset == "buffy":
        if not isinstance(data.get("table1"), Mapping):
            raise missing("table1")
        if WHOLE_SET not in data["table1"]:
            raise missing(f"table1/{WHOLE_SET}")
    elif dataset == "flic" and "table2" not in data:
        raise missing("table2")
    written = data.get("dataset")
    if dataset is not None and written is not None and written != dataset:
        raise ResultsError(f"{where} is an evaluation of {written}, not of {dataset}")
    ds = (
        written
        or dataset
        or ("buffy" if "table1" in data else "flic" if "table2" in data else None)
    )
    if ds == "flic":
        whole, subset = _block(data, ("table2",), where), None
    else:
        whole = _block(data, ("table1", WHOLE_SET), where)
        subset = _block(data, ("table1", SUBSET), where)
    matched, correct = _per_frame(data.get("per_frame"), where)
    prov = data.get("provenance") or {}
    if not isinstance(prov, Mapping):
        raise ResultsError(f"{where}: 'provenance' is a {type(prov).__name__}, not an object")
    return EvaluationRecord(
        path=path,
        dataset=ds,
        whole_set=whole,
        subset=subset,
        figure4=_figure4(data.get("figure4"), where),
        matched=matched,
        correct=correct,
        checkpoint=data.get("checkpoint"),
        checkpoint_epoch=data.get("checkpoint_epoch"),
        checkpoint_commit=data.get("checkpoint_commit"),
        pcp_alpha=data.get("pcp_alpha"),
        columns=data.get("columns"),
        n_examples=data.get("n_examples"),
        n_matched=data.get("n_matched"),
        mirror_average=bool(data.get("mirror_average", False)),
        association=data.get("association"),
        provenance=EvaluationProvenance(**{k: prov.get(k) for k in _PROVENANCE_FIELDS}),
    )


def _block(data: Mapping[str, Any], keys: tuple[str, ...], where: str) -> PCPBlock | None:
    """The PCP block at ``keys`` (None when absent); a malformed one raises naming it."""
    block: Any = data
    for key in keys:
        if not isinstance(block, Mapping) or key not in block:
            return None
        block = block[key]
    name = "/".join(keys)
    if not isinstance(block, Mapping) or not isinstance(block.get("pcp"), Mapping):
        raise ResultsError(f"{where} has no {name}/pcp; evaluate again")
    pcp = block["pcp"]
    for c in ARM_COLUMNS:
        if not isinstance(pcp.get(c), (int, float)):
            raise ResultsError(f"{where} has no pcp/{c} in {name}; evaluate again")
    ci = block.get("ci95")
    try:
        ci95 = None if ci is None else {c: (float(ci[c][0]), float(ci[c][1])) for c in ci}
    except (TypeError, ValueError, IndexError, KeyError):
        raise ResultsError(f"{where}: {name}/ci95 is not pairs of numbers per arm") from None
    n = block.get("n")
    return PCPBlock(
        pcp={c: float(pcp[c]) for c in pcp},
        n=int(n) if n is not None else None,
        ci95=ci95,
    )


def _per_frame(pf: Any, where: str) -> tuple[np.ndarray | None, np.ndarray | None]:
    if pf is None:
        return None, None
    try:
        matched = decode_bits(pf["matched"])
        correct = np.stack([decode_bits(pf["correct"][c]) for c in ARM_COLUMNS], axis=1)
    except (KeyError, TypeError, ValueError) as exc:
        raise ResultsError(f"{where}: per_frame is damaged ({exc}); evaluate again") from None
    if correct.shape[0] != matched.shape[0]:
        raise ResultsError(f"{where}: per_frame bits of different lengths; evaluate again")
    return matched, correct


def _figure4(f: Any, where: str) -> Figure4 | None:
    if f is None:
        return None
    try:
        radii = tuple(f["radii"])
        torso = {
            str(d): {str(j): tuple(float(a) for a in acc) for j, acc in curves.items()}
            for d, curves in f["torso"].items()
        }
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ResultsError(f"{where}: figure4 is not radii and curves per torso") from None
    if any(len(acc) != len(radii) for c in torso.values() for acc in c.values()):
        raise ResultsError(f"{where}: figure4's curves and radii differ in length")
    return Figure4(radii=radii, torso=torso)


# --------------------------------------------------------------------------- MANIFEST.json
@dataclass(frozen=True)
class ExportManifest:
    """One export's ``MANIFEST.json`` (``hmlpe export``): the run folder exported, when and
    from which code commit, the training commits and devices, the run's wall time (from the
    first stage's start to the last result file written), the SHA-256 of each data checksum
    manifest, the package versions and the files copied ({path: {"sha256", "bytes"}}).
    ``wall_seconds_from_export``: on a re-export of the same run, the export whose wall time
    was kept. Fields absent from files of earlier versions are None or empty;
    ``records_start`` is False for files without ``first_stage_started`` (earlier exports,
    which tell runs apart by their training commits), True where it is written, even as
    None (no stage recorded its start)."""

    path: Path | None = None
    run_dir: str | None = None
    exported: str | None = None
    export_commit: str | None = None
    training_commits: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    wall_seconds: float | None = None
    first_stage_started: str | None = None
    data_manifests_sha256: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    wall_seconds_from_export: str | None = None
    records_start: bool = True

    @property
    def wall_minutes(self) -> float | None:
        """The run's wall time in minutes to 0.1 (None when unknown)."""
        return round(self.wall_seconds / 60, 1) if self.wall_seconds is not None else None

    def to_json(self) -> dict[str, Any]:
        """The ``MANIFEST.json`` object, in the writer's key order."""
        out: dict[str, Any] = {
            "run_dir": self.run_dir,
            "exported": self.exported,
            "export_commit": self.export_commit,
            "training_commits": list(self.training_commits),
            "devices": list(self.devices),
            "wall_seconds": self.wall_seconds,
        }
        if self.records_start:
            out["first_stage_started"] = self.first_stage_started
        out["data_manifests_sha256"] = dict(self.data_manifests_sha256)
        out["versions"] = dict(self.versions)
        out["files"] = {name: dict(entry) for name, entry in self.files.items()}
        if self.wall_seconds_from_export is not None:
            out["wall_seconds_from_export"] = self.wall_seconds_from_export
        return out


_MANIFEST_LISTS = ("training_commits", "devices")
_MANIFEST_OBJECTS = ("data_manifests_sha256", "versions", "files")


def write_export_manifest(folder: Path, manifest: ExportManifest) -> Path:
    """Write ``folder/MANIFEST.json`` whole (temporary file, then rename)."""
    path = Path(folder) / MANIFEST_NAME
    atomic_write_json(path, manifest.to_json())
    return path


def read_export_manifest(folder: Path) -> ExportManifest:
    """The ``MANIFEST.json`` of a folder of exported results; a missing, truncated or foreign
    file raises ``ResultsError`` naming it."""
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        raise ResultsError(
            f"{path} is missing: {Path(folder)} is not a folder of exported results "
            "(`hmlpe export` writes one)"
        )
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path} is not valid JSON ({exc})") from None
    if not isinstance(data, Mapping):
        raise ResultsError(f"{path} holds a {type(data).__name__}, not an export manifest")
    for key in _MANIFEST_LISTS:
        if not isinstance(data.get(key) or [], list):
            raise ResultsError(f"{path}: '{key}' is a {type(data[key]).__name__}, not a list")
    for key in _MANIFEST_OBJECTS:
        if not isinstance(data.get(key) or {}, Mapping):
            raise ResultsError(f"{path}: '{key}' is a {type(data[key]).__name__}, not an object")
    files = data.get("files") or {}
    if not all(isinstance(entry, Mapping) for entry in files.values()):
        raise ResultsError(f"{path}: 'files' holds an entry that is not an object")
    return ExportManifest(
        path=path,
        run_dir=data.get("run_dir"),
        exported=data.get("exported"),
        export_commit=data.get("export_commit"),
        training_commits=tuple(data.get("training_commits") or ()),
        devices=tuple(data.get("devices") or ()),
        wall_seconds=data.get("wall_seconds"),
        first_stage_started=data.get("first_stage_started"),
        data_manifests_sha256=dict(data.get("data_manifests_sha256") or {}),
        versions=dict(data.get("versions") or {}),
        files={name: dict(entry) for name, entry in files.items()},
        wall_seconds_from_export=data.get("wall_seconds_from_export"),
        records_start="first_stage_started" in data,
    )
