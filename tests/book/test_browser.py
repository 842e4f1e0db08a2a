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
  (the book serves its own require.js, widget embedder and MathJax).

Each chapter page is then opened again at two widths (:data:`WIDTHS`: a laptop screen, 1280
CSS px, and a phone, 390 CSS px with mobile emulation) in one Chromium driven over DevTools
(:class:`_DevTools`, one browser for all pages), after its JavaScript ran (MathJax, widgets):
``test_chapter_layout`` saves a full-page screenshot ``_build/screenshots/<chapter>-laptop.png``
/ ``<chapter>-phone.png`` (scrollbars shown) and checks the layout (:data:`_LAYOUT`): the page
itself does not scroll sideways (``documentElement.scrollWidth`` at most the screen's width + 1:
``innerWidth``, but a phone widens ``innerWidth`` to a page too wide for it), every table of the
article fits its container or sits inside a box that scrolls sideways (computed ``overflow-x``
auto or scroll; the book's stylesheet ``book/_static/hmlpe-book.css`` makes output areas such
boxes), every table cell has at least :data:`MIN_CELL_PADDING_PX` of padding left and right,
and no console error, failed request or request to another host occurred (as in the label
explorer's test). Failures name the chapter, the width and the offending elements.

Chapter 3's static label explorer (``hmlpe.companion.label_explorer``, script
``book/_static/hmlpe-label-explorer.js``) is driven through Chromium's DevTools protocol over
``--remote-debugging-pipe`` (:class:`_DevTools`, standard library only): the test moves its
beta and window controls and checks that the drawn maps and the numbers change, and fails on
any console error, failed request or request to a host other than the local server.

