"""Logging in: staff by email and password, patrons by card and PIN or password, with throttling."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.accounts import service
from app.accounts.throttle import ThrottlePolicy
from app.audit import AuditEvent
from tests import factories

POLICY = ThrottlePolicy(max_failures=10, window=timedelta(minutes=60), lockout=timedelta(minutes=30))


def test_staff_login_and_logout(client, sm, now):
    with sm.begin() as s:
        factories.staff(s, now, "librarian")
    resp = factories.login_staff(client)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/staff")
    assert "Test Staff" in client.get("/staff").text
    client.post("/logout")
    assert client.get("/staff").status_code == 302


def test_wrong_staff_password_is_refused_with_a_message(client, sm, now):
    with sm.begin() as s:
        factories.staff(s, now, "librarian")
    resp = factories.login_staff(client, password="wrong-password-1")
    assert resp.status_code == 200
    assert "The login details are wrong" in resp.text
    assert 'aria-invalid="true"' in resp.text and 'href="#password"' in resp.text


def test_patron_logs_in_with_pin_or_password(client, sm, now):
    with sm.begin() as s:
        p = factories.patron(s, now)
        service.set_patron_secret(s, p, password="kirja2026", now=now, actor="test")
        card = p.card_number
    assert factories.login_patron(client, card, "1234").headers["Location"].endswith("/account")
    client.post("/logout")
    assert factories.login_patron(client, card, "kirja2026").headers["Location"].endswith("/account")
    assert card in client.get("/account").text


def test_ten_wrong_pins_lock_the_card_and_the_lock_is_audited(sm, now):
    with sm.begin() as s:
        card = factories.patron(s, now).card_number
    for attempt in range(9):
        with sm.begin() as s:
            assert service.authenticate_patron(s, card, "0000", now + timedelta(seconds=attempt), POLICY).reason == "invalid"
    with sm.begin() as s:
        result = service.authenticate_patron(s, card, "0000", now + timedelta(seconds=10), POLICY)
        assert result.reason == "locked" and result.locked_until == now + timedelta(seconds=10, minutes=30)
    with sm.begin() as s:  # even the right PIN is refused while locked
        assert service.authenticate_patron(s, card, "1234", now + timedelta(minutes=5), POLICY).reason == "locked"
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "account.locked")).all()
        assert len(events) == 1 and events[0].record_id == f"card:{card}"
    with sm.begin() as s:  # after the lockout the right PIN works again
        assert service.authenticate_patron(s, card, "1234", now + timedelta(minutes=41), POLICY).ok


def test_failures_outside_the_window_do_not_add_up(sm, now):
    with sm.begin() as s:
        card = factories.patron(s, now).card_number
    for i in range(15):
        with sm.begin() as s:
            # one failure every 7 minutes: never 10 within an hour
            assert service.authenticate_patron(s, card, "0000", now + timedelta(minutes=7 * i), POLICY).reason != "locked" or i >= 9
    with sm.begin() as s:
        assert service.authenticate_patron(s, card, "1234", now + timedelta(minutes=7 * 15), POLICY).ok


def test_locked_card_page_says_so(client, sm, now):
    with sm.begin() as s:
        card = factories.patron(s, now).card_number
    for _ in range(10):
        resp = factories.login_patron(client, card, "9999")
    assert "locked" in resp.text
    assert "locked" in factories.login_patron(client, card, "1234").text


def test_pin_must_be_four_digits_and_password_five_to_twelve(sm, now):
    import pytest

    from app.errors import DomainError

    with sm.begin() as s:
        p = factories.patron(s, now)
        for bad in ("123", "12345", "abcd", ""):
            with pytest.raises(DomainError):
                service.set_patron_secret(s, p, pin=bad, now=now, actor="test")
        for bad in ("abcd", "abcdefghijklm", "has space1"):
            with pytest.raises(DomainError):
                service.set_patron_secret(s, p, password=bad, now=now, actor="test")


def test_secrets_are_stored_as_argon2_hashes(sm, now):
    with sm.begin() as s:
        p = factories.patron(s, now)
        assert p.pin_hash.startswith("$argon2id$") and "1234" not in p.pin_hash


def test_change_pin_through_the_page(client, sm, now):
    with sm.begin() as s:
        card = factories.patron(s, now).card_number
    factories.login_patron(client, card)
    resp = client.post("/account/pin", data={"current": "9999", "pin": "4321", "pin_again": "4321"})
    assert "The current PIN or password is wrong" in resp.text
    resp = client.post("/account/pin", data={"current": "1234", "pin": "4321", "pin_again": "4321"})
    assert resp.status_code == 302
    client.post("/logout")
    assert factories.login_patron(client, card, "4321").status_code == 302


def test_card_numbers_are_allocated_in_sequence_and_skip_taken_ones(sm, now):
    with sm.begin() as s:
        factories.patron(s, now, card_number="2000000002")
        first = factories.patron(s, now, email="a@x.test").card_number
        second = factories.patron(s, now, email="b@x.test").card_number
    assert (first, second) == ("2000000001", "2000000003")


def test_librarian_sets_a_pin_at_the_desk_and_it_is_audited(client, sm, now):
    with sm.begin() as s:
        card = factories.patron(s, now).card_number
        factories.staff(s, now, "librarian")
    factories.login_staff(client)
    resp = client.post("/staff/desk/pin", data={"card_number": card, "pin": "2468", "pin_again": "2468"})
    assert "Check the patron" in resp.text  # identity check is required
    resp = client.post("/staff/desk/pin", data={"card_number": "999", "identity_checked": "y", "pin": "2468",
                                                "pin_again": "2468"})
    assert "No patron has this card number" in resp.text
    resp = client.post("/staff/desk/pin", data={"card_number": card, "identity_checked": "y", "pin": "2468",
                                                "pin_again": "2468"})
    assert resp.status_code == 302
    client.post("/logout")
    assert factories.login_patron(client, card, "2468").status_code == 302
    with sm.begin() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "patron.credentials_changed")).all()[-1]
        assert event.actor.startswith("staff:")
