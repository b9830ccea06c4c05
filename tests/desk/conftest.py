"""Fixtures for the desk: the four presets' libraries, a desk clerk (circulation) and a supervisor at
Lumme's Mikkeli branch, logged in through the real form."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.accounts import service as accounts
from app.circulation.models import CircLibrary
from tests import factories
from tests.circulation import helpers

CLERK, SUPERVISOR = "clerk@test.kuulo", "super@test.kuulo"


@pytest.fixture()
def ctx(app: Any) -> Iterator[Any]:
    with app.app_context():
        yield app


@pytest.fixture()
def desk(ctx: Any, sm: Any, now: Any) -> dict[str, Any]:
    """Lumme's circulation library linked to a member library whose staff are the desk's."""
    with sm.begin() as s:
        helpers.build_libraries(s, now)
        lib = accounts.get_or_create_library(s, "lumme-kuopio", "Lumme", "Kuopio")
        s.query(CircLibrary).filter_by(code="lumme").one().accounts_library_id = lib.id
        factories.staff(s, now, "circulation", email=CLERK, lib=lib)
        factories.staff(s, now, "circulation", "circulation-supervisor", email=SUPERVISOR, lib=lib)
    return {"clerk": CLERK, "supervisor": SUPERVISOR}


def login(client: Any, email: str) -> None:
    resp = factories.login_staff(client, email)
    assert resp.status_code == 302, resp.text