To add expectations for a new chapter, add an entry to EXPECTATIONS keyed by the chapter's
name without its number (``book/04_buffy.py`` -> ``"buffy"``).
"""

from __future__ import annotations

import base64
import dataclasses
import fcntl
import functools
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
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
    first_table: str | None = None  # id of the article's first <table>, e.g. "T_verdict"


# Keyed by chapter name without its number prefix. Chapters not listed get the generic checks.
EXPECTATIONS: dict[str, Expect] = {
    # the verdict first, results provenance, paper's Table 1, chapters, rerun commands
    "introduction": Expect(tables=5, first_table="T_verdict"),
    "reproducibility": Expect(tables=4),  # versions, device, timings, rerun commands
    "data": Expect(tables=7, images=4),  # verify, splits, drops, pool, left/right, ...
    "labels": Expect(tables=5, images=4, widget_classes=("jupyter-widgets", "widget-slider")),
    "network": Expect(tables=5, images=1),  # layers, totals, receptive fields, config, provenance
    "features": Expect(tables=3, images=6),  # provenance, map statistics, Algorithm 1 check
    "training": Expect(
        tables=8, images=1
    ),  # profiles, config, stages, pool, last epoch, speed, provenance x2
    "buffy": Expect(
        tables=5, images=2
    ),  # ours, Table 1 beside ours, claims, arms correct, provenance
    "flic": Expect(
        tables=4, images=3
    ),  # Table 2 beside ours, published PCP, Figure 4 statements, provenance
    "multitask": Expect(
        tables=7, images=1
    ),  # plan, status, Table 3 beside ours, untrained, claims, provenance x2
}

VIRTUAL_TIME_MS = 15000
# Emulation.setDeviceMetricsOverride of the layout checks and full-page screenshots, by name
WIDTHS: dict[str, dict] = {
    "laptop": {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False},
    "phone": {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True},
}
# least left and right padding of a table cell, CSS px: the browser's own 1 px ran the numbers
# of neighbouring cells together ("2.901.4535.14")
MIN_CELL_PADDING_PX = 4
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
        pytest.fail(
            "--book-html was given but chromium is not installed (apt-get install -y chromium)"
        )
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
        ("127.0.0.1", 0), functools.partial(handler, directory=str(book_html))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler.log
    finally:
        httpd.shutdown()
        httpd.server_close()


CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--mute-audio",
)


def _bash() -> str:
    """bash from PATH (it hands Chromium the DevTools pipes as fds 3 and 4)."""
    found = shutil.which("bash")
    if found is None:
        pytest.fail("bash is not on PATH: the DevTools checks need it to pass the pipes")
    return found


def _chromium(exe: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="hmlpe-chromium-") as profile:
        cmd = [
            exe,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={VIRTUAL_TIME_MS}",
            *args,
        ]
        return subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "HOME": profile},
        )


# --------------------------------------------------------------------------- DOM reading
class _Dom(HTMLParser):
    """Counts, inside <article> (the page's content), tables, images and classes; collects
    the URLs of scripts and stylesheets anywhere."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.article_depth = 0
        self.tables = self.images = self.h1 = self.mjx = 0
        self.classes: set[str] = set()
        self.table_ids: list[str] = []
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
            if tag == "table":
                self.table_ids.append(a.get("id") or "")
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
    assert dump.returncode == 0 and "<html" in dump.stdout, (
        f"chromium --dump-dom failed on {url}:\n{dump.stderr[-3000:]}"
    )
    # screenshots: test_chapter_layout, whole pages (the former 1280 x 4000 one goes)
    (screenshots_dir / f"{chapter}.png").unlink(missing_ok=True)

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
    if want.first_table and dom.table_ids[:1] != [want.first_table]:
        problems.append(f"the first table is {dom.table_ids[:1]}, expected {want.first_table!r}")
    for cls in want.widget_classes:
        if cls not in dom.classes:
            problems.append(f"no element with class {cls!r}: the widget did not render")
    if (
        "application/vnd.jupyter.widget-view+json" in static_html
        and "jupyter-widgets" not in dom.classes
    ):
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
    assert not problems, f"{chapter} ({url}):\n  " + "\n  ".join(problems)


# --------------------------------------------------------------------------- DevTools
class _DevTools:
    """Chromium's DevTools protocol over ``--remote-debugging-pipe``, standard library only:
    the browser reads NUL-terminated JSON commands on its fd 3 and writes replies and events
    on its fd 4. One page target is created and attached (flat session); every event of the
    browser and the page is kept in :attr:`events`."""

    def __init__(self, exe: str, timeout: float = 60.0, flags: tuple[str, ...] = CHROMIUM_FLAGS):
        self.timeout = timeout
        self.events: list[dict] = []
        self._replies: dict[int, dict] = {}
        self._cv = threading.Condition()
        self._next_id = 0
        self._closed = False
        self._profile = tempfile.TemporaryDirectory(prefix="hmlpe-cdp-")
        cmd_r, cmd_w = os.pipe()
        out_r, out_w = os.pipe()
        # the child's ends moved to fds >= 10, so bash's 3<& / 4>& cannot clobber them
        child_r = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 10)
        child_w = fcntl.fcntl(out_w, fcntl.F_DUPFD, 10)
        os.close(cmd_r)
        os.close(out_w)
        profile = self._profile.name
        self._stderr = open(Path(profile) / "chromium.log", "wb")
        args = [exe, *flags, "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"]
        try:
            self.proc = subprocess.Popen(
                [
                    _bash(),
                    "-c",  # (dash only knows fds 0-9)
                    f'exec "$@" 3<&{child_r} 4>&{child_w} {child_r}<&- {child_w}>&-',
                    "bash",
                    *args,
                ],
                pass_fds=(child_r, child_w),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._stderr,
                env={**os.environ, "HOME": profile},
            )
        finally:
            os.close(child_r)
            os.close(child_w)
        self._out = cmd_w
        self._in = out_r
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._in, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cv:
                    self._closed = True
                    self._cv.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                with self._cv:
                    if "id" in msg:
                        self._replies[msg["id"]] = msg
                    else:
                        self.events.append(msg)
                    self._cv.notify_all()

    def send(self, method: str, params: dict | None = None, *, page: bool = False) -> dict:
        """Send a command (to the page's session when ``page``) and wait for its result."""
        with self._cv:
            self._next_id += 1
            mid = self._next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if page:
            msg["sessionId"] = self.session
        os.write(self._out, json.dumps(msg).encode() + b"\0")
        with self._cv:
            ok = self._cv.wait_for(lambda: mid in self._replies or self._closed, self.timeout)
            reply = self._replies.pop(mid, None)
        if not ok or reply is None:
            raise TimeoutError(
                f"DevTools: no reply to {method} in {self.timeout} s "
                f"(chromium log: {self.log()[-2000:]})"
            )
        if "error" in reply:
            raise RuntimeError(f"DevTools: {method} failed: {reply['error']}")
        return reply.get("result", {})

    def evaluate(self, expression: str):
        """Evaluate JavaScript in the page; returns its value (JSON), raises on an exception."""
        res = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            page=True,
        )
        if "exceptionDetails" in res:
            raise RuntimeError(f"JavaScript exception: {res['exceptionDetails']}")
        return res["result"].get("value")

    def wait_event(self, method: str, after: int = 0, timeout: float | None = None) -> dict:
        """The first ``method`` event among ``events[after:]``, waiting for it."""

        def found():
            return [e for e in self.events[after:] if e.get("method") == method]

        with self._cv:
            ok = self._cv.wait_for(lambda: bool(found()) or self._closed, timeout or self.timeout)
            found = found()
        if not ok or not found:
            raise TimeoutError(f"DevTools: no {method} event")
        return found[0]

    def wait_until(self, expression: str, timeout: float | None = None) -> None:
        """Poll a JavaScript condition until it is true."""
        end = time.monotonic() + (timeout or self.timeout)
        while not self.evaluate(expression):
            if time.monotonic() > end:
                raise TimeoutError(f"DevTools: {expression!r} stayed false")
            time.sleep(0.2)

    def wait_network_idle(self, quiet: float = 1.0, timeout: float = 30.0) -> None:
        """Wait until no request has been in flight for ``quiet`` seconds."""
        end = time.monotonic() + timeout
        idle_since = None
        while time.monotonic() < end:
            with self._cv:
                pending = set()
                for e in self.events:
                    m, p = e.get("method"), e.get("params", {})
                    if m == "Network.requestWillBeSent":
                        pending.add(p["requestId"])
                    elif m in ("Network.loadingFinished", "Network.loadingFailed"):
                        pending.discard(p["requestId"])
            if pending:
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= quiet:
                return
            time.sleep(0.1)

    def log(self) -> str:
        try:
            return (Path(self._profile.name) / "chromium.log").read_text(errors="replace")
        except OSError:
            return ""

    def close(self) -> None:
        try:
            os.write(self._out, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
        except OSError:
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)
        for fd in (self._out, self._in):
            try:
                os.close(fd)
            except OSError:
                pass
        self._reader.join(timeout=5)
        self._stderr.close()
        self._profile.cleanup()


