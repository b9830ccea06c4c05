"""Library cards: several per account [003], any active one opens the account (web, token API, SIP2's PIN
check, the self-service door, DODP all go through authenticate_patron), a lost one answers exactly as a wrong
PIN does; the patron reports a card lost on /account/cards (a confirmation step, audited in words); the desk
issues a new card with the preset's replacement-card fee and blocks a card reported by phone."""
from __future__ import annotations

import base64
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.accounts import service as accounts
from app.accounts import throttle
from app.accounts.cards import LibraryCard
from app.accounts.models import Patron
from app.audit import AuditEvent, sentence
from app.circulation import service_cards
from app.circulation.models import CircLibrary, FeeEntry
from tests import factories
from tests.circulation import helpers
from tests.circulation.helpers import borrower

CLERK = "clerk@test.kuulo"
POLICY = throttle.ThrottlePolicy(max_failures=5, window=timedelta(minutes=15), lockout=timedelta(minutes=15))


@pytest.fixture(autouse=True)
def world(app: Any, sm: Any, now: Any) -> None:
    """The four presets' libraries; Lumme's desk staffed by a clerk (role circulation)."""
    app.config["FAKE_NOW"] = now.isoformat()  # the pages' clock is the test's
    with app.app_context(), sm.begin() as s:
        helpers.build_libraries(s, now)
        lib = accounts.get_or_create_library(s, "lumme-kuopio", "Lumme", "Kuopio")
        s.query(CircLibrary).filter_by(code="lumme").one().accounts_library_id = lib.id
        factories.staff(s, now, "circulation", email=CLERK, lib=lib)


def make(app: Any, sm: Any, now: Any, library: str = "lumme") -> int:
    with app.app_context(), sm.begin() as s:
        return borrower(s, now, library)


def card_of(sm: Any, patron_id: int) -> str:
    with sm.begin() as s:
        return s.get(Patron, patron_id).card_number


def cards(app: Any, sm: Any, now: Any, patron_id: int) -> list[service_cards.CardLine]:
    with app.app_context(), sm.begin() as s:
        return service_cards.patron_cards(s, patron_id, now=now)


def issue(app: Any, sm: Any, now: Any, patron_id: int, **kw: Any) -> service_cards.IssuedCard:
    with app.app_context(), sm.begin() as s:
        return service_cards.issue_card(s, patron_id, now=now, actor="test", **kw)


def auth(sm: Any, now: Any, number: str, pin: str = factories.PIN) -> accounts.AuthResult:
    with sm.begin() as s:
        return accounts.authenticate_patron(s, number, pin, now, POLICY)


# -- the service and authentication ---------------------------------------------------------------------


def test_an_account_lists_its_primary_card_and_an_additional_card_opens_it_too(app, sm, now):
    me = make(app, sm, now)
    primary = card_of(sm, me)
    [line] = cards(app, sm, now, me)
    assert (line.number, line.status, line.primary, line.library) == (primary, "active", True, "Lumme library")
    second = issue(app, sm, now, me, number="LUMME77")  # another library's card [003]: free, primary unchanged
    assert second.decision.allowed and second.fee is None and card_of(sm, me) == primary
    assert {c.number for c in cards(app, sm, now, me)} == {primary, "LUMME77"}
    assert auth(sm, now, "LUMME77").user.id == me and auth(sm, now, primary).user.id == me
    assert not auth(sm, now, "LUMME77", "9999").ok


def test_a_lost_card_answers_exactly_as_a_wrong_pin_and_the_others_still_work(app, sm, now):
    me = make(app, sm, now)
    primary = card_of(sm, me)
    issue(app, sm, now, me, number="SECOND1")
    lost_id = next(c.card_id for c in cards(app, sm, now, me) if c.number == "SECOND1")
    with app.app_context(), sm.begin() as s:
        assert service_cards.report_card_lost(s, me, lost_id, now=now, actor="test").allowed
        assert not service_cards.report_card_lost(s, me, lost_id, now=now, actor="test").allowed  # once
    refused, wrong_pin, nobody = auth(sm, now, "SECOND1"), auth(sm, now, primary, "9999"), auth(sm, now, "NOSUCH1")
    assert (refused.ok, refused.reason) == (wrong_pin.ok, wrong_pin.reason) == (nobody.ok, nobody.reason) \
        == (False, "invalid")
    assert auth(sm, now, primary).ok


