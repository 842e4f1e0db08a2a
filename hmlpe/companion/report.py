"""Helpers the book's result chapters share: provenance tables, training histories and their
curves, "paper vs ours" comparison tables (Tables 1-3), evaluation folders that are made once
and reused, and example predictions drawn with the skeleton.

Everything here reads what the engine wrote (``config.json``, ``history.jsonl``, ``last.pt``,
``metrics.json``, ``predictions.csv``) or what the paper published (``hmlpe.companion.paper``); it
computes no result of its own except differences, L/R means and per-frame arm scores.

Conventions of the tables:

- Comparison frames (:func:`comparison_table`) stack, for each row of the paper's table, the
  rows ``paper``, ``ours`` and ``ours - paper`` (:data:`SOURCES`); a NaN in ``paper`` is a cell
  the paper does not print, and its difference is NaN.
- PCP is in percent (as the paper and ``metrics.json``).
- Where the paper prints one number for a left/right pair of arms, the comparison uses the
  mean of our left and right arms, in the columns :data:`LR_MEAN_COLUMNS`.
"""
from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from hmlpe.engine.evaluation import ensure_evaluation  # noqa: F401  (the chapters call it from here)
from hmlpe.paths import PROJECT_ROOT

CHECKSUMS_DIR = PROJECT_ROOT / "data" / "checksums"
PART_COLUMNS = ("LL", "RL", "LU", "RU")
LR_MEAN_COLUMNS = ("lower arms (L/R mean)", "upper arms (L/R mean)")
SOURCES = ("paper", "ours", "ours - paper")
HISTORY_FILES = ("history.jsonl", "history.csv")


# --------------------------------------------------------------------------- provenance
def manifest_digests(checksums_dir: Path = CHECKSUMS_DIR) -> dict[str, str]:
    """SHA-256 of each data checksum manifest ``data/checksums/*.sha256``: {file name: hex}.

    The manifests list the SHA-256 of every data file, so one digest per manifest pins the
    exact data a result was computed from."""
    from hmlpe.provenance import file_digest

    return {p.name: file_digest(p) for p in sorted(Path(checksums_dir).glob("*.sha256"))}


@functools.lru_cache(maxsize=None)
def data_verification() -> dict[str, str]:
    """The data root's fast verification (existence, sizes, record counts), once per process:
    {dataset: "ok (756 files checked)" | "missing ..." | "problems: ..."}."""
    from hmlpe.data.datasets.registry import verify

    try:
        report = verify(full=False, progress=False)
    except Exception as exc:  # no data root: say so instead of failing the page
        return {"data root": f"not verified ({type(exc).__name__}: {exc})"}
    out = {}
    for name, st in report.datasets.items():
        text = f"{st.status} ({st.files_checked} files checked)"
        if st.problems:
            text += f"; {len(st.problems)} problems, first: {st.problems[0]}"
        out[name] = text
    return out


OPTIMISER_NAMES = {"sgd": "SGD", "adam": "AdamW"}


def config_summary(config: Mapping[str, Any]) -> str:
    """One line with what distinguishes a run: profile, stage, schedule, optimiser, weights."""
    c = config
    st, o, loss, data = c.get("stage", {}), c.get("optim", {}), c.get("loss", {}), c.get("data", {})
    parts = [
        f"profile {c.get('profile')}",
        f"stage {st.get('dataset')} x {st.get('epochs')} epochs (lr scale {st.get('lr_scale')})",
        (f"{OPTIMISER_NAMES.get(o.get('name', 'sgd'), o.get('name'))} lr {o.get('lr')}, "
         f"{'beta1' if o.get('name') == 'adam' else 'momentum'} {o.get('momentum')}, "
         f"weight decay {o.get('weight_decay')}, "
         f"x{o.get('lr_decay')} at {list(o.get('lr_decay_at', []))} of the stage"),
        f"batch {o.get('batch_size')}",
        f"lambda_r {loss.get('lambda_r'):.4g}, lambda_d {loss.get('lambda_d'):.4g} "
        f"(eq. 3 {loss.get('detection_reduction', 'sum')} over windows)",
        f"seed {c.get('seed')}",
    ]
    if data.get("max_train_examples") is not None:
        parts.append(f"at most {data['max_train_examples']} training examples per dataset")
    if c.get("max_test_examples") is not None:
        parts.append(f"per-epoch test errors on at most {c['max_test_examples']} crops per set")
    return "; ".join(parts)