def _page_problems(events: list[dict], base: str) -> list[str]:
    """Console errors, uncaught exceptions, error log entries, failed requests (network
    errors and HTTP status >= 400) and requests to a host other than the server at ``base``."""
    host = urlparse(base).netloc
    urls: dict[str, str] = {}
    problems = []
    for e in events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Network.requestWillBeSent":
            url = p["request"]["url"]
            urls[p["requestId"]] = url
            u = urlparse(url)
            if u.scheme not in ("data", "blob", "about") and u.netloc != host:
                problems.append(f"request to another host: {url}")
        elif m == "Network.loadingFailed":
            problems.append(
                f"failed request {urls.get(p['requestId'], p['requestId'])}: "
                f"{p.get('errorText')}{' (canceled)' if p.get('canceled') else ''}"
            )
        elif m == "Network.responseReceived" and p["response"]["status"] >= 400:
            problems.append(f"HTTP {p['response']['status']} for {p['response']['url']}")
        elif m == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])
            problems.append(f"console.{p['type']}: {text}")
        elif m == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            problems.append(
                f"uncaught exception: {d.get('exception', {}).get('description') or d.get('text')}"
            )
        elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
            problems.append(
                f"console error ({p['entry']['source']}): {p['entry']['text']} "
                f"{p['entry'].get('url', '')}".rstrip()
            )
    return problems


