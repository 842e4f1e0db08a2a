"""The book's stylesheet (book/_static/hmlpe-book.css) is served by the book and wired in
_config.yml; what it does to the pages is checked in a browser by test_browser.py
(test_chapter_layout)."""

from __future__ import annotations

import re

from hmlpe.companion.book import PROJECT_ROOT

CSS = PROJECT_ROOT / "book" / "_static" / "hmlpe-book.css"


def test_the_stylesheet_is_served_by_the_book():
    css = CSS.read_text(encoding="utf-8")
    assert not re.search(r"https?://|@import", css), "no CDN: the book serves what it loads"
    assert re.search(r"\.output\.text_html\s*{[^}]*overflow-x:\s*auto", css)
    assert re.search(r"table th,\s*\n?[^{]*table td\s*{[^}]*padding:", css)
    config = (PROJECT_ROOT / "_config.yml").read_text(encoding="utf-8")
    assert re.search(r"html_css_files:.*hmlpe-book\.css", config)
    assert re.search(r'html_static_path:.*"book/_static"', config)