def _seconds(value: float | None) -> str:
    """A duration as text ending in " s" (the book's nbval sanitiser masks it)."""
    return "" if value is None or not np.isfinite(value) else f"{value:.1f} s"


def provenance_frame(source: Path | str | Mapping[str, Any], *, with_data: bool = True
                     ) -> pd.DataFrame:
    """Provenance of one result as a one-column table (index ``item``, column ``value``).

    source: a training run folder (``config.json``, ``last.pt``, ``history.jsonl``), an
    evaluation folder (``metrics.json``), or a ``metrics.json`` dict. Rows: code commit,
    device, created, config summary, epochs, time, data fingerprint; then (``with_data``) the
    SHA-256 of each data checksum manifest and the data root's fast verification status.
    No absolute path is shown.
    """
    rows: dict[str, Any] = {}
    if isinstance(source, Mapping):
        _metrics_rows(source, rows)
    else:
        folder = Path(source)
        if (folder / "metrics.json").is_file():
            _metrics_rows(json.loads((folder / "metrics.json").read_text()), rows)
        elif (folder / "config.json").is_file():
            _run_rows(folder, rows)
        else:
            raise FileNotFoundError(f"{folder} holds neither metrics.json nor config.json: "
                                    "not a run or evaluation folder")
    frame = pd.Series(rows, name="value", dtype=object).to_frame()
    frame.index.name = "item"
    if with_data:
        frame = pd.concat([frame, data_provenance_frame()])
    return frame


def data_provenance_frame() -> pd.DataFrame:
    """The data part of the provenance (same layout as :func:`provenance_frame`): the SHA-256
    of each checksum manifest and the data root's fast verification status."""
    rows: dict[str, Any] = {}
    for name, digest in manifest_digests().items():
        rows[f"data manifest {name} (SHA-256)"] = digest
    for name, status in data_verification().items():
        rows[f"data root check, {name}"] = status
    frame = pd.Series(rows, name="value", dtype=object).to_frame()
    frame.index.name = "item"
    return frame


PROVENANCE_CSS = {"font-size": "80%", "overflow-wrap": "anywhere"}


def _metrics_rows(m: Mapping[str, Any], rows: dict[str, Any]) -> None:
    p = m.get("provenance", {})
    rows["result"] = f"evaluation on {m.get('dataset')} test set"
    rows["code commit (evaluation)"] = p.get("git_commit")
    rows["code commit (checkpoint)"] = m.get("checkpoint_commit")
    rows["checkpoint"] = f"{Path(str(m.get('checkpoint'))).parent.name}/" \
                         f"{Path(str(m.get('checkpoint'))).name}, epoch {m.get('checkpoint_epoch')}"
    rows["device"] = p.get("device")
    rows["created"] = p.get("created")
    if "config" in p:
        rows["config"] = config_summary(p["config"])
    if m.get("association"):
        rows["Buffy association rule"] = m["association"]
    rows["test examples (matched)"] = f"{m.get('n_examples')} ({m.get('n_matched')})"
    rows["evaluation time"] = _seconds(p.get("seconds"))
    rows["inference images/s"] = p.get("inference_images_per_second")
    rows["test data fingerprint"] = p.get("data_fingerprint")


def _run_rows(folder: Path, rows: dict[str, Any]) -> None:
    from hmlpe.engine.checkpoint import load_checkpoint
    from hmlpe.engine.training import CHECKPOINT_NAME

    info = json.loads((folder / "config.json").read_text())
    ckpt = folder / CHECKPOINT_NAME
    state = load_checkpoint(ckpt) if ckpt.is_file() else {}
    rows["result"] = f"training run {folder.name}"
    rows["code commit"] = state.get("git_commit", info.get("git_commit"))
    rows["device"] = state.get("device", info.get("device"))
    rows["created"] = state.get("created", info.get("created"))
    rows["config"] = config_summary(info["config"])
    rows["initialised from"] = (f"{Path(info['init_from']).parent.name}/{Path(info['init_from']).name}"
                                if info.get("init_from") else "random (seeded)")
    rows["epochs done"] = state.get("epoch", "no checkpoint")
    try:
        hist = load_history(folder)
        rows["training time"] = _seconds(float(hist["train_seconds"].sum()))
    except (FileNotFoundError, KeyError):
        rows["training time"] = ""
    data = state.get("data", {})
    rows["training examples"] = data.get("train_examples")
    rows["training data fingerprint"] = data.get("train_fingerprint")


