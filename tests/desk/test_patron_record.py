"""The patron record at the desk (pages and API): contact data and the name only with an identity check,
category and home branch, the set-PIN link through the outbox, card blocks, the hearing before a premises
ban of at most 30 days, membership revalidation, the welcome letter, closing an account — each audited."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.accounts.models import Patron, StaffUser
from app.audit import AuditEvent
from app.circulation.models import Ban, Branch, Hold, Loan, PatronCirculation
from app.circulation.service_common import add_fee
from app.notify.models import OutboxMessage
from tests.circulation.helpers import borrower, item, lend, money
from tests.desk.conftest import CLERK, SUPERVISOR, login

pytestmark = pytest.mark.usefixtures("desk")


def make(sm: Any, now: Any, **kw: Any) -> tuple[int, str]:
    with sm.begin() as s:
        patron_id = borrower(s, now, "lumme", **kw)
        return patron_id, s.get(Patron, patron_id).card_number


def actions(sm: Any, patron_id: int) -> list[str]:
    with sm.begin() as s:
        return list(s.scalars(select(AuditEvent.action).where(AuditEvent.record_id == str(patron_id))
                              .order_by(AuditEvent.id)))


def record_data(**changes: str) -> dict[str, str]:
    data = {"name": "Test Patron", "identity_check": "", "email": "p@test.kuulo", "phone": "",
            "postal_address": "", "notice_channels": "email", "category": "adult"}
    data.update(changes)
    return data


def test_the_record_changes_the_address_but_the_name_only_with_an_identity_check(client, sm, now):
    patron_id, card = make(sm, now)
    with sm.begin() as s:
        savonlinna = s.scalar(select(Branch.id).where(Branch.code == "savonlinna"))
    login(client, CLERK)
    page = client.get(f"/staff/desk/patrons/{card}")
    assert f"/staff/desk/patrons/{card}/record" in page.text
    assert f"/staff/desk/patrons/{card}/cards" in page.text and f"/staff/desk/patrons/{card}/self-service" in page.text

    resp = client.post(f"/staff/desk/patrons/{card}/record",
                       data=record_data(name="Maija Meikäläinen", home_branch=str(savonlinna)))
    assert resp.status_code == 422
    assert "A new name needs the note of the identity check" in resp.text
    with sm.begin() as s:
        assert s.get(Patron, patron_id).name == "Test Patron"

    resp = client.post(f"/staff/desk/patrons/{card}/record", data=record_data(
        name="Maija Meikäläinen", identity_check="passport checked", postal_address="Hallituskatu 1\n50100 Mikkeli",
        notice_channels="letter", category="institution", home_branch=str(savonlinna)))
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"])
    assert "The record is saved." in page.text
    assert "changed the name (identity checked: passport checked)" in page.text  # the history, in words
    with sm.begin() as s:
        circ = s.get(PatronCirculation, patron_id)
        assert s.get(Patron, patron_id).name == "Maija Meikäläinen"
        assert circ.postal_address == "Hallituskatu 1\n50100 Mikkeli" and circ.notice_channels == ["letter"]
        assert circ.category == "institution" and circ.home_branch_id == savonlinna
        details = str(s.scalars(select(AuditEvent.details).where(AuditEvent.record_id == str(patron_id))).all())
        assert "Hallituskatu" not in details and "Meikäläinen" not in details  # fields named, values never
    assert {"circulation.patron_renamed", "circulation.contact_changed", "circulation.category_changed",
            "circulation.home_branch_changed"} <= set(actions(sm, patron_id))

    bad = client.post(f"/staff/desk/patrons/{card}/record", data=record_data(category="pirate",
                                                                             home_branch=str(savonlinna)))
    assert bad.status_code == 422 and "Not a valid choice" in bad.text


def test_the_set_pin_link_goes_by_email_through_the_outbox_once(client, sm, now):
    patron_id, card = make(sm, now, email="pin@test.kuulo")
    login(client, CLERK)
    for _ in range(2):
        page = client.get(client.post(f"/staff/desk/patrons/{card}/pin-link").headers["Location"])
        assert "A link for choosing the PIN is on its way" in page.text
    with sm.begin() as s:
        messages = s.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "pin@test.kuulo")).all()
        assert len(messages) == 1 and "/reset/" in messages[0].body and card in messages[0].body
    no_email, no_email_card = make(sm, now, email="")
    page = client.get(client.post(f"/staff/desk/patrons/{no_email_card}/pin-link").headers["Location"])
    assert "The patron has no email address" in page.text


def test_a_blocked_card_borrows_nothing_until_the_block_is_lifted(client, sm, now):
    patron_id, card = make(sm, now)
    with sm.begin() as s:
        barcode = item(s, now, "lumme")
    login(client, CLERK)
    client.post(f"/staff/desk/patrons/{card}/block", data={"reason": "reported stolen"})
    page = client.get(f"/staff/desk/patrons/{card}")
    assert "The card is blocked: reported stolen" in page.text
    resp = client.post(f"/staff/desk/patrons/{card}/checkout", data={"barcode": barcode})
    assert "The card is blocked" in client.get(resp.headers["Location"]).text
    client.post(f"/staff/desk/patrons/{card}/unblock", data={"reason": "card found"})
    resp = client.post(f"/staff/desk/patrons/{card}/checkout", data={"barcode": barcode})
    assert "– due" in client.get(resp.headers["Location"]).text
    assert ["circulation.card_blocked", "circulation.card_unblocked"] == [
        a for a in actions(sm, patron_id) if "block" in a]


def test_a_premises_ban_needs_the_hearing_first_and_lasts_at_most_30_days(client, sm, now):
    patron_id, card = make(sm, now)
    today = now.date()
    ban = {"decided_on": today.isoformat(), "decision_maker": "Library director", "starts_on": today.isoformat(),
           "reason": "Disturbance on 20 November"}
    login(client, SUPERVISOR)
    refused = client.post(f"/staff/desk/patrons/{card}/premises-bans",
                          data={**ban, "hearing": "1", "ends_on": (today + timedelta(days=10)).isoformat()})
    assert refused.status_code == 422 and "Record the hearing first" in refused.text

    client.post(f"/staff/desk/patrons/{card}/hearings",
                data={"held_on": (today - timedelta(days=1)).isoformat(), "heard_by": "Branch manager",
                      "summary": "The patron was heard and disagreed."})
    with sm.begin() as s:
        hearing_id = s.scalar(select(func.max(Ban.id)))  # none yet
        assert hearing_id is None
        from app.circulation.desk.record_models import PremisesHearing
        hearing_id = s.scalar(select(PremisesHearing.id).where(PremisesHearing.patron_id == patron_id))
    too_long = client.post(f"/staff/desk/patrons/{card}/premises-bans",
                           data={**ban, "hearing": str(hearing_id), "ends_on": (today + timedelta(days=30)).isoformat()})
    assert too_long.status_code == 422 and "at most 30 days" in too_long.text
    ok = client.post(f"/staff/desk/patrons/{card}/premises-bans",
                     data={**ban, "hearing": str(hearing_id), "ends_on": (today + timedelta(days=29)).isoformat()})
    assert ok.status_code == 302
    page = client.get(f"/staff/desk/patrons/{card}")
    assert "Banned from the library premises until" in page.text
    with sm.begin() as s:
        assert s.scalar(select(Ban).where(Ban.patron_id == patron_id, Ban.kind == "premises")).ends_on == \
            today + timedelta(days=29)
    assert ["circulation.hearing_recorded"] == [a for a in actions(sm, patron_id) if "hearing" in a]

    client.post("/logout")
    login(client, CLERK)  # a clerk records hearings but not bans
    assert client.post(f"/staff/desk/patrons/{card}/premises-bans", data=ban).status_code == 403


def test_revalidation_welcome_letter_and_closing_refused_while_loans_or_debts_are_open(client, sm, now):
    patron_id, card = make(sm, now)
    with sm.begin() as s:
        barcode = item(s, now, "lumme")
        loan = lend(s, now, "lumme", patron_id, barcode)
        s.get(PatronCirculation, patron_id).membership_validated_at = now - timedelta(days=3700)
        add_fee(s, patron_id=patron_id, library_id=loan.library_id, kind="overdue_fine",
                amount=money("lumme", "2.00"), reason="overdue fine", now=now, actor="test", dedup_key="rec:1")
    login(client, CLERK)
    assert "Membership to revalidate" in client.get(f"/staff/desk/patrons/{card}").text
    client.post(f"/staff/desk/patrons/{card}/revalidate", data={"note": "address checked"})
    assert "Membership to revalidate" not in client.get(f"/staff/desk/patrons/{card}").text

    letter = client.get(f"/staff/desk/patrons/{card}/welcome-letter.pdf")
    assert letter.status_code == 200 and letter.data.startswith(b"%PDF") and card.encode() in letter.data
    assert client.post(f"/staff/desk/patrons/{card}/close", data={"reason": "moved away"}).status_code == 403

    client.post("/logout")
    login(client, SUPERVISOR)
    page = client.get(client.post(f"/staff/desk/patrons/{card}/close",
                                  data={"reason": "moved away"}).headers["Location"])
    assert "The account cannot be closed: 1 loan is still open; " in page.text and "is still owed" in page.text
    with sm.begin() as s:
        assert s.get(Patron, patron_id).active
        s.get(Loan, loan.id).status = "returned"
        from app.circulation.models import Item
        s.scalar(select(Item).where(Item.barcode == barcode)).status = "available"
    client.post(f"/staff/desk/patrons/{card}/pay", data={"method": "cash"})
    page = client.get(client.post(f"/staff/desk/patrons/{card}/close",
                                  data={"reason": "moved away"}).headers["Location"])
    assert "The account is closed." in page.text
    with sm.begin() as s:
        assert not s.get(Patron, patron_id).active
        assert s.scalar(select(func.count()).select_from(Loan).where(Loan.patron_id == patron_id)) == 1  # kept
    assert {"circulation.membership_revalidated", "circulation.welcome_letter_printed",
            "circulation.account_closed"} <= set(actions(sm, patron_id))


def _token(sm: Any, now: Any, email: str) -> dict[str, str]:
    from app.accounts import service as accounts

    with sm.begin() as s:
        user = s.scalar(select(StaffUser).where(StaffUser.email == email))
        raw, _tok = accounts.issue_token(s, now=now, days=1, staff=user)
    return {"Authorization": f"Bearer {raw}"}


def test_the_record_api_uses_the_same_rules(client, sm, now):
    patron_id, card = make(sm, now)
    clerk, boss = _token(sm, now, CLERK), _token(sm, now, SUPERVISOR)
    base = f"/api/v1/circulation/patrons/{card}"
    resp = client.post(f"{base}/record", headers=clerk, json={"name": "New Name"})
    assert resp.status_code == 422 and resp.json["type"].endswith("identity-check-required")
    resp = client.post(f"{base}/record", headers=clerk, json={"postal_address": "Porrassalmenkatu 1",
                                                               "home_branch": "savonlinna"})
    assert resp.status_code == 200 and set(resp.json["changed"]) == {"postal_address", "home_branch"}
    assert client.post(f"{base}/block", headers=clerk, json={"reason": "stolen"}).status_code == 201
    assert client.post(f"{base}/block", headers=clerk, json={"reason": "stolen"}).status_code == 409
    assert client.post(f"{base}/unblock", headers=clerk, json={"reason": "found"}).status_code == 200
    today = now.date()
    ban = {"hearing_id": 1, "decided_on": today.isoformat(), "decision_maker": "Director",
           "starts_on": today.isoformat(), "ends_on": (today + timedelta(days=5)).isoformat(), "reason": "Threats"}
    assert client.post(f"{base}/premises-bans", headers=clerk, json=ban).status_code == 403
    resp = client.post(f"{base}/premises-bans", headers=boss, json={**ban, "hearing_id": 999})
    assert resp.status_code == 422 and resp.json["type"].endswith("hearing-required")
    hearing = client.post(f"{base}/hearings", headers=clerk, json={"held_on": today.isoformat(), "heard_by": "Me"})
    assert hearing.status_code == 201
    resp = client.post(f"{base}/premises-bans", headers=boss, json={**ban, "hearing_id": hearing.json["hearing_id"]})
    assert resp.status_code == 201 and resp.json["ends_on"] == (today + timedelta(days=5)).isoformat()
    assert client.post(f"{base}/pin-link", headers=clerk).status_code == 202
    assert client.post(f"{base}/membership/revalidation", headers=clerk, json={}).status_code == 200
    with sm.begin() as s:
        add_fee(s, patron_id=patron_id, library_id=s.get(PatronCirculation, patron_id).library_id,
                kind="overdue_fine", amount=money("lumme", "1.00"), reason="fine", now=now, actor="t", dedup_key="a:1")
        place = s.scalar(select(func.count()).select_from(Hold))
    resp = client.post(f"{base}/closure", headers=boss, json={"reason": "moved"})
    assert resp.status_code == 409 and resp.json["owed"] == "1.00" and resp.json["open_loans"] == 0
    assert place is not None
