"""Where the datasets are: --data-root, else $HMLPE_DATA, else ../shared/data, else data/raw."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CANDIDATE_ROOTS = (PROJECT_ROOT.parent / "shared" / "data", PROJECT_ROOT / "data" / "raw")


class DataRootError(FileNotFoundError):
    """The data root does not exist or is not a folder."""


def resolve_data_root(explicit: str | os.PathLike | None = None) -> Path:
    """The data root to read: ``explicit``, else $HMLPE_DATA, else the first existing of
    ../shared/data and data/raw. Raises DataRootError naming what was tried."""
    if explicit is not None:
        root = Path(explicit)
        if not root.is_dir():
            raise DataRootError(f"data root {root} (from --data-root) is not a folder")
        return root
    env = os.environ.get("HMLPE_DATA")
    if env:
        root = Path(env)
        if not root.is_dir():
            raise DataRootError(f"data root {root} (from $HMLPE_DATA) is not a folder")
        return root
    for root in CANDIDATE_ROOTS:
        if root.is_dir():
            return root
    tried = ", ".join(str(r) for r in CANDIDATE_ROOTS)
    raise DataRootError(
        f"no data root found: set $HMLPE_DATA or pass --data-root (tried {tried}); "
        "`python -m hmlpe data fetch` downloads the datasets")
