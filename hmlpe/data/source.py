"""Where the datasets are read from: the handle an entry point resolves once and hands down.

The experiment's config (``TrainConfig``) holds what changes results; a :class:`DataSource`
holds where the files lie: the data root (Buffy, LSP and FLIC as ``data/README.md`` lays them
out) and, when one is given, a data pack (``hmlpe.data.pack``), which then serves every crop
and test record that training and evaluation read. The entry points resolve it: the CLI from
``--data-root`` and ``--data-pack``, a chapter from its ``data_root`` and ``data_pack``
parameters, a test from its fixture. Below them, functions take the handle (the pipeline) or
its root (the dataset readers, the crop cache, the registry) and never look for data
themselves.

Since the source is not part of the config, a run resumes on another data root or pack (the
datasets moved, another machine); the data are pinned by their checksums and the run's data
fingerprint, and the run's records name the source they read (:meth:`DataSource.provenance`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hmlpe.errors import DataPackError, DataRootError
from hmlpe.paths import resolve_data_root

if TYPE_CHECKING:
    from hmlpe.data.pack import DataPack

PACK_ENV = "HMLPE_DATA_PACK"  # the pack read when no --data-pack is given


@dataclass(frozen=True)
class DataSource:
    """A data root (None: a pack alone) and an optional data pack. Small and picklable: the
    pack is opened (and checked) when first read, once per file version."""

    root: Path | None
    pack_path: Path | None = None

    @classmethod
    def resolve(
        cls, data_root: str | os.PathLike | None = None, data_pack: str | os.PathLike | None = None
    ) -> DataSource:
        """The source of an entry point. ``data_root``: that folder, else ``$HMLPE_DATA``,
        else the first existing folder of ``data/data_roots.txt`` (``paths.resolve_data_root``).
        ``data_pack``: that file, else ``$HMLPE_DATA_PACK``, else none. With a pack and no
        explicit root, a machine without the datasets gets ``root`` None: the pack serves the
        engine. Raises ``DataRootError`` or ``DataPackError`` naming what is missing."""
        pack = _pack_path(data_pack)
        try:
            root: Path | None = resolve_data_root(data_root)
        except DataRootError:
            if pack is None or data_root is not None:
                raise
            root = None
        return cls(root.resolve() if root is not None else None, pack)

    @property
    def pack(self) -> DataPack | None:
        """The pack, opened and checked (format, version, every member's SHA-256), or None."""
        if self.pack_path is None:
            return None
        from hmlpe.data.pack import open_pack

        return open_pack(self.pack_path)

    def require_root(self, what: str) -> Path:
        """The data root, or ``DataRootError`` saying that ``what`` needs the datasets' files
        (a pack holds the crops and test records, not the images or detections)."""
        if self.root is None:
            raise DataRootError(
                f"{what} reads the datasets' files, and only a data pack ({self.pack_path}) is "
                "given: pass --data-root or set $HMLPE_DATA"
            )
        return self.root

    def provenance(self) -> dict[str, Any]:
        """What a result records about its data: the root it read and the pack's provenance
        (None when the data root was read)."""
        pack = self.pack
        return {
            "data_root": None if self.root is None else str(self.root),
            "data_pack": None if pack is None else pack.provenance(),
        }

    def describe(self) -> str:
        """One line for messages and logs."""
        if self.pack_path is not None:
            return f"data pack {self.pack_path}"
        return f"data root {self.root}"


def _pack_path(explicit: str | os.PathLike | None) -> Path | None:
    """``explicit``, else ``$HMLPE_DATA_PACK``, else None; a named pack must be a file."""
    if explicit is not None:
        path, origin = Path(explicit), "--data-pack"
    elif os.environ.get(PACK_ENV):
        path, origin = Path(os.environ[PACK_ENV]), f"${PACK_ENV}"
    else:
        return None
    if not path.is_file():
        raise DataPackError(f"data pack {path} (from {origin}) does not exist or is not a file")
    return path.resolve()
