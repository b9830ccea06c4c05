"""The nightly job's bulk writes give the same rows as the ORM would, once (SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.circulation.bulk import SMALL, insert_once, update_column_by_id
from app.notify.models import OutboxMessage


def rows(now, count):
    return [{"key": f"bulk:{n}", "channel": "email", "recipient": f"p{n}@test.kuulo", "language": "fi",
             "template": "t", "subject": f"Tab\there \"quoted\" 'single' \\ {n}", "body": "Rivi 1\nRivi 2 – ä",
             "context": {"n": n, "text": "a\"b"}, "next_attempt_at": now + timedelta(minutes=n),
             "created_at": now} for n in range(count)]


def test_bulk_insert_once_and_update_by_id(sm, now):
    count = SMALL + 50
    with sm.begin() as s:
        insert_once(s, OutboxMessage.__table__, rows(now, count), ["key"])
        insert_once(s, OutboxMessage.__table__, rows(now, count), ["key"])  # a second run adds nothing
    with sm.begin() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == count
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.key == "bulk:7"))
        assert (row.status, row.attempts, row.last_error) == ("pending", 0, "")  # column defaults
        assert row.subject == "Tab\there \"quoted\" 'single' \\ 7" and row.body == "Rivi 1\nRivi 2 – ä"
        assert row.context == {"n": 7, "text": "a\"b"}
        assert row.next_attempt_at == now + timedelta(minutes=7) and row.created_at == now
        ids = list(s.scalars(select(OutboxMessage.id)))
        update_column_by_id(s, OutboxMessage.__table__, "lease_until", [(i, now + timedelta(days=1)) for i in ids])
    with sm.begin() as s:
        leases = set(s.scalars(select(OutboxMessage.lease_until)))
        assert leases == {now + timedelta(days=1)}
