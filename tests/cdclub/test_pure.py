"""The calendar and disc arithmetic stay pure: standard library only (as the circulation core)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.test_architecture import imports_of

CDCLUB = Path(__file__).resolve().parents[2] / "app" / "cdclub"


@pytest.mark.parametrize("name", ["calendar", "discs"])
def test_pure_modules_import_only_the_standard_library(name):
    for module in imports_of(CDCLUB / f"{name}.py"):
        top = module.split(".")[0]
        if top == "app":
            assert module.startswith("app.cdclub.calendar") or module.startswith("app.cdclub.discs"), module
        else:
            assert top in sys.stdlib_module_names or top == "__future__", module
