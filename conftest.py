"""Repository-wide pytest settings that do not live in pyproject.toml (owned elsewhere).

- Never collect the build output, the virtual environment or run folders (so that
  `pytest --nbval book/*.ipynb` and plain `pytest` stay fast and don't wander into .venv).
- `--book-html=DIR` selects the browser checks of the built book (tests/book, marker
  `browser`); without it they are skipped with a reason.
"""

from __future__ import annotations

collect_ignore = ["_build", ".venv", "runs", "cache", "node_modules", "data", "book/_static"]
collect_ignore_glob = ["_build/*", ".venv/*", "runs/*", "book/*.py"]


def pytest_addoption(parser):
    group = parser.getgroup("hmlpe book")
    group.addoption(
        "--book-html",
        action="store",
        default=None,
        metavar="DIR",
        help="built book HTML (e.g. _build/html): run the headless-Chromium "
        "checks of every chapter page (marker 'browser')",
    )
    group.addoption(
        "--book-screenshots",
        action="store",
        default=None,
        metavar="DIR",
        help="where the browser checks save screenshots "
        "(default: DIR/../screenshots, i.e. _build/screenshots)",
    )


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser: opens the built book in headless Chromium (needs --book-html)"
    )
