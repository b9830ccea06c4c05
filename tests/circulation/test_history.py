"""The opt-in loan history (Koha's "privacy" setting): nothing is kept by default; once the patron opts in,
every loan she returns is listed on /account/history; she may stop (what was kept stays) and delete it all
(a confirmation), each change audited without titles."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.accounts.models import Patron
from app.audit import AuditEvent, sentence
from app.circulation import service, service_history
from app.circulation.history_models import LoanHistoryEntry
from tests import factories
from tests.circulation import helpers
from tests.circulation.helpers import HOME, borrower, item, lend


@pytest.fixture(autouse=True)
def libraries(app: Any, sm: Any, now: Any) -> None:
    app.config["FAKE_NOW"] = now.isoformat()  # the pages' clock is the test's
    with app.app_context(), sm.begin() as s:
        helpers.build_libraries(s, now)


def lend_and_return(app: Any, sm: Any, now: Any, patron_id: int, library: str = "lumme") -> str:
    with app.app_context(), sm.begin() as s:
        barcode = item(s, now, library)
        lend(s, now - timedelta(days=3), library, patron_id, barcode)
        assert service.checkin(s, item_barcode=barcode, branch=HOME[library], now=now, actor="test").loan_id
    return barcode


def entries(sm: Any, patron_id: int) -> int:
    with sm.begin() as s:
        return s.scalar(select(func.count()).select_from(LoanHistoryEntry).where(LoanHistoryEntry.patron_id == patron_id))


def test_nothing_is_kept_by_default_and_returns_are_kept_once_opted_in(app, sm, now):
    with app.app_context(), sm.begin() as s:
        me, other = borrower(s, now, "lumme"), borrower(s, now, "lumme")
    lend_and_return(app, sm, now, me)
    assert entries(sm, me) == 0
    with sm.begin() as s:
        assert service_history.set_history(s, me, enabled=True, now=now, actor="test")
        assert not service_history.set_history(s, me, enabled=True, now=now, actor="test")  # no change, no event
    kept = lend_and_return(app, sm, now + timedelta(hours=1), me)
    lend_and_return(app, sm, now, other)  # another patron who never opted in
    with sm.begin() as s:
        [line] = service_history.history_of(s, me)
        assert (line.kind, line.title) == ("loan", f"Title {kept}")
        assert line.borrowed_at < line.returned_at
    assert entries(sm, other) == 0
    with sm.begin() as s:
        service_history.set_history(s, me, enabled=False, now=now, actor="test")
    lend_and_return(app, sm, now + timedelta(hours=2), me)
    assert entries(sm, me) == 1  # stopped: nothing new, the old entry stays until deleted


def test_the_page_opts_in_lists_and_deletes_after_confirmation(app, client, sm, now):
    with app.app_context(), sm.begin() as s:
        me = borrower(s, now, "czech")
        card = s.get(Patron, me).card_number
    assert factories.login_patron(client, card).status_code == 302
    page = client.get("/account/history")
    assert page.status_code == 200 and "Your loan history is not kept." in page.text
    assert re.search(r'<input checked[^>]*value="off"', page.text)  # off is the default
    assert client.post("/account/history/setting", data={"keep": "maybe"}).status_code == 400
    done = client.post("/account/history/setting", data={"keep": "on"}, follow_redirects=True)
    assert "Your returned loans are now listed here." in done.text and "Your loan history is kept." in done.text
    first, second = lend_and_return(app, sm, now, me, "czech"), lend_and_return(app, sm, now, me, "czech")
    page = client.get("/account/history").text
    assert f"Title {first}" in page and f"Title {second}" in page and "2 returned loans" in page
    refused = client.post("/account/history/delete", data={})
    assert refused.status_code == 400 and "Tick the box to confirm the deletion." in refused.text
    assert entries(sm, me) == 2
    deleted = client.post("/account/history/delete", data={"confirm": "y"}, follow_redirects=True)
    assert "2 entries were deleted from your loan history." in deleted.text
    assert "No returned loans are listed." in deleted.text and entries(sm, me) == 0
    with app.test_request_context(headers={"Accept-Language": "en"}), sm.begin() as s:
        actions = [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.action.like("circulation.loan_history%"))
                                                .order_by(AuditEvent.id))]
        assert actions == ["circulation.loan_history_on", "circulation.loan_history_deleted"]
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "circulation.loan_history_deleted"))
        assert sentence(event) == "Test Patron deleted the loan history; entries deleted: 2."
        assert "Title" not in str(event.details)  # what someone read is not in the audit log


def test_the_history_page_needs_a_login(client):
    assert client.get("/account/history").status_code == 302
    assert client.post("/account/history/delete", data={"confirm": "y"}).status_code == 302


def test_an_audiobook_return_is_kept_when_opted_in(app, sm, now):
    with app.app_context(), sm.begin() as s:
        me = borrower(s, now, "lumme")
        service_history.record_audiobook_return(s, me, title="Seitsemän veljestä", record_key="book:1",
                                                borrowed_at=now - timedelta(days=2), returned_at=now)
        service_history.set_history(s, me, enabled=True, now=now, actor="test")
        service_history.record_audiobook_return(s, me, title="Seitsemän veljestä", record_key="book:1",
                                                borrowed_at=now - timedelta(days=2), returned_at=now)
        assert [(line.kind, line.title) for line in service_history.history_of(s, me)] == \
            [("audiobook", "Seitsemän veljestä")]
