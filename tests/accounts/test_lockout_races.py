"""Wrong PINs that arrive once the card is locked — or race the request that locks it — change nothing:
one ``account.locked`` audit row, and the lock's end is never pushed forward."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts import service, throttle
from app.accounts.models import LoginThrottle
from app.accounts.throttle import ThrottlePolicy
from app.audit import AuditEvent
from tests import factories

POLICY = ThrottlePolicy(max_failures=3, window=timedelta(minutes=60), lockout=timedelta(minutes=30))
RACERS = 4


def locks_and_row(sm, card: str) -> tuple[list[AuditEvent], LoginThrottle]:
    with sm.begin() as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "account.locked")))
        row = s.scalars(select(LoginThrottle).where(LoginThrottle.subject == f"card:{card}")).one()
        s.expunge_all()
        return events, row


def one_short_of_the_lock(sm, now) -> str:
    with sm.begin() as s:
        card = factories.patron(s, now).card_number
    for i in range(POLICY.max_failures - 1):
        with sm.begin() as s:
            assert service.authenticate_patron(s, card, "0000", now + timedelta(seconds=i), POLICY).reason == "invalid"
    return card


def test_a_failure_counted_after_the_lock_changes_nothing(sm, now):
    """Sequentially, on SQLite and PostgreSQL: a request that passed the lock check just before another one
    set the lock counts its failure afterwards."""
    card = one_short_of_the_lock(sm, now)
    with sm.begin() as s:
        locked = service.authenticate_patron(s, card, "0000", now + timedelta(seconds=10), POLICY)
    assert locked.reason == "locked" and locked.locked_until == now + timedelta(seconds=10, minutes=30)
    with sm.begin() as s:  # the late request's failure, a minute later
        late = throttle.register_failure(s, f"card:{card}", now + timedelta(minutes=1), POLICY, f"card:{card}")
    with sm.begin() as s:  # and one that arrives during the lock
        during = service.authenticate_patron(s, card, "0000", now + timedelta(minutes=2), POLICY)
    assert late == during.locked_until == locked.locked_until
    events, row = locks_and_row(sm, card)
    assert len(events) == 1 and row.locked_until == locked.locked_until and row.failures == POLICY.max_failures


def test_concurrent_wrong_pins_at_the_lock_audit_it_once(sm, now, database_url, monkeypatch):
    """PostgreSQL, real threads: every request has passed the lock check before any of them counts its failure."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite cannot run the requests concurrently (needs KUULO_TEST_DATABASE_URL)")
    card = one_short_of_the_lock(sm, now)
    all_checked = threading.Barrier(RACERS, timeout=30)
    real_register_failure = throttle.register_failure

    def register_failure_after_all_checked(*args, **kwargs):
        all_checked.wait()
        return real_register_failure(*args, **kwargs)

    monkeypatch.setattr(throttle, "register_failure", register_failure_after_all_checked)

    def wrong_pin(second: int) -> service.AuthResult:
        with sm.begin() as s:
            return service.authenticate_patron(s, card, "0000", now + timedelta(seconds=10 + second), POLICY)

    with ThreadPoolExecutor(RACERS) as pool:
        results = list(pool.map(wrong_pin, range(RACERS)))
    assert [r.reason for r in results] == ["locked"] * RACERS
    events, row = locks_and_row(sm, card)
    assert len(events) == 1 and row.failures == POLICY.max_failures
    assert {r.locked_until for r in results} == {row.locked_until}
    assert events[0].details["locked_until"] == row.locked_until.isoformat()
