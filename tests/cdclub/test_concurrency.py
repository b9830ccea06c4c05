"""Two workers at once (PostgreSQL): the unique keys keep one run, one label per member, one loan per title."""
from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.audit import AuditEvent
from app.cdclub import production
from app.cdclub.models import OnlineDelivery, ProductionRun, RunRecipient
from app.lending.models import EbookLoan
from tests.cdclub import helpers

pytestmark = pytest.mark.postgres
JANUARY_CUT_OFF = datetime(2026, 12, 10, 22, 5, tzinfo=UTC)
DELIVERY_DAY = datetime(2027, 1, 14, 22, 35, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _postgres_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (KUULO_TEST_DATABASE_URL): SQLite serialises writers anyway")


def _at_once(target, workers=3):
    barrier, errors = threading.Barrier(workers), []

    def run():
        barrier.wait()
        try:
            target()
        except Exception as exc:  # collected: a worker's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []


def test_workers_racing_on_a_cut_off_and_a_delivery_create_nothing_twice(app, sm, now):
    conf = helpers.club_settings(app)
    with helpers.tx(app, sm) as s:
        club = helpers.club(s, now, code="verkkoklubi", delivery_format="online", books=2)
        for title in ("Yksi", "Kaksi"):
            production.add_title(s, club, "2027-01", helpers.book(s, now, title).id, now=now, actor="test",
                                 settings=conf)
        for n in range(12):
            helpers.member(s, app, club, now, f"Jäsen {n}")
    _at_once(lambda: production.open_due_runs(sm, JANUARY_CUT_OFF, conf))
    with helpers.tx(app, sm) as s:
        assert s.scalar(select(func.count()).select_from(ProductionRun)) == 1
        assert s.scalar(select(func.count()).select_from(RunRecipient)) == 12
        assert s.scalar(select(ProductionRun.recipient_count)) == 12
        assert s.scalar(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.action == "cdclub.run.opened")) == 1
    _at_once(lambda: production.deliver_due_runs(sm, DELIVERY_DAY, conf))
    with helpers.tx(app, sm) as s:
        assert s.scalar(select(func.count()).select_from(EbookLoan)) == 24
        assert s.scalar(select(func.count()).select_from(OnlineDelivery)) == 24
        assert s.scalar(select(ProductionRun.state)) == "shipped"
