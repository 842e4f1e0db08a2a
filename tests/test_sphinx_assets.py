"""hmlpe.companion.sphinx_assets: a page's scripts without repeats (Sphinx 7.4 listed inline
scripts added after the builder started twice, once with file name None and once with "")."""

from __future__ import annotations

from sphinx.builders.html._assets import _JavaScript

from hmlpe.companion.sphinx_assets import dedupe_scripts


def test_inline_script_listed_as_none_and_empty_is_kept_once():
    body = 'const THEBE_JS_URL = "x"'
    scripts = [
        _JavaScript("_static/a.js", priority=200),
        _JavaScript(None, body=body),
        _JavaScript("_static/b.js", priority=500, **{"async": "async"}),
        _JavaScript("", body=body),
        _JavaScript("_static/a.js", priority=200),
    ]
    out = dedupe_scripts(scripts)
    assert [s.filename for s in out] == ["_static/a.js", None, "_static/b.js"]


def test_different_bodies_priorities_or_attributes_are_kept():
    scripts = [
        _JavaScript(None, body="var a = 1"),
        _JavaScript(None, body="var b = 1"),
        _JavaScript("_static/c.js", priority=500),
        _JavaScript("_static/c.js", priority=800),
        _JavaScript("_static/c.js", priority=500, defer="defer"),
    ]
    assert dedupe_scripts(scripts) == scripts
