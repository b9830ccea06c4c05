"""Fixtures for self-service: the demo's libraries, patrons, kiosk and self-service settings, and a running
SIP2 server on loopback."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.circulation.sip2.server import BackgroundServer


@pytest.fixture()
def demo(app: Any, sm: Any, now: Any) -> Any:
    """Accounts' and circulation's demo data (with the kiosk-mikkeli terminal and Mikkeli's self-service hours)."""
    from app.circulation import load_demo
    from app.demo import load_accounts

    with app.app_context(), sm.begin() as s:
        load_accounts(s, now)
        load_demo(s, now)
    return app


@pytest.fixture()
def sip(demo: Any) -> Iterator[BackgroundServer]:
    with BackgroundServer(demo, idle_timeout=5, workers=4) as server:
        yield server
