"""Fixtures for catalogue tests: the four presets' libraries (built in a short app context, so that each
test-client request has its own context and session)."""
from __future__ import annotations

from typing import Any

import pytest

from tests.circulation import helpers


@pytest.fixture()
def libraries(app: Any, sm: Any, now: Any) -> None:
    with app.app_context(), sm.begin() as s:
        helpers.build_libraries(s, now)