_EXPLORER = "document.querySelector('.hmlpe-label-explorer')"
_SNAPSHOT = (
    """(() => {
  const r = %s;
  const crop = r.querySelector('canvas.hmlpe-le-crop');
  const px = crop.getContext('2d').getImageData(0, 0, crop.width, crop.height).data;
  const colours = new Set();
  for (let i = 0; i < px.length; i += 4 * 97) colours.add(px[i] << 16 | px[i + 1] << 8 | px[i + 2]);
  return {ready: r.getAttribute('data-ready'), shown: r.getAttribute('data-shown'),
          crop: crop.toDataURL(), map: r.querySelector('canvas.hmlpe-le-map').toDataURL(),
          text: r.querySelector('.hmlpe-le-numbers').textContent,
          note: r.querySelector('.hmlpe-le-note').textContent,
          beta: r.querySelector('input[name="beta"]').value,
          window: r.querySelector('input[name="window"]').value,
          disabled: Array.from(r.querySelectorAll('input, select')).filter(e => e.disabled).length,
          colours: colours.size};
})()"""
    % _EXPLORER
)


def _set_control(cdp: _DevTools, name: str, value: str, event: str = "input") -> dict:
    """Set a control of the explorer, dispatch ``event`` as a user's move would, and return
    the explorer's new state."""
    cdp.evaluate(
        "(() => { const el = %s.querySelector('[name=\"%s\"]'); el.value = %s; "
        "el.dispatchEvent(new Event(%s, {bubbles: true})); })()"
        % (_EXPLORER, name, json.dumps(value), json.dumps(event))
    )
    return cdp.evaluate(_SNAPSHOT)


def test_label_explorer_responds_in_the_static_page(book_html, chromium, server, screenshots_dir):
    """Chapter 3's static explorer in headless Chromium: moving beta and the window size
    redraws the map and rewrites the numbers; no console error, failed request or request
    to another host on the page. Screenshot: ``labels-explorer.png``."""
    chapter = next((c for c in _chapters() if _short(c) == "labels"), None)
    assert chapter, "no labels chapter in _toc.yml"
    page = book_html / "book" / f"{chapter}.html"
    assert page.is_file(), f"{page} was not built"
    assert "hmlpe-label-explorer" in page.read_text(encoding="utf-8"), (
        f"{page} has no label explorer: was the chapter executed with it?"
    )
    base, _ = server
    url = f"{base}/book/{chapter}.html"
    cdp = _DevTools(chromium)
    try:
        _drive_label_explorer(cdp, url, screenshots_dir)
        cdp.wait_network_idle()
    except AssertionError as exc:  # say what the console said too
        with cdp._cv:
            problems = _page_problems(list(cdp.events), base)
        raise AssertionError(f"{exc}\npage problems:\n  " + "\n  ".join(problems)) from None
    finally:
        cdp.close()
    problems = _page_problems(cdp.events, base)
    assert not problems, f"{url}:\n  " + "\n  ".join(problems)
    assert any(e.get("method") == "Network.requestWillBeSent" for e in cdp.events)


