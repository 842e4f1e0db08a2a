# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Reproducibility
#
# Reproduces: nothing from the paper; it records how this book's numbers were made.
#
# This page runs last. It reads the run's `book_timings.json`, which `python -m hmlpe book` rewrites
# after every chapter, and shows the code version, the software, the device, the wall time
# of every chapter and the exact command that reruns it. **This page's own wall time is not
# known while it runs**, so it is not in the table; it is in `book_timings.json` once the run
# has finished.

# %% tags=["parameters"]
profile = "smoke"  # which profile of hmlpe.engine.profiles this run used
run_dir = "../runs/smoke"  # where the run's results and book_timings.json are

# %% tags=["hide-input"]
import os
import platform
from importlib import metadata
from pathlib import Path

import pandas as pd

from hmlpe.companion.book import load_timings, rerun_table
from hmlpe.engine.layout import RunLayout
from hmlpe.provenance import git_commit, package_versions

THIS_CHAPTER = "10_reproducibility"
timings_file = RunLayout(Path(run_dir)).timings
timings = load_timings(Path(run_dir))
print(f"profile: {profile}")
print(f"code: git commit {git_commit()}")
if not timings:
    print(f"no {timings_file.name} in the run folder: this chapter was run on its own")

# %% [markdown]
# ## Software and device

# %% tags=["hide-input"]
import torch

versions = package_versions()
for name in (
    "torch",
    "jupyter-book",
    "myst-nb",
    "sphinx",
    "jupytext",
    "papermill",
    "nbval",
    "ipywidgets",
    "ipykernel",
):
    try:
        versions[name] = metadata.version(name)
    except metadata.PackageNotFoundError:
        versions[name] = "not installed"
device = {
    "platform": platform.platform(),
    "processor": platform.machine(),
    "CPU cores (os.cpu_count)": os.cpu_count(),
    "torch threads": torch.get_num_threads(),
    "CUDA available": torch.cuda.is_available(),
    "CUDA device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
}
pd.Series(versions, name="version").to_frame().rename_axis("package").style.set_uuid("versions")

# %% tags=["hide-input"]
pd.Series(device, name="value").to_frame().rename_axis("device").style.set_uuid("device")

# %% [markdown]
# ## Wall time of each chapter, and how to rerun it
#
# Below the timings, each chapter's papermill parameters (from its `parameters` cell) and a
# command, run from the project's root, that reruns it through `python -m hmlpe book` (which
# also hides papermill's injected-parameters cell in the HTML and updates `book_timings.json`)
# with one parameter set; `python -m hmlpe book --build-only` then rebuilds the HTML. The
# exact papermill command of the last run, with its absolute paths, is in `book_timings.json`.

# %% tags=["hide-input"]
rows = []
for name, info in timings.get("chapters", {}).items():
    if name == THIS_CHAPTER:
        continue  # still running: its own timing is not known yet
    rows.append(
        {
            "chapter": name,
            "status": info.get("status"),
            "wall time (s)": info.get("wall_seconds"),
            "started (UTC)": info.get("start"),
            "ended (UTC)": info.get("end"),
        }
    )
table = pd.DataFrame(
    rows, columns=["chapter", "status", "wall time (s)", "started (UTC)", "ended (UTC)"]
)
if len(table):
    total = table["wall time (s)"].sum()
    print(
        f"{len(table)} chapter(s) before this one took {total:.1f} s in all "
        f"(this chapter's own time is not known yet)"
    )
table.style.set_uuid("timings").hide(axis="index").format({"wall time (s)": "{:.1f}"})

# %% tags=["hide-input"]
reruns = pd.DataFrame(rerun_table(profile))
(
    reruns.style.hide(axis="index")
    .set_uuid("reruns")
    .set_properties(subset=["command"], **{"font-family": "monospace", "font-size": "85%"})
    .set_table_styles([{"selector": "td, th", "props": "padding: 2px 8px; vertical-align: top;"}])
)

# %% [markdown]
# ## Beyond one machine
#
# Every number in this book was trained in one process, one run after another. The same
# engine also runs one training on several GPUs or nodes through PyTorch's `torchrun` (data
# parallel, `hmlpe/engine/distributed.py`): every rank draws the same random streams and
# trains on its share of each global batch, so the batch size and the learning rate stay the
# profile's, and rank 0 alone writes the checkpoints and the history. On this project's CPU it
# is tested, not used: 2 gloo ranks on the smoke profile reach the one-process weights within
# float tolerance, and a run stopped after one epoch resumes to the same weights. Table 3's
# ratios and the seeds can run as jobs (`hmlpe/engine/jobs.py`), one run folder each,
# submitted with submitit to Slurm or to its local executor; a rerun skips finished jobs and a
# failed job is reported by name. The default stays the sequential run, so this book needs no
# extra dependency. The README lists every option (rendezvous flags for several nodes, Slurm's
# partition and GPUs). The two commands for this run's profile:

# %% tags=["hide-input"]
print(
    f"torchrun --standalone --nproc_per_node 4 -m hmlpe train --profile {profile} "
    f"--out runs/{profile}/pretrain"
)
print(
    f"python -m hmlpe sweep --profile {profile} --out runs/{profile} --executor slurm "
    f"--gpus-per-node 1"
)
