"""The one place the wall clock is read: at the edges (requests, jobs, CLI).

Domain code receives ``now`` as an argument. ``KUULO_FAKE_NOW`` pins the clock for tests and demos.
"""
from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, has_app_context


def now() -> datetime:
    fake = current_app.config.get("FAKE_NOW") if has_app_context() else ""
    if fake:
        value = datetime.fromisoformat(str(fake))
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.now(UTC)
