"""Small readers shared by the dataset modules: .mat files and image headers, with errors that
name the file."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from hmlpe.errors import DatasetFileError  # noqa: F401  (re-exported)


def require_file(path: Path, what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DatasetFileError(
            f"{what} not found: {path} (check the data root; "
            "`python -m hmlpe data verify` lists what is missing)"
        )
    return path


def load_mat(path: Path, what: str, **kwargs) -> dict:
    import scipy.io

    require_file(path, what)
    try:
        return scipy.io.loadmat(str(path), **kwargs)
    except Exception as exc:  # scipy raises several types for corrupt files
        raise DatasetFileError(f"{what} {path} cannot be read as a MATLAB file: {exc}") from exc


def image_size(path: Path) -> tuple[int, int]:
    """(w, h) from the image header (does not decode the pixels)."""
    require_file(path, "image")
    try:
        with Image.open(path) as im:
            return im.size
    except Exception as exc:
        raise DatasetFileError(f"image {path} cannot be opened: {exc}") from exc