def _drive_label_explorer(cdp: _DevTools, url: str, screenshots_dir: Path) -> None:
    """Open ``url``, move the explorer's controls and check what it shows (see the test)."""
    for domain in ("Runtime", "Log", "Network", "Page"):
        cdp.send(f"{domain}.enable", page=True)
    cdp.send(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1280, "height": 1600, "deviceScaleFactor": 1, "mobile": False},
        page=True,
    )
    with cdp._cv:
        start = len(cdp.events)
    nav = cdp.send("Page.navigate", {"url": url}, page=True)
    assert not nav.get("errorText"), f"navigation to {url} failed: {nav}"
    cdp.wait_event("Page.loadEventFired", after=start)
    cdp.wait_until(f"!!{_EXPLORER} && {_EXPLORER}.getAttribute('data-ready') === '1'")

    s0 = cdp.evaluate(_SNAPSHOT)
    assert s0["disabled"] == 0, "the script did not enable the controls"
    assert s0["note"].startswith("Static page"), s0["note"]
    assert s0["colours"] > 20, "the crop canvas looks blank"
    assert "l_upper_arm" in s0["text"] and "beta 0.3, window 30" in s0["text"], s0["text"]
    assert s0["beta"] == "0.3" and s0["window"] == "30"

    # beta: numbers change always (the value is in them); the maps change for some value
    moved = []
    for value in ("0", "0.95", "0.6", "0.1"):
        s = _set_control(cdp, "beta", value)
        assert f"beta {value}, window 30" in s["text"] and s["text"] != s0["text"], s["text"]
        moved.append((value, s["crop"] != s0["crop"] and s["map"] != s0["map"]))
        if moved[-1][1]:
            break
    assert any(changed for _, changed in moved), (
        f"moving beta to {[v for v, _ in moved]} never changed the drawn map"
    )

    # back to the paper's beta: exactly the first drawing again
    back = _set_control(cdp, "beta", "0.3")
    assert (back["crop"], back["map"], back["text"]) == (s0["crop"], s0["map"], s0["text"])

    # window: the windows drawn over the crop change size
    for value in ("60", "10"):
        s = _set_control(cdp, "window", value)
        assert f"beta 0.3, window {value}," in s["text"], s["text"]
        assert s["crop"] != s0["crop"] and s["text"] != s0["text"]
        assert s["shown"].split()[1] == value

    # part and layout selects
    s = _set_control(cdp, "part", "r_lower_arm", "change")
    assert s["text"].startswith("r_lower_arm"), s["text"]
    s = _set_control(cdp, "layout", "itheano", "change")
    assert "itheano layout" in s["text"], s["text"]

    # a real key press on the beta slider (the browser fires the input event itself)
    _set_control(cdp, "beta", "0.3")
    cdp.evaluate(f"{_EXPLORER}.querySelector('input[name=\"beta\"]').focus()")
    for kind in ("keyDown", "keyUp"):
        cdp.send(
            "Input.dispatchKeyEvent",
            {"type": kind, "key": "ArrowRight", "code": "ArrowRight", "windowsVirtualKeyCode": 39},
            page=True,
        )
    s = cdp.evaluate(_SNAPSHOT)
    assert s["beta"] == "0.35" and "beta 0.35," in s["text"], (s["beta"], s["text"])

    # screenshot of the explorer: the left upper arm, uniform layout, beta 0.35, window 40
    _set_control(cdp, "part", "l_upper_arm", "change")
    _set_control(cdp, "layout", "uniform", "change")
    _set_control(cdp, "window", "40")
    rect = cdp.evaluate(
        f"(() => {{ const r = {_EXPLORER}.getBoundingClientRect(); "
        "return [r.left + scrollX, r.top + scrollY, r.width, r.height]; })()"
    )
    shot = screenshots_dir / "labels-explorer.png"
    png = cdp.send(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": rect[0], "y": rect[1], "width": rect[2], "height": rect[3], "scale": 1},
        },
        page=True,
    )
    shot.write_bytes(base64.b64decode(png["data"]))


