"""Fixtures for circulation scenario tests: an app context and the four presets' libraries."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.circulation import helpers


@pytest.fixture()
def ctx(app: Any) -> Iterator[Any]:
    """An app context: services render outbox messages with the app's templates and translations."""
    with app.app_context():
        yield app


@pytest.fixture()
def libraries(ctx: Any, sm: Any, now: Any) -> None:
    with sm.begin() as s:
        helpers.build_libraries(s, now)


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")
