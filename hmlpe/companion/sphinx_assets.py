"""A Sphinx extension of the book (``_config.yml``: ``sphinx: extra_extensions``): each page's
``<script>`` elements without duplicates.

Sphinx 7.4 (the version Jupyter Book 1.x pins) lists an inline script twice when an extension
adds it with ``app.add_js_file(None, body=...)`` after the builder started: once as given
(file name ``None``) and once more from the registry (file name ``""``), which it does not
recognise as the same script. sphinx-thebe adds ``const THEBE_JS_URL = ...`` that way, so
every page declared the constant twice and the browser logged a SyntaxError (the browser
check of tests/book/test_browser.py fails on any console error). This handler drops the
second copy of any script with the same file name (``None`` and ``""`` alike), priority and
attributes; the order of the rest is kept.
"""

from __future__ import annotations

from typing import Any


def _key(script: Any) -> tuple:
    filename = getattr(script, "filename", script)
    attributes = getattr(script, "attributes", {}) or {}
    return (
        filename or "",
        getattr(script, "priority", None),
        tuple(sorted((k, str(v)) for k, v in attributes.items())),
    )


def dedupe_scripts(scripts: list) -> list:
    """``scripts`` (Sphinx's ``_JavaScript`` objects or file names) without repeats."""
    seen: set[tuple] = set()
    out = []
    for s in scripts:
        k = _key(s)
        if k not in seen:
            seen.add(k)
            out.append(s)
    return out


def _page_context(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if isinstance(scripts, list):  # the builder's own list: reset for every page
        scripts[:] = dedupe_scripts(scripts)


def setup(app) -> dict:
    app.connect("html-page-context", _page_context, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
