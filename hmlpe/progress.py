"""tqdm progress bars, switched by one setting for the whole process.

An entry point sets it once (the CLI's ``--progress/--no-progress``, a test, a notebook):
:func:`set_progress`. Unset (None), bars are on when stderr is a terminal and
``HMLPE_PROGRESS`` is not "0", so they stay quiet in CI, in papermill's logs and in the
chapters. The library's functions take no progress argument: they draw their bars with
:func:`progress_bar`, which reads the setting.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

from tqdm.auto import tqdm

_setting: bool | None = None  # None: the rule of progress_enabled


def set_progress(enabled: bool | None) -> None:
    """Bars on (True), off (False) or by the rule (None) from now on, in this process."""
    global _setting
    _setting = enabled


@contextlib.contextmanager
def progress_set_to(enabled: bool | None) -> Iterator[None]:
    """The setting ``enabled`` inside the block, the previous one after it."""
    before = _setting
    set_progress(enabled)
    try:
        yield
    finally:
        set_progress(before)


def progress_enabled() -> bool:
    """The setting if one was made; else on when stderr is a terminal and HMLPE_PROGRESS != 0."""
    if _setting is not None:
        return _setting
    if os.environ.get("HMLPE_PROGRESS") == "0":
        return False
    return sys.stderr.isatty()


def progress_bar(iterable=None, *, total=None, desc=None, **kwargs):
    """A tqdm bar (transient, as wide as the terminal), drawn when :func:`progress_enabled`."""
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        disable=not progress_enabled(),
        leave=False,
        dynamic_ncols=True,
        **kwargs,
    )
