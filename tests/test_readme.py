"""The README's layout table names every module where it lies."""

from __future__ import annotations

import re

from hmlpe.paths import PROJECT_ROOT


def _layout_rows() -> dict[str, str]:
    rows = {}
    for line in (PROJECT_ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"\| `(hmlpe/[^`]*)`( \(basics\))? \| (.*) \|$", line)
        if m:
            rows[m.group(1) + ("*" if m.group(2) else "")] = m.group(3)
    return rows


def test_every_module_is_in_its_folders_row():
    rows = _layout_rows()
    missing = []
    for path in sorted((PROJECT_ROOT / "hmlpe").rglob("*.py")):
        rel = path.relative_to(PROJECT_ROOT)
        if path.name in ("__init__.py", "__main__.py"):
            continue
        parts = rel.parts
        if len(parts) == 2:
            key = "hmlpe/*"
        else:
            key = f"hmlpe/{parts[1]}/"
        name = parts[2] + "/" if len(parts) > 3 else path.stem
        if key not in rows or f"`{name}`" not in rows[key]:
            missing.append(f"{rel} (row {key})")
    assert not missing, "README layout table lacks: " + ", ".join(missing)


def test_every_row_names_an_existing_folder():
    for key in _layout_rows():
        folder = PROJECT_ROOT / key.rstrip("*")
        assert folder.is_dir(), f"README names {key}, which is not a folder"
