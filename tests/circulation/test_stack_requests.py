"""Stack retrieval requests [003]: the desk keeps a copy in the closed stacks; the patron requests it from the
record page, follows it on /account/holds (requested with the date → being processed → ready for pickup with
the place and the last day) and may cancel it only while it is requested; the desk's list takes it into
processing and puts it out for pickup. Roles, CSRF and hostile input are checked."""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.accounts.models import Patron
from app.audit import AuditEvent
from app.catalogue.models import Record
from app.circulation import service_requests as requests
from app.circulation.account_models import StackRequest
from app.circulation.models import CircLibrary, FeeEntry
from app.circulation.service_common import add_fee
from app.notify.models import OutboxMessage
from tests import factories
from tests.circulation import helpers
from tests.circulation.helpers import borrower, item, money

RECORD_KEY = "isbn:9780000000017"


@pytest.fixture(autouse=True)
def libraries(app: Any, sm: Any, now: Any) -> None:
    with app.app_context(), sm.begin() as s:
        helpers.build_libraries(s, now)


@contextmanager
def tx(app: Any, sm: Any) -> Iterator[Any]:
    with app.app_context(), sm.begin() as s:
        yield s


def login(client: Any, sm: Any, patron_id: int) -> None:
    with sm.begin() as s:
        card = s.get(Patron, patron_id).card_number
    assert factories.login_patron(client, card).status_code == 302


def desk_staff(s: Any, now: Any, library: str = "tampere", email: str = "desk@test.kuulo") -> None:
    """A circulation-desk librarian of ``library`` (its accounts library linked to the circulation one)."""
    accounts_library = factories.library(s, code=f"{library}-acc", name=f"{library} library")
    s.scalar(select(CircLibrary).where(CircLibrary.code == library)).accounts_library_id = accounts_library.id
    factories.staff(s, now, "circulation", email=email, lib=accounts_library)


def record(s: Any, now: Any, key: str = RECORD_KEY) -> int:
    row = Record(control_number=f"test:{key}", record_key=key, title="Old journal volumes", material_type="book",
                 content_hash="x", created_at=now, updated_at=now)
    s.add(row)
    s.flush()
    return row.id


def stacked_copy(s: Any, now: Any, library: str = "tampere", key: str = RECORD_KEY) -> str:
    barcode = item(s, now, library, record_key=key)
    library_id = s.scalar(select(CircLibrary.id).where(CircLibrary.code == library))
    requests.place_in_closed_stacks(s, library_id=library_id, barcode=barcode, location="Stacks B 2", now=now,
                                    actor="test")
    return barcode


def holds_page_stack_part(client: Any) -> str:
    page = client.get("/account/holds")
    assert page.status_code == 200
    return page.text.split('id="stack-title"')[1]


def test_a_patron_requests_from_the_record_page_and_follows_the_states_the_desk_sets(app, client, sm, now):
    with tx(app, sm) as s:
        me = borrower(s, now, "tampere")
        record_id = record(s, now)
        stacked_copy(s, now)
        desk_staff(s, now)
    login(client, sm, me)
    page = client.get(f"/catalogue/records/{record_id}").text
    assert "From the closed stacks" in page and "Place item retrieval request" in page
    assert f'name="record_key" value="{RECORD_KEY}"' in page
    done = client.post("/account/stack-requests", data={"record_key": RECORD_KEY})
    assert done.status_code == 302 and done.location.startswith("/account/holds")
    part = holds_page_stack_part(client)
    assert re.search(r"Requested on [^:]+: waiting to be processed\.", part)
    assert "Cancel the request for" in part
    # The record page now says she has asked for it (no second request offered).
    page = client.get(f"/catalogue/records/{record_id}").text
    assert "You have asked for this title from the closed stacks (state: Requested)" in page
    assert "Place item retrieval request" not in page
    again = client.post("/account/stack-requests", data={"record_key": RECORD_KEY}, follow_redirects=True)
    assert "You have already asked for this title from the closed stacks." in again.text

    with sm.begin() as s:
        request_id = s.scalar(select(StackRequest.id).where(StackRequest.patron_id == me))
    staff = app.test_client()
    staff.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert factories.login_staff(staff, "desk@test.kuulo").status_code == 302
    desk = staff.get("/staff/desk/stack-requests").text
    assert "Stacks B 2" in desk and "Start processing" in desk
    assert staff.post(f"/staff/desk/stack-requests/{request_id}/processing").status_code == 302
    part = holds_page_stack_part(client)
    assert "Being processed (requested on" in part and "Cancel the request for" not in part
    assert "To cancel, contact the library" in part
    refused = client.post(f"/account/stack-requests/{request_id}/cancel", follow_redirects=True)
    assert "contact the library to cancel the request" in refused.text

    last_day = now.date() + timedelta(days=7)
    bad = staff.post(f"/staff/desk/stack-requests/{request_id}/ready",
                     data={"place": "Linna desk", "last_day": (now.date() - timedelta(days=1)).isoformat()},
                     follow_redirects=True)
    assert "Give a last pickup day from today to 60 days ahead." in bad.text
    assert staff.post(f"/staff/desk/stack-requests/{request_id}/ready",
                      data={"place": "Linna desk", "last_day": last_day.isoformat()}).status_code == 302
    part = holds_page_stack_part(client)
    assert "Ready for pickup</strong>: at Linna desk, by" in part
    with sm.begin() as s:
        actions = set(s.scalars(select(AuditEvent.action).where(AuditEvent.record_type == "circ_stack_request")))
    assert {"circulation.stack_request_placed", "circulation.stack_request_processing",
            "circulation.stack_request_ready"} <= actions


