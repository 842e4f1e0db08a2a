"""PCP against compute, read from a curve's folders (``hmlpe curve``: ``ROOT/visits_<N>/``, each
a whole protocol run): one row per budget, the fitted slope per decade of visits, and the
figure of chapter 5 with the paper's point at its 27M visits."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from hmlpe.companion.history import load_history
from hmlpe.config import PAPER_TABLE3_VISITS
from hmlpe.data.source import DataSource
from hmlpe.engine.layout import RunLayout
from hmlpe.engine.records import read_evaluation_record
from hmlpe.errors import ResultsError

ARMS = ("LL", "RL", "LU", "RU")
_FOLDER = re.compile(r"visits_(\d+)$")


def _pcp(eval_dir: Path, dataset: str) -> dict[str, float]:
    pcp = read_evaluation_record(eval_dir, dataset).pcp()  # Buffy's whole set, FLIC
    return {f"{dataset} {arm}": float(pcp[arm]) for arm in ARMS}


def _last(h: pd.DataFrame, key: str) -> float:
    if key not in h:
        return np.nan
    v = h[key].dropna()
    return float(v.iloc[-1]) if len(v) else np.nan


def pretrain_visits(
    stage_dir: Path, history: pd.DataFrame, source: DataSource | None = None
) -> int:
    """Image visits of a stage: its history's ``visits`` column, or, for histories written
    before visits were logged, the epochs done x the visits per epoch: its training images
    (from its run record, or for records written before they counted them, its config's
    training set in ``source``) x the passes of its epoch unit."""
    if "visits" in history:
        return int(history["visits"].max())
    from hmlpe.companion.compute import stage_images
    from hmlpe.engine.records import read_run_record

    record = read_run_record(stage_dir)
    images = record.train_examples
    if images is None:
        if source is None:
            raise ResultsError(
                f"{record.path} records no train_examples and {stage_dir} no visits: its "
                "image visits are counted from the data (pass the data source)"
            )
        images = stage_images(record.config, source)
    stage = record.config.stage
    return int(history["epoch"].max()) * stage.visits(images) // stage.epochs


def curve_row(folder: Path, source: DataSource | None = None) -> dict[str, float]:
    """A budget's visits (``pretrain_visits``, with ``source`` for old records), pre-training
    errors (train, validation, test eq. 1), dead maps and the PCP of the fine-tuned networks
    (Buffy whole set, FLIC)."""
    run = RunLayout(folder)
    pre = load_history(run.pretrain)
    row = {
        "pre-training visits": pretrain_visits(run.pretrain, pre, source),
        "pre-training passes": int(pre["epoch"].max()),
        "train eq. 1": _last(pre, "train_regression"),
        "val eq. 1": _last(pre, "val_regression"),
        "test eq. 1 Buffy": _last(pre, "test_regression_buffy"),
        "test eq. 1 FLIC": _last(pre, "test_regression_flic"),
        "dead conv2": _last(pre, "dead_maps_conv2"),
        "dead conv3": _last(pre, "dead_maps_conv3"),
        "training minutes": float(
            sum(
                load_history(d)["train_seconds"].sum()
                for d in (run.pretrain, run.finetune("buffy"), run.finetune("flic"))
            )
        )
        / 60,
    }
    for ds in ("buffy", "flic"):
        row.update(_pcp(run.evaluation(ds), ds))
    return row


def curve_table(root: Path | str, source: DataSource | None = None) -> pd.DataFrame:
    """Every ``visits_<N>`` folder under ``root`` with both evaluations, by budget
    (``curve_row``)."""
    root = Path(root)
    rows = {}
    for folder in sorted(root.iterdir()):
        match = _FOLDER.search(folder.name)
        if match and RunLayout.metrics(RunLayout(folder).evaluation("flic")).is_file():
            rows[int(match.group(1))] = curve_row(folder, source)
    if not rows:
        raise FileNotFoundError(f"no finished curve runs (visits_<N>/ with evaluations) in {root}")
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("budget").sort_index()


def _log_visits(table: pd.DataFrame) -> np.ndarray:
    x = np.log10(table["pre-training visits"].to_numpy(float))
    if len(np.unique(x)) < 2:
        raise ValueError(f"a slope needs at least two budgets; the curve has {len(np.unique(x))}")
    return x


def visits_text(visits: float) -> str:
    """``visits`` for a sentence: 40,428; 1.6M; 2.3 billion; "never" for inf, "reached" for
    NaN (``gap_table``'s marks)."""
    if np.isnan(visits):
        return "reached"
    if not np.isfinite(visits):
        return "never"
    if visits < 1e6:
        return f"{visits:,.0f}"
    return f"{visits / 1e6:.1f}M" if visits < 1e9 else f"{visits / 1e9:,.1f} billion"


def slopes_per_decade(table: pd.DataFrame) -> pd.Series:
    """Least-squares slope of each PCP column against log10(visits): points per 10x compute."""
    x = _log_visits(table)
    return pd.Series(
        {
            c: float(np.polyfit(x, table[c].to_numpy(float), 1)[0])
            for c in table.columns
            if c.split(" ")[-1] in ARMS
        }
    )


def extrapolate(table: pd.DataFrame, visits: float = PAPER_TABLE3_VISITS) -> pd.Series:
    """The straight lines of ``slopes_per_decade`` read at ``visits`` (an extrapolation: a
    straight line in log visits, not a prediction)."""
    x = _log_visits(table)
    out = {}
    for c in table.columns:
        if c.split(" ")[-1] in ARMS:
            slope, icpt = np.polyfit(x, table[c].to_numpy(float), 1)
            out[c] = float(slope * np.log10(visits) + icpt)
    return pd.Series(out)


def plot_curve(
    table: pd.DataFrame, paper_pcp: dict[str, float], axes, extra_points=None, fit: bool = True
):
    """PCP (one panel per dataset, one line per arm) against pre-training visits on a log axis;
    the paper's values as stars at its 27M visits; ``extra_points``: {label: (visits, {col:
    pcp}[, marker])} drawn as open markers (``"s"``, squares, unless ``marker`` says otherwise:
    references such as the pool-size ablation); ``fit``: the least-squares straight
    lines of ``slopes_per_decade`` drawn thin and dashed out to the paper's visits (an
    extrapolation, drawn as one)."""
    colours = dict(zip(ARMS, ("C0", "C1", "C2", "C3")))
    fit = fit and table["pre-training visits"].nunique() >= 2
    if fit:
        x = _log_visits(table)
        xs = np.array([x.min(), np.log10(PAPER_TABLE3_VISITS)])
    for ax, ds in zip(axes, ("buffy", "flic")):
        for arm in ARMS:
            col = f"{ds} {arm}"
            ax.plot(table["pre-training visits"], table[col], "o-", color=colours[arm], label=arm)
            if fit:
                slope, icpt = np.polyfit(x, table[col].to_numpy(float), 1)
                ax.plot(
                    10**xs,
                    np.clip(slope * xs + icpt, 0, 100),
                    "--",
                    lw=0.8,
                    alpha=0.6,
                    color=colours[arm],
                )
            if col in paper_pcp:
                ax.plot([PAPER_TABLE3_VISITS], [paper_pcp[col]], "*", ms=12, color=colours[arm])
        for label, (visits, pcp, *marker) in (extra_points or {}).items():
            for arm in ARMS:
                if f"{ds} {arm}" in pcp:
                    ax.plot(
                        [visits],
                        [pcp[f"{ds} {arm}"]],
                        marker[0] if marker else "s",
                        mfc="none",
                        color=colours[arm],
                    )
            ax.annotate(
                label,
                (visits, min(pcp.get(f"{ds} {a}", 100) for a in ARMS)),
                textcoords="offset points",
                xytext=(4, -12),
                fontsize=8,
            )
        ax.set_xscale("log")
        ax.axvline(PAPER_TABLE3_VISITS, color="0.7", lw=0.8, ls=":")
        ax.set_xlabel("pre-training image visits (log)")
        ax.set_ylabel("PCP (%)")
        ax.set_title(
            f"{'Buffy (whole set)' if ds == 'buffy' else 'FLIC'}: stars = the paper "
            f"at 27M, dashed = fitted lines"
        )
        ax.set_ylim(0, 100)
        ax.legend(loc="lower right", fontsize=8)


def paper_pcp() -> dict[str, float]:
    """The paper's HMLPE PCP in the curve's columns: Table 1 (Buffy, whole set), Table 2 (FLIC)."""
    from hmlpe.companion import paper

    t1, t2 = paper.table1(), paper.table2()
    buffy = t1[(t1.test_set == "whole") & (t1.method == "HMLPE")].iloc[0]
    flic = t2[t2.method == "HMLPE"].iloc[0]
    return {
        **{f"buffy {a}": float(buffy[a]) for a in ARMS},
        **{f"flic {a}": float(flic[a]) for a in ARMS},
    }


# The test sets of the curve's columns: Buffy's whole set (Table 1) and FLIC (Table 2).
CURVE_TEST_SETS = (("buffy", "whole_set"), ("flic", None))


def _over_seeds(root: Path | str) -> dict[str, dict]:
    """``seeds.pcp_over_seeds`` of each test set of the curve's columns (a token bootstrap:
    only the per-seed values and their spread are read)."""
    from hmlpe.companion.seeds import pcp_over_seeds

    return {ds: pcp_over_seeds(Path(root), ds, table, n_boot=10) for ds, table in CURVE_TEST_SETS}


def seeds_point(
    root: Path | str, source: DataSource | None = None
) -> tuple[int, dict[str, float], int]:
    """A reference point from committed seed folders (``results/cpu``): seed 0's pre-training
    visits (``pretrain_visits``, with ``source`` for old records), the mean PCP over the seeds
    in the curve's columns, and the number of seeds."""
    from hmlpe.companion.seeds import seed_folders

    folders = seed_folders(Path(root))
    if not folders:
        raise FileNotFoundError(f"no seed_<n> folders under {root}")
    pre = RunLayout(folders[0][1]).pretrain
    visits = pretrain_visits(pre, load_history(pre), source)
    pcp = {
        f"{ds} {a}": float(v)
        for ds, res in _over_seeds(root).items()
        for a, v in zip(ARMS, res["spread"]["mean"])
    }
    return visits, pcp, len(folders)


def gap_table(
    table: pd.DataFrame, paper: dict[str, float], visits: float = PAPER_TABLE3_VISITS
) -> pd.DataFrame:
    """Per PCP column: ours at the largest budget, the fitted slope per decade, the straight
    line read at the paper's visits, the paper, and the visits at which the line would reach
    the paper (inf where the slope is not positive). Extrapolations, not predictions."""
    slopes, at_paper = slopes_per_decade(table), extrapolate(table, visits)
    last = table.iloc[-1]
    rows = {}
    for col, slope in slopes.items():
        gap = paper[col] - float(last[col])
        if gap <= 0:  # already at or above the paper: nothing to reach
            reach = np.nan
        elif slope <= 1e-9:  # not growing: never
            reach = np.inf
        else:
            with np.errstate(over="ignore"):
                reach = float(last["pre-training visits"]) * float(np.power(10.0, gap / slope))
        rows[col] = {
            "ours at the largest budget": float(last[col]),
            "points per decade": slope,
            "line at the paper's visits": at_paper[col],
            "paper": paper[col],
            "visits where the line reaches the paper": reach,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def seed_sd_range(root: Path | str) -> tuple[float, float]:
    """The smallest and largest standard deviation over seeds of the curve's PCP columns in
    committed seed folders (``results/cpu``): the noise a one-seed curve carries."""
    sds = np.concatenate([res["spread"]["std"] for res in _over_seeds(root).values()])
    return float(np.min(sds)), float(np.max(sds))


def curve_reading(
    table: pd.DataFrame, gaps: pd.DataFrame, seed_sd: tuple[float, float] | None = None
) -> list[str]:
    """The curve's measured statements in words, computed from ``table`` and ``gap_table``:
    the range of budgets, the slopes of the lower and upper arms, where the straight lines
    would meet the paper, and the limits of the reading (with ``seed_sd``, the standard
    deviation over seeds measured elsewhere, ``seed_sd_range``)."""
    lo, hi = int(table["pre-training visits"].min()), int(table["pre-training visits"].max())
    lower = gaps.loc[[c for c in gaps.index if c.split(" ")[-1] in ("LL", "RL")]]
    upper = gaps.loc[[c for c in gaps.index if c.split(" ")[-1] in ("LU", "RU")]]
    out = [
        f"{len(table)} budgets from {lo:,} to {hi:,} pre-training visits "
        f"({hi / lo:.0f}x, {np.log10(hi / lo):.1f} decades), one seed each."
    ]
    out.append(
        f"Lower arms gain {lower['points per decade'].min():.1f} to "
        f"{lower['points per decade'].max():.1f} PCP points per decade of visits, upper "
        f"arms {upper['points per decade'].min():.1f} to "
        f"{upper['points per decade'].max():.1f}."
    )
    short = lower[lower["paper"] > lower["ours at the largest budget"]]
    if len(short):
        reach = short["visits where the line reaches the paper"]
        finite = reach[np.isfinite(reach)]
        if len(finite):
            out.append(
                f"At the largest budget the lower arms are "
                f"{(short['paper'] - short['ours at the largest budget']).min():.1f} to "
                f"{(short['paper'] - short['ours at the largest budget']).max():.1f} "
                f"points short of the paper; the straight lines would reach the paper's "
                f"values at {visits_text(finite.min())} to {visits_text(finite.max())} "
                f"visits (the paper's Table 3 is at {visits_text(PAPER_TABLE3_VISITS)})."
            )
        if len(finite) < len(short):
            out.append(
                f"{len(short) - len(finite)} lower-arm column(s) do not grow with "
                "compute here: no straight line reaches the paper."
            )
    else:
        out.append("At the largest budget every lower-arm column reaches the paper's value.")
    line = gaps["line at the paper's visits"]
    over, beyond = int((line > gaps["paper"]).sum()), int((line > 100).sum())
    if over:
        out.append(
            f"Read at the paper's {visits_text(PAPER_TABLE3_VISITS)} visits, the lines pass "
            f"the paper's values in {over} of {len(gaps)} columns"
            + (f" ({beyond} beyond 100%)" if beyond else "")
            + ": the growth must slow somewhere between the largest budget and the "
            "paper's compute, and where is not measured here."
        )
    noise = (
        f" and a standard deviation over seeds of {seed_sd[0]:.1f}-{seed_sd[1]:.1f} points "
        f"(committed seeds of the cpu profile)"
        if seed_sd
        else ""
    )
    out.append(
        f"A straight line in log visits is a description of these points, not a law: "
        f"with one seed per budget{noise}, each point carries that noise, and nothing "
        f"here says whether the line bends before the paper's compute, nor what the "
        f"paper's larger pool (ETHZ, SA and WAF, absent here) adds."
    )
    return out
