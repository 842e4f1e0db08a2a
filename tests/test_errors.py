"""The project's error types (hmlpe.errors) and how the CLI reports them."""

import inspect
import subprocess
import sys

import pytest

import hmlpe.errors as errors
from hmlpe import cli

ERROR_TYPES = [
    obj
    for _, obj in inspect.getmembers(errors, inspect.isclass)
    if issubclass(obj, errors.HMLPEError) and obj is not errors.HMLPEError
]


@pytest.mark.parametrize("error_type", ERROR_TYPES, ids=lambda t: t.__name__)
def test_every_project_error_is_one_line_status_2(error_type, monkeypatch, capsys):
    """Each project error is a built-in error too, and the CLI prints its message alone."""
    assert len(error_type.__mro__) > 3  # HMLPEError and a built-in base
    kwargs = {"epoch": 1, "step": 2} if error_type is errors.NonFiniteLossError else {}
    exc = error_type("the message names the file", **kwargs)

    def fail(args):
        raise exc

    monkeypatch.setattr(cli, "run", fail)
    assert cli.main(["results", "x"]) == 2
    assert capsys.readouterr().err == "error: the message names the file\n"


@pytest.mark.parametrize("bug", [KeyError("x"), ValueError("x"), FileNotFoundError("x")])
def test_a_bug_keeps_its_traceback(bug, monkeypatch):
    """An error outside the project's own (a KeyError, a ValueError, an OSError) is a bug or
    an unchecked input: it propagates with its traceback, not as one line."""

    def fail(args):
        raise bug

    monkeypatch.setattr(cli, "run", fail)
    with pytest.raises(type(bug)):
        cli.main(["results", "x"])


def test_debug_switch_shows_the_traceback_of_user_errors(monkeypatch):
    def fail(args):
        raise errors.ConfigError("optim.lr=abc")

    monkeypatch.setattr(cli, "run", fail)
    monkeypatch.setenv("HMLPE_DEBUG", "1")
    with pytest.raises(errors.ConfigError):
        cli.main(["results", "x"])


def test_modules_re_export_the_types_they_raise():
    from hmlpe.config import ConfigError
    from hmlpe.engine.checkpoint import CheckpointError
    from hmlpe.engine.guard import RunFolderError
    from hmlpe.engine.training import NonFiniteLossError

    assert (ConfigError, CheckpointError, RunFolderError, NonFiniteLossError) == (
        errors.ConfigError,
        errors.CheckpointError,
        errors.RunFolderError,
        errors.NonFiniteLossError,
    )


def test_unknown_name_is_a_key_error_printed_without_quotes():
    exc = errors.UnknownNameError("unknown config key 'x'")
    assert isinstance(exc, KeyError) and str(exc) == "unknown config key 'x'"


def test_bad_values_are_refused_before_torch_loads(tmp_path):
    """A bad value, a refused --out or an unknown chapter is answered without importing torch
    (the seconds a user waits for a typo)."""
    code = (
        "import sys; from hmlpe.cli import main; "
        "rc = main(sys.argv[1:]); print('torch' in sys.modules); sys.exit(rc)"
    )
    (tmp_path / "file").write_text("")
    for argv in (
        ["train", "--epochs", "-3", "--out", str(tmp_path / "x")],
        ["train", "--set", "optim.lamda=1", "--out", str(tmp_path / "x")],
        ["train", "--out", str(tmp_path / "file")],
        ["evaluate", "--checkpoint", "x.pt", "--dataset", "buffy", "--out", str(tmp_path / "file")],
        ["book", "--chapter", "nosuch", "--run-dir", str(tmp_path / "b")],
    ):
        proc = subprocess.run(
            [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 2, proc.stderr
        assert proc.stdout.strip() == "False" and proc.stderr.startswith("error: "), argv