# --------------------------------------------------------------------------- histories
def load_history(folder: Path | str) -> pd.DataFrame:
    """A run's per-epoch log (``history.jsonl``, else ``history.csv``) as a DataFrame sorted
    by epoch, one row per epoch."""
    folder = Path(folder)
    jsonl, csv = (folder / n for n in HISTORY_FILES)
    if jsonl.is_file():
        rows = [json.loads(line) for line in jsonl.read_text().splitlines() if line.strip()]
        frame = pd.DataFrame(rows)
    elif csv.is_file():
        frame = pd.read_csv(csv)
    else:
        raise FileNotFoundError(f"no {' or '.join(HISTORY_FILES)} in {folder}")
    if frame.empty or "epoch" not in frame:
        raise FileNotFoundError(f"the history in {folder} has no epochs")
    return frame.sort_values("epoch").reset_index(drop=True)


def stage_summary(histories: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Per run: epochs, median and last throughput (training images/s), training time (sum of
    ``train_seconds``, as text "N s") and the last epoch's errors."""
    rows = {}
    for label, h in histories.items():
        last = h.iloc[-1]
        rows[label] = {
            "epochs": int(last["epoch"]),
            "images/s (median)": float(h["images_per_second"].median()),
            "images/s (last epoch)": float(last["images_per_second"]),
            "training time": _seconds(float(h["train_seconds"].sum())),
            "train regression": float(last["train_regression"]),
            "test regression": float(last.get("test_regression", np.nan)),
            "train detection": float(last["train_detection"]),
            "test detection": float(last.get("test_detection", np.nan)),
        }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "run"
    return frame


def plot_learning_curves(histories: Mapping[str, pd.DataFrame], ax_reg=None, ax_det=None, *,
                         colors: Mapping[str, Any] | None = None,
                         offsets: Mapping[str, int] | None = None, legend: bool = True,
                         legend_title: str | None = None) -> None:
    """Figure 5's style: per run, the training error (solid) and the test error (dashed)
    against the epoch; regression (eq. 1 summed over the joints) on ``ax_reg``, detection
    (mean eq. 3 per window) on ``ax_det``. Either axis may be None. ``colors``: per label
    (default: the matplotlib cycle in the order of ``histories``); ``offsets``: epochs added
    to a run's x axis (a fine-tuning drawn after its pre-training). ``legend``: one entry per
    run (its colour) and one per line style (training, test)."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colors = dict(colors or {})
    for k, label in enumerate(histories):
        colors.setdefault(label, cycle[k % len(cycle)])
    for task, ax in (("regression", ax_reg), ("detection", ax_det)):
        if ax is None:
            continue
        for label, h in histories.items():
            x = h["epoch"] + (offsets or {}).get(label, 0)
            few = len(h) < 8  # short runs: markers, filled for training and open for test
            for split, style in (("train", "-"), ("test", "--")):
                col = f"{split}_{task}"
                if col in h and h[col].notna().any():
                    ax.plot(x, h[col], style, color=colors[label], label=f"{label}, {split}",
                            marker=("o" if split == "train" else "s") if few else None,
                            markersize=5, markerfacecolor=colors[label] if split == "train"
                            else "none")
        xs = [x for line in ax.get_lines() for x in line.get_xdata()]
        if xs and max(xs) - min(xs) < 10:   # few epochs: one tick per epoch, some margin
            ax.set_xticks(range(int(min(xs)), int(max(xs)) + 1))
            ax.set_xlim(min(xs) - 0.5, max(xs) + 0.5)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if legend and histories:
            handles = [Line2D([], [], color=colors[label], lw=2, label=label)
                       for label in histories]
            handles += [Line2D([], [], color="black", ls="-", marker="o", label="training"),
                        Line2D([], [], color="black", ls="--", marker="s",
                               markerfacecolor="none", label="test")]
            ax.legend(handles=handles, fontsize=7, title=legend_title, title_fontsize=7)
        ax.set_xlabel("epoch")
        ax.set_ylabel("regression error (eq. 1, sum over 8 joints)" if task == "regression"
                      else "detection error (eq. 3, mean per window)")
        ax.grid(alpha=0.3)


# --------------------------------------------------------------------------- comparisons
def comparison_table(ours: Mapping | pd.Series | pd.DataFrame, paper: pd.DataFrame, *,
                     source_level: str = "source") -> pd.DataFrame:
    """Paper vs ours vs difference, row by row of the paper's table.

    paper: the paper's numbers, one row per paper row (any index), NaN where it prints none.
    ours: our numbers; a mapping column -> value (or a Series) is compared with every paper
    row; a DataFrame (or mapping row -> {column: value}) is aligned by index (missing rows:
    NaN). Returns a frame with the paper's columns and the paper's index extended by a last
    level ``source`` holding :data:`SOURCES` for each row: ``paper``, ``ours`` and
    ``ours - paper`` (NaN where either is NaN).
    """
    paper = paper.astype(float)
    if isinstance(ours, pd.DataFrame):
        ours_df = ours
    elif isinstance(ours, pd.Series) or (isinstance(ours, Mapping) and not any(
            isinstance(v, (Mapping, pd.Series)) for v in ours.values())):
        row = pd.Series(ours, dtype=float)
        ours_df = pd.DataFrame([row.to_dict()] * len(paper), index=paper.index)
    else:
        ours_df = pd.DataFrame.from_dict({k: dict(v) for k, v in ours.items()}, orient="index")
    ours_df = ours_df.reindex(index=paper.index, columns=paper.columns).astype(float)
    diff = ours_df - paper
    frames = dict(zip(SOURCES, (paper, ours_df, diff)))
    keys, rows = [], []
    for key in paper.index:
        for source, df in frames.items():
            keys.append((*(key if isinstance(key, tuple) else (key,)), source))
            rows.append(df.loc[key].to_numpy(float))
    names = [*(n if n is not None else f"level_{k}" for k, n in enumerate(paper.index.names)),
             source_level]
    out = pd.DataFrame(np.array(rows).reshape(len(rows), len(paper.columns)),
                       index=pd.MultiIndex.from_tuples(keys, names=names), columns=paper.columns)
    return out


def pcp_with_means(pcp: Mapping[str, float]) -> dict[str, float]:
    """Our per-arm PCP plus the L/R means of the lower and upper arms."""
    out = {c: float(pcp[c]) for c in PART_COLUMNS}
    out[LR_MEAN_COLUMNS[0]] = (out["LL"] + out["RL"]) / 2
    out[LR_MEAN_COLUMNS[1]] = (out["LU"] + out["RU"]) / 2
    return out


def paper_table1_frame() -> pd.DataFrame:
    """The paper's Table 1 indexed by (test set, method), columns LL, RL, LU, RU and the L/R
    means (the paper's combined number where it prints only that)."""
    from hmlpe.companion import paper

    t = paper.table1()
    means = paper.table1_arm_means()
    frame = t[["test_set", "method", *PART_COLUMNS]].copy()
    frame[LR_MEAN_COLUMNS[0]] = means["lower_arms"]
    frame[LR_MEAN_COLUMNS[1]] = means["upper_arms"]
    frame = frame.set_index(["test_set", "method"])
    frame.index.names = ["test set", "method"]
    frame.attrs.update(t.attrs)
    frame.attrs["lr_combined"] = dict(zip(frame.index, t["lr_combined"].astype(bool)))
    return frame


def table1_comparison(metrics: Mapping[str, Any]) -> pd.DataFrame:
    """Every row of the paper's Table 1 beside our Buffy PCP: the whole-set rows against our
    whole set, the subset rows against our matched subset (``metrics.json`` of a Buffy
    evaluation). See :func:`comparison_table` for the layout."""
    if "table1" not in metrics:
        raise ValueError("these metrics hold no table1 (not a Buffy evaluation)")
    paper_df = paper_table1_frame()
    ours = {}
    for key in paper_df.index:
        part = "whole_set" if key[0] == "whole" else "subset"
        ours[key] = pcp_with_means(metrics["table1"][part]["pcp"])
    out = comparison_table(ours, paper_df)
    out.attrs.update(paper_df.attrs)
    return out


def table2_comparison(metrics: Mapping[str, Any]) -> pd.DataFrame:
    """The paper's Table 2 (HMLPE on FLIC) beside our FLIC PCP (``metrics.json`` of a FLIC
    evaluation), with the L/R means."""
    from hmlpe.companion import paper

    if "table2" not in metrics:
        raise ValueError("these metrics hold no table2 (not a FLIC evaluation)")
    t = paper.table2()
    frame = t.set_index("method")[list(PART_COLUMNS)].astype(float)
    frame[LR_MEAN_COLUMNS[0]] = frame[["LL", "RL"]].mean(axis=1)
    frame[LR_MEAN_COLUMNS[1]] = frame[["LU", "RU"]].mean(axis=1)
    out = comparison_table(pcp_with_means(metrics["table2"]["pcp"]), frame)
    out.attrs.update(t.attrs)
    return out


TABLE3_ROWS = {  # the paper's row label -> (history column, task)
    "training error (R)": ("train_regression", "regression"),
    "test error (R)": ("test_regression", "regression"),
    "training error (P)": ("train_detection", "detection"),
    "test error (P)": ("test_detection", "detection"),
}


def ratio_label(ratio: float) -> str:
    """The paper's column label of a lambda_R / lambda_P ratio ("0", "0.5", "1e10", "inf")."""
    ratio = float(ratio)
    if math.isinf(ratio):
        return "inf"
    if ratio >= 1e6:
        return f"1e{round(math.log10(ratio))}"
    return f"{ratio:g}"


def trained_tasks(ratio: float) -> set[str]:
    """The tasks with a non-zero weight at lambda_R / lambda_P = ratio."""
    from hmlpe.engine.profiles import ratio_to_lambdas

    lambda_r, lambda_d = ratio_to_lambdas(float(ratio))
    return {t for t, w in (("regression", lambda_r), ("detection", lambda_d)) if w > 0}


def table3_ours(histories: Mapping[float, pd.DataFrame | None]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Our Table 3 from the sweep's histories {ratio: history or None (no finished epoch)}.

    Returns (cells, untrained): ``cells`` has the paper's rows and one column per ratio
    (:func:`ratio_label`) with the last epoch's errors, NaN where the task has weight 0 (the
    paper's '-') or the run has no finished epoch; ``untrained`` holds the errors we measured
    anyway for the task with weight 0 (never trained; not comparable with any paper cell)."""
    cols = [ratio_label(r) for r in histories]
    cells = pd.DataFrame(np.nan, index=list(TABLE3_ROWS), columns=cols)
    untrained = pd.DataFrame(np.nan, index=list(TABLE3_ROWS), columns=cols)
    for ratio, h in histories.items():
        if h is None or len(h) == 0:
            continue
        last = h.iloc[-1]
        tasks = trained_tasks(ratio)
        for row, (col, task) in TABLE3_ROWS.items():
            value = float(last[col]) if col in last and pd.notna(last[col]) else np.nan
            (cells if task in tasks else untrained).loc[row, ratio_label(ratio)] = value
    cells.columns.name = untrained.columns.name = "lambda_R / lambda_P"
    untrained = untrained.dropna(how="all").dropna(axis=1, how="all")
    return cells, untrained


def table3_comparison(histories: Mapping[float, pd.DataFrame | None]) -> pd.DataFrame:
    """The paper's Table 3 beside ours (:func:`table3_ours`), for the paper's ratios that we
    ran (columns) and its four rows, each as paper / ours / ours - paper."""
    from hmlpe.companion import paper

    p = paper.table3()
    cells, _ = table3_ours(histories)
    common = [c for c in p.columns if c in cells.columns]
    out = comparison_table(cells[common], p[common])
    out.index.names = ["error", "source"]
    out.attrs.update(p.attrs)
    return out


# --------------------------------------------------------------------------- evaluation
def figure4_curves(metrics: Mapping[str, Any]) -> pd.DataFrame:
    """Eq. 7's accuracy curves of a FLIC evaluation: index r (percent of the torso size),
    columns (torso definition, joint), plus the L/R means ``elbow`` and ``wrist``."""
    f = metrics["figure4"]
    cols = {}
    for definition, curves in f["torso"].items():
        for joint, acc in curves.items():
            cols[(definition, joint)] = acc
        for kind in ("elbow", "wrist"):
            cols[(definition, kind)] = list(np.mean([curves[f"l_{kind}"], curves[f"r_{kind}"]],
                                                    axis=0))
    frame = pd.DataFrame(cols, index=pd.Index(f["radii"], name="r"))
    frame.columns.names = ["torso", "joint"]
    return frame


# --------------------------------------------------------------------------- examples
def _gt_arms(records: list, dataset: str) -> np.ndarray:
    """(N, 4, 2, 2) ground-truth arms LL, RL, LU, RU as the evaluation scores them."""
    from hmlpe.engine.evaluation import BUFFY_ARM_STICKS
    from hmlpe.skeleton import ARM_PARTS, PART_NAMES, parts_from_joints

    if dataset == "buffy":
        return np.stack([r.sticks[[BUFFY_ARM_STICKS[p] for p in ARM_PARTS]] for r in records])
    idx = [PART_NAMES.index(p) for p in ARM_PARTS]
    return parts_from_joints(np.stack([r.joints for r in records]))[:, idx]


def arm_scores(pred_arms: np.ndarray, gt_arms: np.ndarray) -> np.ndarray:
    """Eq. 6's criterion as a number per arm: the larger end-point error over the part length,
    in the better of the two end orders. (N, P, 2, 2) twice -> (N, P); an arm is correct by
    eq. 6 when its score is <= alpha. NaN predictions give inf."""
    pred = np.nan_to_num(np.asarray(pred_arms, float), nan=np.inf)
    gt = np.asarray(gt_arms, float)
    length = np.linalg.norm(gt[..., 0, :] - gt[..., 1, :], axis=-1)
    d = lambda a, b: np.linalg.norm(a - b, axis=-1)  # noqa: E731
    same = np.maximum(d(pred[..., 0, :], gt[..., 0, :]), d(pred[..., 1, :], gt[..., 1, :]))
    swap = np.maximum(d(pred[..., 1, :], gt[..., 0, :]), d(pred[..., 0, :], gt[..., 1, :]))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.minimum(same, swap) / length


def frame_scores(eval_dir: Path | str, alpha: float = 0.5) -> pd.DataFrame:
    """Per test example of an evaluation folder: matched, arms correct by eq. 6 (0-4) and the
    mean :func:`arm_scores` (lower is better), in ``predictions.csv`` order."""
    from hmlpe.data.datasets import load_dataset
    from hmlpe.engine.evaluation import load_metrics, read_predictions
    from hmlpe.skeleton import ARM_PARTS, PART_NAMES, parts_from_joints

    eval_dir = Path(eval_dir)
    m = load_metrics(eval_dir / "metrics.json")
    frame, pred = read_predictions(eval_dir / "predictions.csv")
    data_root = m["provenance"]["config"]["data"]["data_root"]
    records = {r.example: r for r in load_dataset(m["dataset"], data_root, "test")}
    recs = [records[str(e)] for e in frame["example"]]
    idx = [PART_NAMES.index(p) for p in ARM_PARTS]
    scores = arm_scores(parts_from_joints(pred)[:, idx], _gt_arms(recs, m["dataset"]))
    correct = (scores <= alpha) & frame["matched"].to_numpy(bool)[:, None]
    out = pd.DataFrame({"example": frame["example"].astype(str), "matched": frame["matched"],
                        "arms correct": correct.sum(axis=1),
                        "mean arm score": np.where(frame["matched"], scores.mean(axis=1),
                                                   np.inf)})
    for k, c in enumerate(PART_COLUMNS):
        out[c] = correct[:, k]
    return out


def best_and_worst(scores: pd.DataFrame, n: int = 4) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``n`` matched examples with most arms correct (ties: lowest mean arm score) and
    the ``n`` with fewest (ties: highest); a stable order, so the choice is reproducible."""
    s = scores[scores["matched"].astype(bool)]
    best = s.sort_values(["arms correct", "mean arm score"], ascending=[False, True],
                         kind="mergesort").head(n)
    worst = s.sort_values(["arms correct", "mean arm score"], ascending=[True, False],
                          kind="mergesort").head(n)
    return best, worst


def plot_predictions(eval_dir: Path | str, examples: Iterable[str], axes, *,
                     scores: pd.DataFrame | None = None, margin: float = 0.1) -> None:
    """Draw our predicted skeleton (``hmlpe.engine.predict.draw_skeleton``: parts, joints and the
    test box in white) on each example's image, zoomed to its test box, with the ground-truth
    arms as thin dashed white lines; one example per axis."""
    import io

    from PIL import Image

    from hmlpe.data.crops import load_image
    from hmlpe.data.datasets import load_dataset
    from hmlpe.engine.evaluation import load_metrics, read_predictions
    from hmlpe.engine.predict import draw_skeleton

    examples = [str(e) for e in examples]
    eval_dir = Path(eval_dir)
    m = load_metrics(eval_dir / "metrics.json")
    frame, pred = read_predictions(eval_dir / "predictions.csv")
    data_root = m["provenance"]["config"]["data"]["data_root"]
    records = {r.example: r for r in load_dataset(m["dataset"], data_root, "test")}
    row_of = {str(e): i for i, e in enumerate(frame["example"].astype(str))}
    for ax, example in zip(np.ravel(axes), examples):
        i = row_of[str(example)]
        rec = records[str(example)]
        box = frame.loc[i, ["box_x1", "box_y1", "box_x2", "box_y2"]].to_numpy(float)
        image = load_image(rec.image)
        png = draw_skeleton(image, pred[i], box if np.isfinite(box).all() else None)
        ax.imshow(Image.open(io.BytesIO(png)))
        for (a, b) in _gt_arms([rec], m["dataset"])[0]:
            ax.plot([a[0], b[0]], [a[1], b[1]], "--", color="white", lw=0.8)
        if np.isfinite(box).all():
            w, h = box[2] - box[0], box[3] - box[1]
            ax.set_xlim(box[0] - margin * w, box[2] + margin * w)
            ax.set_ylim(box[3] + margin * h, box[1] - margin * h)
        title = str(example)
        if scores is not None:
            s = scores.set_index("example").loc[str(example)]
            title += f"\n{int(s['arms correct'])}/4 arms correct"
        ax.set_title(title, fontsize=8)
        ax.set_axis_off()
    for ax in np.ravel(axes)[len(examples):]:
        ax.set_axis_off()


# --------------------------------------------------------------------------- config
def _field_notes(cls: type) -> dict[str, str]:
    """The ``# comment`` on each field line of a config dataclass's source (hmlpe.config),
    where the library writes which values are the paper's and which are its own choice."""
    import inspect
    import re

    notes: dict[str, str] = {}
    try:
        src = inspect.getsource(cls)
    except (OSError, TypeError):
        return notes
    above: list[str] = []   # a block of comment lines right above a field also documents it
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
    from dataclasses import fields, is_dataclass

    rows = []

    def walk(obj: Any, prefix: str) -> None:
        notes = _field_notes(type(obj))
        for f in fields(obj):
            value = getattr(obj, f.name)
            if is_dataclass(value):
                walk(value, f"{prefix}{f.name}.")
            else:
                shown = list(value) if isinstance(value, tuple) else value
                rows.append({"key": prefix + f.name, "value": str(shown),
                             "note": notes.get(f.name, "")})

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


def example_figure(eval_dir: Path | str, examples: Iterable[str], scores: pd.DataFrame,
                   title: str, ncols: int = 2, size: float = 3.6):
    """A figure of :func:`plot_predictions` for ``examples``, ``ncols`` per row, titled."""
    import matplotlib.pyplot as plt

    examples = [str(e) for e in examples]
    nrows = max(1, math.ceil(len(examples) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * 1.05 * nrows),
                             squeeze=False)
    plot_predictions(eval_dir, examples, axes, scores=scores)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def checked_frame_scores(eval_dir: Path | str, pcp: Mapping[str, float]) -> pd.DataFrame:
    """:func:`frame_scores` of an evaluation, checked against the PCP of its metrics.json
    (``pcp``: {"LL": ..., ...} over all frames): the per-frame decisions must add up to the
    table, else ValueError naming the folder."""
    scores = frame_scores(eval_dir)
    recount = 100 * scores[list(PART_COLUMNS)].sum() / len(scores)
    expected = np.array([pcp[c] for c in PART_COLUMNS], dtype=float)
    if not np.allclose(recount.to_numpy(dtype=float), expected):
        raise ValueError(f"{eval_dir}: per-frame arm scores {recount.round(3).tolist()} do not "
                         f"add up to metrics.json's PCP {expected.round(3).tolist()}")
    return scores


def best_and_worst_figures(eval_dir: Path | str, scores: pd.DataFrame, n: int = 4):
    """Figures of the ``n`` best and ``n`` worst matched examples (:func:`best_and_worst`)."""
    best, worst = best_and_worst(scores, n)
    return (example_figure(eval_dir, best["example"], scores, "best: most arms correct"),
            example_figure(eval_dir, worst["example"], scores, "worst: fewest arms correct"))
