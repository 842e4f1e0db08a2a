"""Open every chapter of the built book in headless Chromium and check what a reader sees.

Runs only with ``--book-html=_build/html`` (marker ``browser``); skipped otherwise.
For each chapter of ``_toc.yml`` the built page is served from 127.0.0.1 (a random free
port), loaded by ``chromium --headless --dump-dom`` after its JavaScript ran (virtual time
budget), and checked:

- the page has a title (``<h1>``) and at least the tables / images / widget elements that
  :data:`EXPECTATIONS` lists for that chapter;
- any page whose HTML carries ipywidgets outputs has them rendered (an element with class
  ``jupyter-widgets``), and any page with math has it typeset by MathJax (``mjx-container``);
- no script or stylesheet is loaded from another host, and no ``/_static/`` file 404s
  (the book serves its own require.js, widget embedder and MathJax);

and a screenshot is saved as ``_build/screenshots/<chapter>.png``.

To add expectations for a new chapter, add an entry to EXPECTATIONS keyed by the chapter's
name without its number (``book/04_buffy.py`` -> ``"buffy"``).
"""
from __future__ import annotations

import dataclasses
import functools
import http.server
import os
import shutil
import subprocess
import tempfile
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import pytest

from hmlpe.companion.book import chapter_name, toc_chapters

pytestmark = pytest.mark.browser


@dataclasses.dataclass(frozen=True)
class Expect:
    """Minimum content of a chapter's page, counted in its article after JavaScript ran."""
    tables: int = 0
    images: int = 0
    widget_classes: tuple[str, ...] = ()  # each must be on some element, e.g. "widget-slider"


# Keyed by chapter name without its number prefix. Chapters not listed get the generic checks.
EXPECTATIONS: dict[str, Expect] = {
    "introduction": Expect(tables=2),            # paper's Table 1, chapters table
    "reproducibility": Expect(tables=3),         # versions, device, timings
    "data": Expect(tables=7, images=4),          # verify, splits, drops, pool, left/right, ...
    "labels": Expect(tables=5, images=4, widget_classes=("jupyter-widgets", "widget-slider")),
    "network": Expect(tables=5, images=1),       # layers, totals, receptive fields, config, provenance
    "features": Expect(tables=3, images=6),      # provenance, map statistics, Algorithm 1 check
    "training": Expect(tables=8, images=1),      # profiles, config, stages, pool, last epoch, speed, provenance x2
    "buffy": Expect(tables=5, images=2),         # ours, Table 1 beside ours, claims, arms correct, provenance
    "flic": Expect(tables=4, images=3),          # Table 2 beside ours, published PCP, Figure 4 statements, provenance
    "multitask": Expect(tables=7, images=1),     # plan, status, Table 3 beside ours, untrained, claims, provenance x2
}

VIRTUAL_TIME_MS = 15000
WINDOW = "1280,4000"
CDN_HOSTS = ("unpkg.com", "jsdelivr.net", "cdnjs.cloudflare.com", "googleapis.com")


def _short(name: str) -> str:
    head, _, tail = name.partition("_")
    return tail if head.isdigit() and tail else name


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def book_html(request) -> Path:
    opt = request.config.getoption("--book-html")
    if not opt:
        pytest.skip("browser checks need the built book: pass --book-html=_build/html")
    root = Path(opt).resolve()
    if not (root / "index.html").is_file():
        pytest.skip(f"no built book at {root} (run `jupyter-book build . -W` first)")
    return root


@pytest.fixture(scope="session")
def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("--book-html was given but chromium is not installed "
                    "(apt-get install -y chromium)")
    return exe


@pytest.fixture(scope="session")
def screenshots_dir(request, book_html) -> Path:
    opt = request.config.getoption("--book-screenshots")
    out = Path(opt) if opt else book_html.parent / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    return out


