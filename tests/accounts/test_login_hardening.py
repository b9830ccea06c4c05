"""Logins that reveal nothing: an unknown card costs the same hashing as a wrong PIN, strings that are no
account leave no throttle row, and NUL bytes get the form's own error (never a 500)."""
from __future__ import annotations

import base64

import pytest
from sqlalchemy import insert, select

from app.accounts import jobs, service
from app.accounts.models import LoginThrottle
from tests import factories


def basic(card: str, pin: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{card}:{pin}".encode()).decode()}


class CountingHasher:
    """The real hasher, noting the parameters ($variant$version$m,t,p) of every hash it verifies against."""

    def __init__(self, real):
        self.real, self.verified = real, []

    def verify(self, hashed, secret):
        self.verified.append(tuple(hashed.split("$")[1:4]))
        return self.real.verify(hashed, secret)

    def hash(self, secret):
        return self.real.hash(secret)

    def take(self) -> list[tuple[str, ...]]:
        verified, self.verified = self.verified, []
        return verified


@pytest.fixture()
def hasher(monkeypatch) -> CountingHasher:
    spy = CountingHasher(service._hasher)
    monkeypatch.setattr(service, "_hasher", spy)
    return spy


def throttle_rows(sm) -> list[str]:
    with sm.begin() as s:
        return sorted(s.scalars(select(LoginThrottle.subject)))


def test_token_for_an_unknown_card_hashes_as_a_wrong_pin_does(client, sm, now, hasher):
    with sm.begin() as s:
        card = factories.patron(s, now).card_number
    hasher.take()
    assert client.post("/api/v1/token", headers=basic(card, "0000")).status_code == 401
    wrong_pin = hasher.take()
    assert client.post("/api/v1/token", headers=basic("2999999999", "0000")).status_code == 401
    unknown_card = hasher.take()
    assert len(wrong_pin) == 1 and unknown_card == wrong_pin  # one check, same hasher and parameters


def test_patron_web_login_hashes_alike_for_unknown_and_real_cards(client, sm, now, hasher):
    with sm.begin() as s:
        pin_only = factories.patron(s, now).card_number
        both = factories.patron(s, now, email="both@test.kuulo")
        service.set_patron_secret(s, both, password="kirja2026", now=now, actor="test")
        both_card = both.card_number
    checks = []
    for card in (pin_only, both_card, "2999999999"):
        hasher.take()
        assert "The login details are wrong" in factories.login_patron(client, card, "0000").text
        checks.append(hasher.take())
    assert len(checks[0]) == 2 and checks[1] == checks[0] and checks[2] == checks[0]  # PIN and password slots


def test_staff_login_hashes_alike_for_unknown_and_real_emails(client, sm, now, hasher):
    with sm.begin() as s:
        factories.staff(s, now, "librarian")
    hasher.take()
    assert "The login details are wrong" in factories.login_staff(client, password="wrong-password-1").text
    wrong_password = hasher.take()
    assert "The login details are wrong" in factories.login_staff(client, "nobody@test.kuulo", "whatever-1").text
    assert len(wrong_password) == 1 and hasher.take() == wrong_password


def test_strings_that_are_no_account_leave_no_throttle_row(client, sm, now):
    with sm.begin() as s:
        card = factories.patron(s, now).card_number
        factories.staff(s, now, "librarian")
    for junk in ("2999999999", "x" * 400, "lorem ipsum"):
        assert client.post("/api/v1/token", headers=basic(junk, "0000")).status_code == 401
    factories.login_patron(client, "2999999998", "0000")
    factories.login_staff(client, "nobody@test.kuulo", "whatever-1")
    assert throttle_rows(sm) == []
    assert client.post("/api/v1/token", headers=basic(card, "0000")).status_code == 401
    factories.login_staff(client, password="wrong-password-1")
    assert throttle_rows(sm) == [f"card:{card}", "staff:staff@test.kuulo"]


def test_purge_removes_throttle_rows_of_no_account_and_keeps_real_ones(sm, now):
    with sm.begin() as s:
        card = factories.patron(s, now).card_number
        factories.staff(s, now, "librarian")
        subjects = [f"card:{card}", "card:2999999999", "card:' OR 1=1", "staff:staff@test.kuulo",
                    "staff:nobody@test.kuulo", "something-else"]
        s.execute(insert(LoginThrottle), [{"subject": subject, "failures": 3, "window_started_at": now}
                                          for subject in subjects])
    with sm.begin() as s:
        assert jobs.purge_expired(s, now)["throttles"] == 4
    assert throttle_rows(sm) == [f"card:{card}", "staff:staff@test.kuulo"]


def test_nul_bytes_get_the_forms_own_error_never_a_500(client, sm, now):
    with sm.begin() as s:
        card = factories.patron(s, now).card_number
        factories.staff(s, now, "librarian")
    for data in ({"card_number": card[:4] + "\0" + card[4:], "secret": "1234"},
                 {"card_number": card, "secret": "12\x0034"}):
        resp = client.post("/login", data=data)
        assert resp.status_code == 200 and "The login details are wrong" in resp.text
    for data in ({"email": "staff@test.kuulo\0", "password": factories.PASSWORD},
                 {"email": "staff@test.kuulo", "password": "pass\0word-long"}):
        resp = client.post("/staff/login", data=data)
        assert resp.status_code == 200 and "The login details are wrong" in resp.text
    assert client.post("/reset", data={"identifier": card + "\0"}).status_code == 200
    for url in ("/api/v1/token", "/api/v1/loans"):
        for user, pin in ((card + "\0", "1234"), (card, "12\x0034")):
            resp = client.open(url, method="POST" if url.endswith("token") else "GET", headers=basic(user, pin))
            assert resp.status_code == 401 and "WWW-Authenticate" in resp.headers, (url, resp.status_code)
    assert throttle_rows(sm) == [f"card:{card}", "staff:staff@test.kuulo"]  # the real accounts' wrong secrets
