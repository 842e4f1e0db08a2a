"""environment.yml (conda users) and pyproject.toml (pip) must name the same versions."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pyproject_pins() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = list(data["project"]["dependencies"])
    for extra in data["project"]["optional-dependencies"].values():
        reqs += extra
    pins = {}
    for req in reqs:
        name, sep, version = req.partition("==")
        assert sep, f"pyproject.toml requirement {req!r} is not pinned with =="
        pins[name.strip().lower()] = version.strip()
    return pins


def _environment_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"\s*-\s*([A-Za-z0-9_.\-]+)==([^\s#]+)", line)
        if m:
            pins[m.group(1).lower()] = m.group(2)
    return pins


def test_environment_yml_matches_pyproject():
    assert _environment_pins() == _pyproject_pins()


def test_lock_file_agrees_with_direct_pins():
    lock = {}
    for line in (ROOT / "ci" / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, _, version = line.partition("==")
            lock[name.strip().lower()] = version.strip()
    for name, version in _pyproject_pins().items():
        assert lock.get(name) == version, (
            f"ci/requirements.lock pins {name}=={lock.get(name)}, pyproject {version}"
        )


def test_torch_is_the_cpu_wheel_pin():
    # A looser torch requirement pulls a multi-GB CUDA build on a fresh machine.
    assert _pyproject_pins()["torch"] == "2.13.0"