# --------------------------------------------------------------------------- layout
# Run in the page after its JavaScript: what sticks out sideways and which cells are not padded.
# ``limit`` is the width of the emulated screen in CSS px, ``minPad`` MIN_CELL_PADDING_PX. An
# element counts as clipped (not widening the page) when an ancestor's overflow-x is not
# ``visible``; tables must fit their container unless an ancestor scrolls sideways (overflow-x
# auto / scroll).
_LAYOUT = r"""((limit, minPad) => {
  const clip = (el) => getComputedStyle(el).overflowX !== 'visible';
  const fixed = (el) => getComputedStyle(el).position === 'fixed';   // not in scrollWidth
  const scrolls = (el) => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const ancestor = (el, test) => {
    for (let e = el.parentElement; e && e !== document.documentElement; e = e.parentElement)
      if (test(e)) return e;
    return null;
  };
  const snip = (el) => {
    const t = (el.textContent || '').trim().replace(/\s+/g, ' ');
    return t.length > 40 ? t.slice(0, 40) + '...' : t;
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    Array.from(el.classList).slice(0, 2).map(c => '.' + c).join('');
  const where = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 3; e = e.parentElement)
      parts.unshift(name(e));
    const table = el.parentElement && el.parentElement.closest('table');   // whose cell
    const shown = [el.parentElement, el.parentElement && el.parentElement.parentElement];
    return (table && !shown.includes(table) ? name(table) + ' ... ' : '') + parts.join(' > ');
  };
  // a phone widens its layout viewport (innerWidth) to a page wider than the screen
  const right = Math.min(limit, window.innerWidth, document.documentElement.clientWidth);
  const out = {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
               width: right, page: [], tables: [], cells: [], ntables: 0, ncells: 0};
  if (out.scrollWidth > right + 1) {   // the innermost elements sticking out
    const wide = Array.from(document.body.querySelectorAll('*')).filter(el => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.right > right + 1 && !fixed(el) && !ancestor(el, clip) &&
        !ancestor(el, fixed);
    });
    for (const el of wide.filter(el => !wide.some(o => o !== el && el.contains(o))).slice(0, 5))
      out.page.push(`${where(el)} (right edge at ` +
                    `${Math.round(el.getBoundingClientRect().right)} px): "${snip(el)}"`);
  }
  const article = document.querySelector('article') || document.body;
  for (const t of article.querySelectorAll('table')) {
    out.ntables += 1;
    const label = `table${t.id ? '#' + t.id : ''} "${snip(t).slice(0, 30)}"`;
    const r = t.getBoundingClientRect();
    if (r.width > 0 && r.height > 0) {
      const box = ancestor(t, scrolls);
      if (box) {
        const b = box.getBoundingClientRect();
        if (b.right > right + 1 && !ancestor(box, clip))
          out.tables.push(`${label}: its scroll box ${where(box)} ends at ` +
                          `${Math.round(b.right)} px`);
      } else {
        const p = t.parentElement.getBoundingClientRect();
        if (r.right > p.right + 1 || r.right > right + 1)
          out.tables.push(`${label}: ${Math.round(r.width)} px wide in a ` +
                          `${Math.round(p.width)} px ${name(t.parentElement)}, ` +
                          `which does not scroll sideways`);
      }
    }
    const bad = Array.from(t.querySelectorAll('th, td')).filter(c => {
      const s = getComputedStyle(c);
      return !(parseFloat(s.paddingLeft) >= minPad && parseFloat(s.paddingRight) >= minPad);
    });
    out.ncells += t.querySelectorAll('th, td').length;
    if (bad.length) {
      const s = getComputedStyle(bad[0]);
      out.cells.push(`${label}: ${bad.length} cell(s) padded less than ${minPad} px left or ` +
                     `right, e.g. ${name(bad[0])} "${snip(bad[0])}" ` +
                     `(padding ${s.paddingLeft} ${s.paddingRight})`);
    }
  }
  return out;
})(%d, %g)"""

# after the load event: MathJax's first typesetting and the fonts (widgets: network idle)
_SETTLED = """(async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  await document.fonts.ready;
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return true;
})()"""


