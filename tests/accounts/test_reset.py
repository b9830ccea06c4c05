"""One-time reset links by email: the link, never the secret; works once; expires."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.accounts import service
from app.notify.models import OutboxMessage
from tests import factories


def reset_link(sm) -> str:
    with sm.begin() as s:
        body = s.scalar(select(OutboxMessage.body).order_by(OutboxMessage.id.desc()))
    return re.search(r"http://kuulo\.test(/reset/\S+)", body).group(1)


def test_patron_resets_pin_through_the_emailed_link(client, sm, now):
    with sm.begin() as s:
        card = factories.patron(s, now).card_number
    resp = client.post("/reset", data={"identifier": card})
    assert "Check your email" in resp.text
    with sm.begin() as s:
        msg = s.scalar(select(OutboxMessage))
        assert "1234" not in msg.body  # never the secret
    path = reset_link(sm)
    assert client.post(path, data={"pin": "5678", "pin_again": "5678"}).status_code == 302
    assert factories.login_patron(client, card, "5678").status_code == 302
    assert client.get(path).status_code == 410  # used once


def test_double_submit_sends_one_email(client, sm, now):
    with sm.begin() as s:
        card = factories.patron(s, now).card_number
    client.post("/reset", data={"identifier": card})
    client.post("/reset", data={"identifier": card})
    with sm.begin() as s:
        assert len(s.scalars(select(OutboxMessage)).all()) == 1


def test_unknown_account_gets_the_same_answer_and_no_email(client, sm):
    resp = client.post("/reset", data={"identifier": "nobody@example.test"})
    assert "Check your email" in resp.text
    with sm.begin() as s:
        assert s.scalars(select(OutboxMessage)).all() == []


def test_staff_resets_password_by_email(client, sm, now):
    with sm.begin() as s:
        factories.staff(s, now, "librarian")
    client.post("/reset", data={"identifier": "staff@test.kuulo"})
    path = reset_link(sm)
    resp = client.post(path, data={"password": "a-new-long-password", "password_again": "a-new-long-password"})
    assert resp.headers["Location"].endswith("/staff/login")
    assert factories.login_staff(client, password="a-new-long-password").status_code == 302


def test_expired_link_is_refused(sm, now):
    with sm.begin() as s:
        p = factories.patron(s, now)
        raw = service.create_one_time_link(s, purpose="reset", now=now, hours=24, patron_id=p.id)
    with sm.begin() as s:
        assert service.find_one_time_link(s, raw, now + timedelta(hours=23)) is not None
        assert service.find_one_time_link(s, raw, now + timedelta(hours=24)) is None


def test_institution_account_sets_a_password_through_its_link(client, sm, now):
    with sm.begin() as s:
        inst = factories.patron(s, now, email="school@example.test", pin=None, kind="institution")
        raw = service.create_one_time_link(s, purpose="set_credentials", now=now, hours=24, patron_id=inst.id)
        card = inst.card_number
    assert "New password" in client.get(f"/reset/{raw}").text
    resp = client.post(f"/reset/{raw}", data={"password": "koulu2026", "password_again": "koulu2026"})
    assert resp.headers["Location"].endswith("/login")
    assert factories.login_patron(client, card, "koulu2026").status_code == 302