def test_the_patron_cancels_while_requested_and_the_cancelled_request_stays_visible_a_few_days(app, client, sm, now):
    with tx(app, sm) as s:
        me = borrower(s, now, "tampere")
        stacked_copy(s, now)
        decision, request = requests.request_from_stacks(s, patron_id=me, record_key=RECORD_KEY, now=now,
                                                         actor="test")
        assert decision.allowed and request is not None
        request_id = request.id
    login(client, sm, me)
    done = client.post(f"/account/stack-requests/{request_id}/cancel", follow_redirects=True)
    assert "The request was cancelled." in done.text
    assert "Cancelled on" in holds_page_stack_part(client)
    with tx(app, sm) as s:  # a few days later it is gone from the page; the copy may be requested again
        later = requests.patron_stack_requests(s, me, now=now + timedelta(days=4))
        assert later == []
        assert requests.request_from_stacks(s, patron_id=me, record_key=RECORD_KEY, now=now, actor="t")[0].allowed


def test_refusals_no_copy_a_ban_another_patrons_request_and_another_library(app, client, sm, now):
    with tx(app, sm) as s:
        me, other, banned = borrower(s, now, "tampere"), borrower(s, now, "tampere"), borrower(s, now, "tampere")
        lumme_patron = borrower(s, now, "lumme")
        stacked_copy(s, now)
        add_fee(s, patron_id=banned, library_id=s.scalar(select(CircLibrary.id).where(CircLibrary.code == "tampere")),
                kind="overdue_fine", amount=money("tampere", "10.01"), reason="t", now=now,
                actor="t", dedup_key=None)
        assert s.scalar(select(FeeEntry.id).where(FeeEntry.patron_id == banned))
        assert requests.request_from_stacks(s, patron_id=banned, record_key=RECORD_KEY, now=now,
                                            actor="t")[0].reason == "billing_ban"
        assert requests.request_from_stacks(s, patron_id=me, record_key=RECORD_KEY, now=now, actor="t")[0].allowed
        # the only copy is taken: the next patron is refused in words
        assert requests.request_from_stacks(s, patron_id=other, record_key=RECORD_KEY, now=now,
                                            actor="t")[0].reason == "no_stack_copy"
        # a patron who has the title on loan is told so
        borrowing = borrower(s, now, "tampere")
        helpers.lend(s, now, "tampere", borrowing, item(s, now, "tampere", record_key=RECORD_KEY))
        assert requests.request_from_stacks(s, patron_id=borrowing, record_key=RECORD_KEY, now=now,
                                            actor="t")[0].reason == "already_on_loan"
        # a Lumme patron sees nothing of Tampere's closed stacks
        assert requests.stack_offer(s, lumme_patron, RECORD_KEY) is None
        mine = s.scalar(select(StackRequest.id).where(StackRequest.patron_id == me))
    login(client, sm, other)
    refused = client.post("/account/stack-requests", data={"record_key": RECORD_KEY}, follow_redirects=True)
    assert "No copy of this title can be fetched from the closed stacks now." in refused.text
    # another patron's request: 404, never cancelled
    assert client.post(f"/account/stack-requests/{mine}/cancel").status_code == 404
    assert client.post("/account/stack-requests/99999999999/cancel").status_code == 404
    hostile = client.post("/account/stack-requests", data={"record_key": "x\x00" * 50}, follow_redirects=True)
    assert hostile.status_code == 200 and "The request could not be sent." in hostile.text
    with sm.begin() as s:
        assert s.get(StackRequest, mine).state == "requested"