@pytest.fixture(scope="session")
def devtools(chromium):
    """One Chromium (DevTools over a pipe) for every page of the layout checks, with
    scrollbars: the screenshots show which boxes scroll sideways."""
    cdp = _DevTools(chromium, flags=tuple(f for f in CHROMIUM_FLAGS if f != "--hide-scrollbars"))
    try:
        for domain in ("Runtime", "Log", "Network", "Page"):
            cdp.send(f"{domain}.enable", page=True)
        yield cdp
    finally:
        cdp.close()


def _open(cdp: _DevTools, url: str, metrics: dict) -> int:
    """Load ``url`` at the emulated screen ``metrics`` and wait until its scripts settled;
    returns the index of the first event of this page load in ``cdp.events``."""
    cdp.send("Emulation.setDeviceMetricsOverride", metrics, page=True)
    with cdp._cv:
        start = len(cdp.events)
    nav = cdp.send("Page.navigate", {"url": url}, page=True)
    assert not nav.get("errorText"), f"navigation to {url} failed: {nav}"
    cdp.wait_event("Page.loadEventFired", after=start)
    cdp.wait_network_idle(quiet=0.5)
    cdp.evaluate(_SETTLED)
    cdp.wait_network_idle(quiet=0.3)
    return start


def _full_page_png(cdp: _DevTools, metrics: dict) -> bytes:
    """The whole page as PNG: the emulated screen is made as tall as the page (and as wide,
    should the page be wider), then restored to ``metrics``."""
    height = 0
    for _ in range(3):  # taller screen, new layout (100vh boxes): until the size holds
        size = cdp.send("Page.getLayoutMetrics", page=True)
        size = size.get("cssContentSize") or size["contentSize"]
        if int(size["height"]) == height:
            break
        height = int(size["height"])
        width = max(metrics["width"], int(size["width"]))
        cdp.send(
            "Emulation.setDeviceMetricsOverride",
            {**metrics, "width": width, "height": height},
            page=True,
        )
        cdp.evaluate(_SETTLED)
    png = cdp.send("Page.captureScreenshot", {"format": "png"}, page=True)
    cdp.send("Emulation.setDeviceMetricsOverride", metrics, page=True)
    return base64.b64decode(png["data"])


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("chapter", _chapters())
def test_chapter_layout(chapter, width, book_html, server, devtools, screenshots_dir):
    """The chapter at a laptop's and a phone's width: full-page screenshot
    ``<chapter>-<width>.png``; no sideways scrolling of the page, tables that fit or scroll in
    their own box, padded cells, no console error or failed request."""
    base, _ = server
    page = book_html / "book" / f"{chapter}.html"
    assert page.is_file(), f"{page} was not built"
    url = f"{base}/book/{chapter}.html"
    metrics = WIDTHS[width]
    start = _open(devtools, url, metrics)
    shot = screenshots_dir / f"{chapter}-{width}.png"
    lay = devtools.evaluate(_LAYOUT % (metrics["width"], MIN_CELL_PADDING_PX))
    shot.write_bytes(_full_page_png(devtools, metrics))
    with devtools._cv:
        events = devtools.events[start:]
    problems = _page_problems(events, base)
    if lay["scrollWidth"] > lay["width"] + 1:
        problems.append(
            f"the page scrolls sideways: {lay['scrollWidth']} px wide on a "
            f"{lay['width']} px screen (innerWidth {lay['innerWidth']})"
        )
    problems += [f"sticks out: {p}" for p in lay["page"]]
    problems += [f"too wide: {p}" for p in lay["tables"]]
    problems += [f"unpadded: {p}" for p in lay["cells"]]
    want = EXPECTATIONS.get(_short(chapter), Expect())
    if lay["ntables"] < want.tables:  # the check saw the page's tables
        problems.append(f"{lay['ntables']} tables in the article, expected at least {want.tables}")
    assert not problems, (
        f"{chapter} at {width} width ({metrics['width']} px, {url}, "
        f"screenshot {shot}):\n  " + "\n  ".join(problems)
    )