def test_the_lost_primary_card_is_blocked_everywhere_it_was_taken(app, client, sm, now):
    me = make(app, sm, now)
    primary = card_of(sm, me)
    primary_id = cards(app, sm, now, me)[0].card_id
    with app.app_context(), sm.begin() as s:
        service_cards.report_card_lost(s, me, primary_id, now=now, actor="test")
    page = factories.login_patron(client, primary)
    wrong = factories.login_patron(client, primary, "9999")
    assert page.status_code == wrong.status_code == 200  # the login form again, same words
    assert re.sub(r'value="[^"]*"', "", page.text) == re.sub(r'value="[^"]*"', "", wrong.text)
    basic = base64.b64encode(f"{primary}:{factories.PIN}".encode()).decode()
    token = client.post("/api/v1/token", headers={"Authorization": f"Basic {basic}"})
    assert token.status_code == 401


def test_the_desk_replaces_a_lost_primary_card_with_the_presets_fee(app, sm, now):
    me = make(app, sm, now, "tampere")
    old = card_of(sm, me)
    old_id = cards(app, sm, now, me)[0].card_id
    done = issue(app, sm, now, me, replaces_card_id=old_id, old_card_lost=True)
    assert done.decision.allowed and done.fee == helpers.money("tampere", "5.00")  # tampere.toml [fees]
    assert card_of(sm, me) == done.number != old  # the new card is the account's main card
    states = {c.number: (c.status, c.primary) for c in cards(app, sm, now, me)}
    assert states == {old: ("lost", False), done.number: ("active", True)}
    assert not auth(sm, now, old).ok and auth(sm, now, done.number).ok
    with sm.begin() as s:
        assert helpers.fees(s, me, "replacement_card") == [("replacement_card", 500)]
    again = issue(app, sm, now, me, replaces_card_id=old_id)
    assert again.decision.reason == "card_not_replaceable"


def test_a_worn_card_is_replaced_without_fee_when_the_clerk_says_so_and_numbers_stay_unique(app, sm, now):
    me, other = make(app, sm, now), make(app, sm, now)
    old_id = cards(app, sm, now, me)[0].card_id
    taken = issue(app, sm, now, me, replaces_card_id=old_id, number=card_of(sm, other))
    assert taken.decision.reason == "card_number_taken"
    done = issue(app, sm, now, me, replaces_card_id=old_id, charge_fee=False)
    assert done.decision.allowed and done.fee is None
    assert [c.status for c in cards(app, sm, now, me)] == ["active", "replaced"]
    with sm.begin() as s:
        assert helpers.fees(s, me, "replacement_card") == []
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "circulation.card_issued"))
        assert event.details["fee_waived"] is True and event.details["old_status"] == "replaced"


def test_only_the_own_card_can_be_reported(app, sm, now):
    me, other = make(app, sm, now), make(app, sm, now)
    theirs = cards(app, sm, now, other)[0].card_id
    with app.app_context(), sm.begin() as s, pytest.raises(Exception) as err:
        service_cards.report_card_lost(s, me, theirs, now=now, actor="test")
    assert getattr(err.value, "status", None) == 404


# -- the patron's page ------------------------------------------------------------------------------------


def test_the_patron_reports_a_card_lost_after_confirming_and_it_is_audited_in_words(app, client, sm, now):
    me = make(app, sm, now)
    issue(app, sm, now, me, number="SPARE22")
    assert factories.login_patron(client, card_of(sm, me)).status_code == 302
    page = client.get("/account/cards")
    assert page.status_code == 200 and "SPARE22" in page.text and "In use" in page.text
    assert "A new card in place of a lost one costs" in page.text  # Lumme: 3.00
    assert "PIN" in page.text and "/account/pin" in page.text
    spare = next(c.card_id for c in cards(app, sm, now, me) if c.number == "SPARE22")
    confirm = client.get(f"/account/cards/{spare}/lost")
    assert confirm.status_code == 200 and "Report card SPARE22 lost?" in confirm.text
    unconfirmed = client.post(f"/account/cards/{spare}/lost", data={})
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.text
    assert not [c for c in cards(app, sm, now, me) if c.status == "lost"]
    done = client.post(f"/account/cards/{spare}/lost", data={"confirm": "y"}, follow_redirects=True)
    assert "The card is blocked" in done.text and "Reported lost: blocked" in done.text
    with app.test_request_context(headers={"Accept-Language": "en"}), sm.begin() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "circulation.card_reported_lost"))
        assert sentence(event) == "Test Patron reported a library card lost; it was blocked at once."
    assert client.get(f"/account/cards/{spare}/lost").status_code == 404  # not active any more
    assert client.get("/account/cards/2147483647/lost").status_code == 404