def test_the_desk_list_needs_the_desk_role_and_csrf_and_keeps_to_its_library(app, client, sm, now):
    with tx(app, sm) as s:
        me = borrower(s, now, "tampere")
        stacked_copy(s, now)
        lumme_barcode = item(s, now, "lumme")
        request_id = requests.request_from_stacks(s, patron_id=me, record_key=RECORD_KEY, now=now,
                                                  actor="t")[1].id
        desk_staff(s, now)
        desk_staff(s, now, "lumme", email="lumme-desk@test.kuulo")
        factories.staff(s, now, "producer", email="editor@test.kuulo")
    assert client.get("/staff/desk/stack-requests").status_code == 302  # to the staff login
    editor = app.test_client()
    factories.login_staff(editor, "editor@test.kuulo")
    assert editor.get("/staff/desk/stack-requests").status_code == 403
    assert editor.post(f"/staff/desk/stack-requests/{request_id}/processing").status_code == 403
    lumme = app.test_client()
    lumme.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the texts below
    factories.login_staff(lumme, "lumme-desk@test.kuulo")
    assert "No open requests." in lumme.get("/staff/desk/stack-requests").text
    assert lumme.post(f"/staff/desk/stack-requests/{request_id}/processing").status_code == 404
    # a copy of another library cannot be put in this library's stacks
    tampere = app.test_client()
    tampere.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    factories.login_staff(tampere, "desk@test.kuulo")
    answer = tampere.post("/staff/desk/stack-requests/copies", data={"barcode": lumme_barcode, "location": "X"},
                          follow_redirects=True)
    assert "No copy of your library has this barcode." in answer.text
    assert tampere.post(f"/staff/desk/stack-requests/{request_id}/close", data={"outcome": "lost"}).status_code == 400
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert tampere.post(f"/staff/desk/stack-requests/{request_id}/processing").status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    with sm.begin() as s:
        assert s.get(StackRequest, request_id).state == "requested"


def test_two_clicks_take_a_request_into_processing_once_and_ready_needs_a_place(app, sm, now):
    with tx(app, sm) as s:
        me = borrower(s, now, "tampere")
        stacked_copy(s, now)
        request = requests.request_from_stacks(s, patron_id=me, record_key=RECORD_KEY, now=now, actor="t")[1]
        library_id = request.library_id
        assert requests.start_processing(s, request.id, library_id=library_id, now=now, actor="t").allowed
        assert requests.start_processing(s, request.id, library_id=library_id, now=now,
                                         actor="t").reason == "stack_request_state"
        assert requests.mark_ready(s, request.id, library_id=library_id, place=" ", last_day=date(2026, 12, 1),
                                   now=now, actor="t").reason == "pickup_place_missing"
        assert requests.mark_ready(s, request.id, library_id=library_id, place="Linna", last_day=date(2026, 12, 1),
                                   now=now, actor="t").allowed
        assert requests.mark_ready(s, request.id, library_id=library_id, place="Linna", last_day=date(2026, 12, 1),
                                   now=now, actor="t").reason == "stack_request_state"  # a second click
        [notice] = s.scalars(select(OutboxMessage).where(OutboxMessage.key.like("circ:stack-ready:%"))).all()
        assert notice.channel == "email" and notice.recipient.endswith("@test.kuulo")  # once, as she chose [003]
        assert "Linna" in notice.body and notice.subject
        assert requests.cancel_stack_request(s, request.id, patron_id=me, now=now,
                                             actor="t").reason == "stack_request_not_cancellable"
        assert requests.close_stack_request(s, request.id, library_id=library_id, outcome="collected", now=now,
                                            actor="t").allowed
        assert requests.patron_stack_requests(s, me, now=now) == []


def test_the_me_api_requests_lists_and_cancels_a_copy_from_the_stacks(app, client, sm, now):
    """A reader app does what the record page does: request, follow, cancel; refusals as 409 with the reason."""
    from app.accounts import service as accounts

    app.config["FAKE_NOW"] = now.isoformat()
    with tx(app, sm) as s:
        me = borrower(s, now, "tampere")
        stacked_copy(s, now)
        raw, _tok = accounts.issue_token(s, now=now, days=30, patron=s.get(Patron, me))
    auth = {"Authorization": f"Bearer {raw}"}
    url = "/api/v1/circulation/me/stack-requests"
    assert client.post(url, json={}, headers=auth).status_code == 422
    made = client.post(url, json={"record_key": RECORD_KEY}, headers=auth)
    assert made.status_code == 201 and made.json["state"] == "requested"
    again = client.post(url, json={"record_key": RECORD_KEY}, headers=auth)
    assert again.status_code == 409 and again.json["reason"] == "already_requested"
    assert "already asked" in again.json["detail"]
    listed = client.get(url, headers=auth).json["requests"]
    assert [(r["id"], r["state"], r["record_key"]) for r in listed] == [(made.json["id"], "requested", RECORD_KEY)]
    assert client.delete(f"{url}/{made.json['id']}", headers=auth).status_code == 204
    assert client.get(url, headers=auth).json["requests"][0]["state"] == "cancelled"
    assert client.delete(f"{url}/{made.json['id'] + 1000}", headers=auth).status_code == 404
    assert client.post(url, json={"record_id": 2_000_000}, headers=auth).status_code == 404  # no such record
