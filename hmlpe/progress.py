"""tqdm progress bars that stay quiet when output is not a terminal (CI, papermill logs)."""

from __future__ import annotations

import os
import sys

from tqdm.auto import tqdm


def progress_enabled(requested: bool | None = None) -> bool:
    """``requested`` if given; else on when stderr is a terminal and HMLPE_PROGRESS != 0."""
    if requested is not None:
        return requested
    if os.environ.get("HMLPE_PROGRESS") == "0":
        return False
    return sys.stderr.isatty()


def progress_bar(iterable=None, *, total=None, desc=None, enabled: bool | None = None, **kwargs):
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        disable=not progress_enabled(enabled),
        leave=False,
        dynamic_ncols=True,
        **kwargs,
    )
