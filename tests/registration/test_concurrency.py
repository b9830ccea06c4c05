"""On PostgreSQL: the same registration fired from many threads at once through a real HTTP server."""
from __future__ import annotations

import json
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from app.accounts.models import OneTimeLink, Patron
from app.notify.models import OutboxMessage
from app.registration.models import IdempotencyKey, Registration
from tests.registration.conftest import LIBRARIAN, form_data, http, person

pytestmark = pytest.mark.postgres
THREADS = 24


@pytest.fixture(autouse=True)
def _postgres_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrency needs PostgreSQL (KUULO_TEST_DATABASE_URL)")


def at_once(send: Any, n: int = THREADS) -> list[tuple[int, dict[str, str], bytes]]:
    """Run ``send(i)`` in n threads released together by a barrier."""
    barrier = threading.Barrier(n)

    def go(i: int) -> tuple[int, dict[str, str], bytes]:
        barrier.wait()
        return send(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(go, range(n)))


def assert_exactly_one_patron(sm: Any) -> int:
    with sm.begin() as s:
        assert s.scalar(select(func.count()).select_from(Patron)) == 1
        assert s.scalar(select(func.count()).select_from(Registration)) == 1
        patron_id = s.scalar(select(Patron.id))
        messages = s.scalars(select(OutboxMessage)).all()
        assert [m.key for m in messages] == [f"registration-credentials:patron:{patron_id}"]
        assert s.scalar(select(func.count()).select_from(OneTimeLink)) == 1
    return patron_id


def test_simultaneous_api_registrations_make_one_patron(live_server, auth, sm):
    url = live_server.url + "/api/v1/registrations"
    results = at_once(lambda i: http("POST", url, person(), auth))
    statuses = sorted(s for s, _, _ in results)
    assert set(statuses) <= {200, 201} and statuses.count(201) == 1, statuses
    patron_id = assert_exactly_one_patron(sm)
    assert {json.loads(body)["patron_id"] for _, _, body in results} == {patron_id}


def test_simultaneous_requests_from_different_librarians_make_one_patron(live_server, sm, now, librarian):
    from tests import factories
    from tests.registration.conftest import make_token

    emails = [LIBRARIAN]
    with sm.begin() as s:
        for i in range(3):
            lib = factories.library(s, f"lib{i}", f"Kirjasto {i}")
            factories.staff(s, now, "librarian", email=f"l{i}@test.kuulo", lib=lib)
            emails.append(f"l{i}@test.kuulo")
    tokens = [make_token(sm, now, e) for e in emails]
    url = live_server.url + "/api/v1/registrations"
    results = at_once(lambda i: http("POST", url, person(email=f"p{i}@example.test"),
                                     {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}), n=16)
    assert sorted(s for s, _, _ in results).count(201) == 1
    patron_id = assert_exactly_one_patron(sm)
    libraries = {json.loads(body)["registered_by_library"] for _, _, body in results}
    assert {json.loads(body)["patron_id"] for _, _, body in results} == {patron_id} and len(libraries) == 1


def test_simultaneous_retries_with_one_idempotency_key(live_server, auth, sm):
    url = live_server.url + "/api/v1/registrations"
    headers = {**auth, "Idempotency-Key": '"retry-storm-1"'}
    results = at_once(lambda i: http("POST", url, person(), headers))
    statuses = [s for s, _, _ in results]
    assert set(statuses) <= {201, 409}, statuses
    answered = {body for s, _, body in results if s == 201}
    assert len(answered) == 1  # every answer that is not "still running" is the one stored response
    assert_exactly_one_patron(sm)
    with sm.begin() as s:
        assert s.scalar(select(IdempotencyKey.status)) == "completed"
    status, _, body = http("POST", url, person(), headers)  # after the storm: the stored 201, replayed
    assert status == 201 and body in answered


def test_simultaneous_form_submissions_show_registered_once_and_already_registered_after(
        live_server, staff_client, sm):
    cookie = staff_client.get_cookie("session")
    assert cookie is not None
    url = live_server.url + "/staff/registrations/new"
    data = urllib.parse.urlencode(form_data(), doseq=True).encode()

    def submit(_i: int) -> tuple[int, dict[str, str], bytes]:
        import urllib.request

        req = urllib.request.Request(url, data=data, method="POST", headers={
            "Cookie": f"session={cookie.value}", "Accept-Language": "en",
            "Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()

    results = at_once(submit, n=12)
    pages = [body.decode() for _, _, body in results]
    assert all(s == 200 for s, _, _ in results)
    assert sum("Patron registered" in p for p in pages) == 1
    assert sum("Already registered on" in p for p in pages) == len(pages) - 1
    assert_exactly_one_patron(sm)


def test_a_racing_insert_waits_for_the_winner_and_answers_with_it(app, sm, now, librarian):
    """The unique key decides, not the lookup: B passes the lookup while A's insert is uncommitted."""
    import time

    from app.accounts.models import StaffUser
    from app.registration import service

    settings = service.RegistrationSettings("key", "http://kuulo.test", 24)
    result: dict[str, Any] = {}

    def second_request() -> None:
        with app.app_context(), sm.begin() as s:
            outcome = service.register_patron(s, person(), staff=s.get(StaffUser, librarian["id"]), now=now,
                                              settings=settings)
            result.update(created=outcome.created, patron_id=outcome.registered.patron_id)

    with app.app_context():
        first = sm()
        winner = service.register_patron(first, person(), staff=first.get(StaffUser, librarian["id"]), now=now,
                                         settings=settings)
        racer = threading.Thread(target=second_request)
        racer.start()
        time.sleep(1.0)
        assert racer.is_alive()  # waiting on the winner's locks, not answering from a stale lookup
        first.commit()
        racer.join(20)
        first.close()
    assert result == {"created": False, "patron_id": winner.registered.patron_id}
    assert_exactly_one_patron(sm)
