"""Operations fixtures: an app whose media directory exists (so that /readyz can pass), outbox rows, job runs."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from app.notify.models import OutboxMessage
from app.notify.service import outbox_row
from app.scheduler_models import JobRun


@pytest.fixture()
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "media").mkdir(exist_ok=True)
    return {**app_config, "MAIL_FILE_DIR": str(tmp_path / "mail")}


def add_message(sm: Any, now: datetime, key: str, *, channel: str = "email", status: str = "pending",
                attempts: int = 0, age: timedelta = timedelta(0), subject: str = "Hello",
                body: str = "A line of text.\n") -> None:
    """An outbox row as ``notify.enqueue`` writes it, created ``age`` before ``now``."""
    row = outbox_row(key=key, channel=channel, recipient="reader@test.kuulo", language="en", template="test",
                     subject=subject, body=body, context={}, now=now - age)
    row.update(status=status, attempts=attempts)
    with sm.begin() as s:
        s.execute(insert(OutboxMessage), [row])


def add_run(sm: Any, name: str, started: datetime, seconds: float, status: str = "ok") -> None:
    """A finished job run as the scheduler logs it."""
    with sm.begin() as s:
        s.add(JobRun(name=name, holder="host:1", now=started, started_at=started,
                     finished_at=started + timedelta(seconds=seconds), status=status, summary=""))
