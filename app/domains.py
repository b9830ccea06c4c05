"""The domain packages, in dependency order. Each may offer, in its ``__init__.py``:

- ``init_app(app)``: register blueprints, gate declarations, staff links;
- ``load_demo(session, now) -> dict``: demo data (idempotent);
and ``jobs.py`` with ``JOBS: list[app.scheduler.Job]``, and ``models.py`` with its tables.
"""
from __future__ import annotations

import importlib
from types import ModuleType

ORDER = ["circulation", "registration", "institutions", "lending", "catalogue", "cdclub", "status"]


def _optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name or (exc.name and name.startswith(exc.name + ".")):
            return None
        raise


def installed() -> list[ModuleType]:
    """Domain packages that exist and have init_app."""
    return [m for d in ORDER if (m := _optional(f"app.{d}")) is not None and hasattr(m, "init_app")]


def submodules(leaf: str) -> list[ModuleType]:
    """``app.<domain>.<leaf>`` for every domain that has one (models, jobs)."""
    return [m for d in ORDER if (m := _optional(f"app.{d}.{leaf}")) is not None]


def demo_loaders() -> list:
    return [m.load_demo for d in ORDER if (m := _optional(f"app.{d}")) is not None and hasattr(m, "load_demo")]
