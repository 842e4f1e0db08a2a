"""The equations page: every check passes, a broken implementation fails its check, and every
named function exists and is named on the page."""

from __future__ import annotations

import importlib

import torch

from hmlpe.companion import equations
from hmlpe.network import losses
from hmlpe.paths import PROJECT_ROOT


def test_every_equation_once_and_every_check_passes():
    table = equations.run_checks()
    assert table["eq."].tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert (table["check"] == "passes").all(), table[table["check"] != "passes"]


def test_a_broken_function_fails_its_check(monkeypatch):
    real = losses.regression_loss
    monkeypatch.setattr(losses, "regression_loss", lambda p, t: real(p, t) / 2)  # forgot a term
    assert not equations.check_eq1().passed
    monkeypatch.setattr(
        losses, "detection_loss", lambda z, y, reduction="sum": torch.zeros(z.shape[0])
    )
    assert not equations.check_eq3().passed and not equations.check_eq4().passed


def test_named_functions_exist_and_appear_on_the_page():
    page = (PROJECT_ROOT / "book" / "12_equations.py").read_text(encoding="utf-8")
    for eq in equations.EQUATIONS:
        dotted = eq.implemented_by.split()[0]
        module, _, name = dotted.rpartition(".")
        assert hasattr(importlib.import_module(module), name), dotted
        assert f"**Eq. {eq.number}**" in page and f"`{dotted}`" in page, dotted
