"""Idempotency-Key (draft-ietf-httpapi-idempotency-key-header): replay, 422 on another body, 409 in flight."""
from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from app.accounts.models import Patron
from app.registration import idempotency
from app.registration.jobs import purge_idempotency_keys
from app.registration.models import IdempotencyKey
from tests import factories
from tests.registration.conftest import make_token, person

URL = "/api/v1/registrations"


def key_header(auth, key=None):
    return {**auth, "Idempotency-Key": f'"{key or uuid.uuid4()}"'}


def patrons(sm):
    with sm.begin() as s:
        return s.scalar(select(func.count()).select_from(Patron))


def test_same_key_and_body_replays_the_stored_response(client, auth, sm):
    headers = key_header(auth)
    first = client.post(URL, json=person(), headers=headers)
    second = client.post(URL, json=person(), headers=headers)
    assert first.status_code == second.status_code == 201  # the stored 201, not a new 200
    assert first.json == second.json and second.json["created"] is True
    assert patrons(sm) == 1


def test_key_order_and_spacing_of_the_body_do_not_matter(client, auth):
    headers = key_header(auth)
    client.post(URL, json=person(), headers=headers)
    reordered = dict(reversed(list(person().items())))
    assert client.post(URL, json=reordered, headers=headers).status_code == 201


def test_same_key_with_another_body_is_422_problem(client, auth, sm):
    headers = key_header(auth)
    client.post(URL, json=person(), headers=headers)
    resp = client.post(URL, json=person("220475Y456F", email="d@example.test"), headers=headers)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert resp.json["type"].endswith("idempotency-key-reused")
    assert patrons(sm) == 1


def test_same_key_while_the_first_is_in_flight_is_409_problem(client, auth, sm, now, librarian):
    key = str(uuid.uuid4())
    body_fp = idempotency.fingerprint(client.application.config["IDENTITY_HASH_KEY"], person())
    with sm.begin() as s:  # the first request claimed the key and is still running
        s.add(IdempotencyKey(staff_user_id=librarian["id"], key=key, fingerprint=body_fp, status="processing",
                             created_at=now, locked_at=now, expires_at=now + timedelta(hours=24)))
    resp = client.post(URL, json=person(), headers=key_header(auth, key))
    assert resp.status_code == 409 and resp.mimetype == "application/problem+json"
    assert resp.headers["Retry-After"] == "1"
    assert patrons(sm) == 0


def test_a_claim_whose_request_died_is_taken_over_after_the_lease(client, auth, sm, now, librarian):
    key = str(uuid.uuid4())
    body_fp = idempotency.fingerprint(client.application.config["IDENTITY_HASH_KEY"], person())
    with sm.begin() as s:
        s.add(IdempotencyKey(staff_user_id=librarian["id"], key=key, fingerprint=body_fp, status="processing",
                             created_at=now - timedelta(minutes=5), locked_at=now - timedelta(minutes=5),
                             expires_at=now + timedelta(hours=23)))
    assert client.post(URL, json=person(), headers=key_header(auth, key)).status_code == 201


def test_validation_errors_are_replayed_too(client, auth, sm):
    headers = key_header(auth)
    first = client.post(URL, json=person(postal_code="x"), headers=headers)
    second = client.post(URL, json=person(postal_code="x"), headers=headers)
    assert first.status_code == second.status_code == 422
    assert first.json == second.json and second.mimetype == "application/problem+json"


def test_keys_are_per_staff_user(client, auth, sm, now):
    with sm.begin() as s:
        factories.staff(s, now, "librarian", email="second@test.kuulo")
    other = {"Authorization": f"Bearer {make_token(sm, now, 'second@test.kuulo')}"}
    key = str(uuid.uuid4())
    assert client.post(URL, json=person(), headers=key_header(auth, key)).status_code == 201
    resp = client.post(URL, json=person("220475Y456F", email="d@example.test"), headers=key_header(other, key))
    assert resp.status_code == 201  # another user's key space


def test_a_key_past_its_expiry_is_a_new_key(client, auth, sm, now, librarian):
    key = str(uuid.uuid4())
    with sm.begin() as s:
        s.add(IdempotencyKey(staff_user_id=librarian["id"], key=key, fingerprint="0" * 64, status="completed",
                             response_status=201, response_body={"old": True}, created_at=now - timedelta(days=2),
                             locked_at=now - timedelta(days=2), expires_at=now - timedelta(days=1)))
    resp = client.post(URL, json=person(), headers=key_header(auth, key))
    assert resp.status_code == 201 and "old" not in resp.json


def test_keys_are_kept_24_hours_and_purged_after(client, auth, sm, now):
    client.post(URL, json=person(), headers=key_header(auth))
    with sm.begin() as s:
        row = s.scalar(select(IdempotencyKey))
        assert row.expires_at - row.created_at >= timedelta(hours=24)
        assert purge_idempotency_keys(s, now + timedelta(hours=23)) == {"idempotency keys": 0}
        assert purge_idempotency_keys(s, now + timedelta(hours=25)) == {"idempotency keys": 1}


def test_malformed_or_repeated_keys_are_400(client, auth):
    for bad in ('"unterminated', "a, b", '"a" "b"', '""', "x" * 300):
        resp = client.post(URL, json=person(), headers={**auth, "Idempotency-Key": bad})
        assert resp.status_code == 400 and resp.json["type"].endswith("idempotency-key-invalid"), bad


def test_a_bare_token_key_is_accepted_and_equals_the_quoted_one(client, auth):
    key = str(uuid.uuid4())
    assert client.post(URL, json=person(), headers={**auth, "Idempotency-Key": key}).status_code == 201
    assert client.post(URL, json=person(), headers={**auth, "Idempotency-Key": f'"{key}"'}).status_code == 201


def test_the_key_row_holds_no_request_content(client, auth, sm):
    client.post(URL, json=person(), headers=key_header(auth))
    with sm.begin() as s:
        row = s.scalar(select(IdempotencyKey))
        stored = f"{row.fingerprint} {row.response_body}"
    assert "010594" not in stored and "Henkilö" not in stored


def test_key_parsing():
    assert idempotency.key_from_headers([]) is None
    assert idempotency.key_from_headers(['"8e03978e-40d5-43e8-bc93-6894a57f9324"']) == "8e03978e-40d5-43e8-bc93-6894a57f9324"
    assert idempotency.key_from_headers(['"a\\"b"']) == 'a"b'
