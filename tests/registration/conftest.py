"""Fixtures for registration tests: a librarian of a member library, logged in or with an API token."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from app.accounts import service as accounts
from tests import factories

LIBRARIAN = "librarian@test.kuulo"


def person(national_id: str = "010594Y308V", **changes: Any) -> dict[str, Any]:
    """A valid registration as the API takes it (the form takes the same names)."""
    data = {"given_names": "Testi Tapani", "surname": "Henkilö", "national_id": national_id,
            "email": "testi@example.test", "phone": "+358 40 123 4567", "street_address": "Kirjastokatu 1",
            "postal_code": "00100", "city": "Helsinki", "language": "fi", "eligibility_basis": "visual_impairment",
            "preferred_formats": ["audiobook"]}
    data.update(changes)
    return data


def form_data(national_id: str = "010594Y308V", **changes: Any) -> dict[str, Any]:
    data = person(national_id, **changes)
    if not data.get("guardian_consent"):
        data.pop("guardian_consent", None)  # an unticked checkbox is not sent
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture()
def librarian(sm: Any, now: Any) -> dict[str, Any]:
    with sm.begin() as s:
        lib = factories.library(s, "tampere", "Tampereen kaupunginkirjasto")
        user = factories.staff(s, now, "librarian", email=LIBRARIAN, lib=lib)
        return {"id": user.id, "library": lib.name, "email": LIBRARIAN}


@pytest.fixture()
def staff_client(client: Any, librarian: dict[str, Any]) -> Any:
    assert factories.login_staff(client, LIBRARIAN).status_code == 302
    return client


def make_token(sm: Any, now: Any, email: str) -> str:
    from sqlalchemy import select

    from app.accounts.models import StaffUser

    with sm.begin() as s:
        user = s.scalar(select(StaffUser).where(StaffUser.email == email))
        raw, _tok = accounts.issue_token(s, now=now, days=30, staff=user, name="library system")
    return raw


@pytest.fixture()
def token(sm: Any, now: Any, librarian: dict[str, Any]) -> str:
    return make_token(sm, now, LIBRARIAN)


@pytest.fixture()
def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class LiveServer:
    """The app behind a real threaded HTTP server (werkzeug) on loopback."""

    def __init__(self, app: Any) -> None:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.thread.join(10)


@pytest.fixture()
def live_server(app: Any) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server


def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
         timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """A plain HTTP request with the standard library (as a library system would send it)."""
    import json
    import urllib.error
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    all_headers = {"Content-Type": "application/json", **(headers or {})} if body is not None else dict(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()
