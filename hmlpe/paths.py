"""Where the datasets are: --data-root, else $HMLPE_DATA, else the first existing folder listed
in data/data_roots.txt (relative to the project's root)."""

from __future__ import annotations

import os
from pathlib import Path

from hmlpe.errors import DataRootError  # noqa: F401  (re-exported)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_ROOTS_FILE = PROJECT_ROOT / "data" / "data_roots.txt"


def candidate_roots(listing: Path = DATA_ROOTS_FILE) -> tuple[Path, ...]:
    """The folders of ``listing`` (one per line, ``#`` comments), resolved against the project."""
    if not listing.is_file():
        return (PROJECT_ROOT / "data" / "raw",)
    lines = (
        line.split("#", 1)[0].strip() for line in listing.read_text(encoding="utf-8").splitlines()
    )
    return tuple((PROJECT_ROOT / line).resolve() for line in lines if line)


CANDIDATE_ROOTS = candidate_roots()


def data_root_folder(root: str | os.PathLike, origin: str = "") -> Path:
    """``root`` as a Path, or ``DataRootError`` when it is not a folder (``origin``, e.g.
    " (from --data-root)", says where it came from)."""
    path = Path(root)
    if not path.is_dir():
        raise DataRootError(f"data root {path}{origin} is not a folder")
    return path


def resolve_data_root(explicit: str | os.PathLike | None = None) -> Path:
    """The data root to read: ``explicit``, else $HMLPE_DATA, else the first existing of
    the folders of data/data_roots.txt. Raises DataRootError naming what was tried."""
    if explicit is not None:
        return data_root_folder(explicit, " (from --data-root)")
    env = os.environ.get("HMLPE_DATA")
    if env:
        return data_root_folder(env, " (from $HMLPE_DATA)")
    for root in CANDIDATE_ROOTS:
        if root.is_dir():
            return root
    tried = ", ".join(str(r) for r in CANDIDATE_ROOTS)
    raise DataRootError(
        f"no data root found: set $HMLPE_DATA or pass --data-root (tried {tried}); "
        "`python -m hmlpe data fetch` downloads the datasets"
    )