class _Handler(http.server.SimpleHTTPRequestHandler):
    log: list[tuple[str, int]] = []

    def log_request(self, code="-", size="-"):  # noqa: D401 - record, do not print
        try:
            code = int(code)
        except (TypeError, ValueError):
            code = 0
        self.log.append((self.path, code))

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def server(book_html):
    handler = type("Handler", (_Handler,), {"log": []})
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(book_html)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler.log
    finally:
        httpd.shutdown()
        httpd.server_close()


def _chromium(exe: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="hmlpe-chromium-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--hide-scrollbars", "--mute-audio",
               f"--user-data-dir={profile}", f"--virtual-time-budget={VIRTUAL_TIME_MS}", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "HOME": profile})


# --------------------------------------------------------------------------- DOM reading
class _Dom(HTMLParser):
    """Counts, inside <article> (the page's content), tables, images and classes; collects
    the URLs of scripts and stylesheets anywhere."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.article_depth = 0
        self.tables = self.images = self.h1 = self.mjx = 0
        self.classes: set[str] = set()
        self.resources: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "article":
            self.article_depth += 1
        if tag == "script" and a.get("src"):
            self.resources.append(a["src"])
        if tag == "link" and "stylesheet" in (a.get("rel") or "") and a.get("href"):
            self.resources.append(a["href"])
        if tag == "mjx-container":
            self.mjx += 1
        if self.article_depth:
            self.tables += tag == "table"
            self.images += tag == "img"
            self.h1 += tag == "h1"
            self.classes.update((a.get("class") or "").split())

    def handle_endtag(self, tag):
        if tag == "article" and self.article_depth:
            self.article_depth -= 1


def _chapters() -> list[str]:
    return [chapter_name(e) for e in toc_chapters()]


# --------------------------------------------------------------------------- the test
@pytest.mark.parametrize("chapter", _chapters())
def test_chapter_page_renders(chapter, book_html, chromium, server, screenshots_dir):
    base, log = server
    page = book_html / "book" / f"{chapter}.html"
    assert page.is_file(), f"{page} was not built: is the chapter executed and in _toc.yml?"
    static_html = page.read_text(encoding="utf-8")
    url = f"{base}/book/{chapter}.html"

    del log[:]
    dump = _chromium(chromium, "--dump-dom", url)
    assert dump.returncode == 0 and "<html" in dump.stdout, \
        f"chromium --dump-dom failed on {url}:\n{dump.stderr[-3000:]}"
    shot = screenshots_dir / f"{chapter}.png"
    shot.unlink(missing_ok=True)
    cap = _chromium(chromium, f"--window-size={WINDOW}", f"--screenshot={shot}", url)
    assert shot.is_file() and shot.stat().st_size > 10_000, \
        f"no screenshot of {url}:\n{cap.stderr[-3000:]}"

    dom = _Dom()
    dom.feed(dump.stdout)
    problems = []
    if dom.h1 < 1:
        problems.append("no <h1> title in the article")
    want = EXPECTATIONS.get(_short(chapter), Expect())
    if dom.tables < want.tables:
        problems.append(f"{dom.tables} <table> elements, expected at least {want.tables}")
    if dom.images < want.images:
        problems.append(f"{dom.images} <img> elements, expected at least {want.images}")
    for cls in want.widget_classes:
        if cls not in dom.classes:
            problems.append(f"no element with class {cls!r}: the widget did not render")
    if "application/vnd.jupyter.widget-view+json" in static_html and \
            "jupyter-widgets" not in dom.classes:
        problems.append("the page has ipywidgets outputs but none rendered")
    if 'class="math' in static_html and dom.mjx == 0:
        problems.append("the page has math but MathJax typeset none (mjx-container)")
    for res in dom.resources:
        host = urlparse(res).hostname
        if host not in (None, "127.0.0.1"):
            problems.append(f"loads {res} from another host")
    for res in (r for r in dom.resources if any(h in r for h in CDN_HOSTS)):
        problems.append(f"CDN resource {res}")
    missing = sorted({p for p, code in log if code == 404 and p.startswith("/_static/")})
    if missing:
        problems.append(f"404 for {missing}")
    assert not problems, f"{chapter} ({url}, screenshot {shot}):\n  " + "\n  ".join(problems)