def test_the_cards_page_needs_a_login_and_the_csrf_token(app, sm, now):
    me = make(app, sm, now)
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    assert client.get("/account/cards").status_code == 302
    login_page = client.get("/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', login_page)
    csrf = token.group(1) or token.group(2)
    assert client.post("/login", data={"card_number": card_of(sm, me), "secret": factories.PIN,
                                       "csrf_token": csrf}).status_code == 302
    card_id = cards(app, sm, now, me)[0].card_id
    assert client.post(f"/account/cards/{card_id}/lost", data={"confirm": "y"}).status_code == 400
    assert cards(app, sm, now, me)[0].status == "active"


# -- the desk ------------------------------------------------------------------------------------------------


def test_the_desk_issues_a_new_card_in_place_of_a_lost_one(app, client, sm, now):
    me = make(app, sm, now)
    old = card_of(sm, me)
    assert factories.login_staff(client, CLERK).status_code == 302
    page = client.get(f"/staff/desk/patrons/{old}/cards")
    assert page.status_code == 200 and "Issue a new card" in page.text and "costs" in page.text
    old_id = cards(app, sm, now, me)[0].card_id
    bad = client.post(f"/staff/desk/patrons/{old}/cards", data={"replaces": str(old_id), "number": "12 34"})
    assert bad.status_code == 422 and "only letters and digits" in bad.text
    done = client.post(f"/staff/desk/patrons/{old}/cards",
                       data={"replaces": str(old_id), "old_card_lost": "y", "number": "NEW12345", "charge_fee": "y"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/staff/desk/patrons/NEW12345/cards")
    shown = client.get(done.headers["Location"])
    assert "New card NEW12345 issued." in shown.text and "Replacement-card fee charged" in shown.text
    with sm.begin() as s:
        fee = s.scalar(select(FeeEntry).where(FeeEntry.patron_id == me, FeeEntry.kind == "replacement_card"))
        assert fee is not None and fee.amount_minor == 300  # lumme.toml: replacement_card = "3.00"
    assert client.get(f"/staff/desk/patrons/{old}/cards").status_code == 404  # the old number is no longer his


def test_the_desk_blocks_a_card_reported_by_phone_and_adds_a_free_second_card(app, client, sm, now):
    me = make(app, sm, now)
    number = card_of(sm, me)
    factories.login_staff(client, CLERK)
    extra = client.post(f"/staff/desk/patrons/{number}/cards", data={"replaces": "0", "charge_fee": "y"})
    assert extra.status_code == 302
    lines = cards(app, sm, now, me)
    assert len(lines) == 2 and all(c.status == "active" for c in lines)
    with sm.begin() as s:
        assert helpers.fees(s, me, "replacement_card") == []
    blocked = client.post(f"/staff/desk/patrons/{number}/cards/{lines[0].card_id}/lost", follow_redirects=True)
    assert "The card is blocked" in blocked.text
    assert sorted(c.status for c in cards(app, sm, now, me)) == ["active", "lost"]


def test_the_desk_cards_page_is_for_circulation_staff_only(app, client, sm, now):
    me = make(app, sm, now)
    number = card_of(sm, me)
    assert client.get(f"/staff/desk/patrons/{number}/cards").status_code == 302
    with sm.begin() as s:
        factories.staff(s, now, "librarian", email="lib@test.kuulo")
    factories.login_staff(client, "lib@test.kuulo")
    assert client.get(f"/staff/desk/patrons/{number}/cards").status_code == 403
    assert client.post(f"/staff/desk/patrons/{number}/cards", data={"replaces": "0"}).status_code == 403
    with sm.begin() as s:
        assert s.scalar(select(LibraryCard.id).where(LibraryCard.patron_id == me, LibraryCard.number != number)) \
            is None


# -- the migration ---------------------------------------------------------------------------------------------


def test_the_migration_makes_every_existing_card_an_active_card_of_its_account(tmp_path):
    """0200 fills library_cards from the patrons' card numbers; the authentication then finds them there."""
    import os

    from sqlalchemy import text

    from app import create_app, db
    from app.migrate import upgrade
    from tests.conftest import empty_database_url

    url = empty_database_url(tmp_path, f"kuulo_scratch_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")
    scratch = create_app({"DATABASE_URL": url})
    upgrade(scratch, "0190_review_replies")
    with db.engine(scratch).begin() as conn:
        conn.execute(text("INSERT INTO patrons (card_number, kind, name, email, phone, language, active, created_at) "
                          "VALUES ('2000000777', 'person', 'Old Patron', '', '', 'fi', :t, :at)"),
                     {"t": True, "at": "2026-01-02 03:04:05+00:00"})
    upgrade(scratch, "0200_cards")
    with db.engine(scratch).begin() as conn:
        rows = conn.execute(text("SELECT c.number, c.status, c.lost_at FROM library_cards c "
                                 "JOIN patrons p ON p.id = c.patron_id")).all()
    assert [tuple(r) for r in rows] == [("2000000777", "active", None)]
    upgrade(scratch, "heads")
    db.engine(scratch).dispose()
