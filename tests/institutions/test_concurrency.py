"""Two reviewers at the same moment, on PostgreSQL with real threads: one wins, the other is told who."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from app.accounts.models import Patron, StaffUser
from app.errors import DomainError
from app.institutions import service
from tests.institutions import helpers
from tests.institutions.test_rules_and_api import staff_token

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _postgres_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (KUULO_TEST_DATABASE_URL)")


SETTINGS = service.Settings(base_url="http://kuulo.test", identity_key="test")


def test_two_reviewers_claim_at_the_same_moment(client, sm, now):
    application_id = helpers.apply_via_api(client)
    ids = [helpers.reviewer(sm, now, email=f"r{n}@test.kuulo", name=f"Reviewer {n}") for n in (1, 2)]
    barrier = threading.Barrier(2)

    def claim(reviewer_id: int) -> str:
        with sm() as session:
            reviewer = session.get(StaffUser, reviewer_id)
            barrier.wait()
            try:
                service.claim(session, application_id, reviewer=reviewer, now=now, settings=SETTINGS)
            except DomainError as err:
                session.rollback()
                return f"refused: {err.code} {err.params.get('claimed_by')}"
            time.sleep(0.2)  # hold the row lock while the other UPDATE waits for it
            session.commit()
            return f"won: {reviewer.name}"

    with ThreadPoolExecutor(2) as pool:
        results = sorted(pool.map(claim, ids))
    assert len(results) == 2
    winner = next(r for r in results if r.startswith("won"))
    loser = next(r for r in results if r.startswith("refused"))
    assert loser == f"refused: claimed-by-other {winner.removeprefix('won: ')}"


def test_two_reviewers_claim_through_the_api_at_the_same_moment(app, client, sm, now):
    application_id = helpers.apply_via_api(client)
    tokens = [staff_token(sm, now, email=f"t{n}@test.kuulo", name=f"Token Reviewer {n}") for n in (1, 2)]
    barrier = threading.Barrier(2)

    def claim(headers):
        barrier.wait()
        return app.test_client().post(f"/api/v1/institution-applications/{application_id}/claim", headers=headers)

    for _ in range(5):  # several rounds: the claim goes back each time
        with ThreadPoolExecutor(2) as pool:
            responses = list(pool.map(claim, tokens))
        codes = sorted(r.status_code for r in responses)
        assert codes == [200, 409], codes
        won = next(r for r in responses if r.status_code == 200).get_json()["claimed_by"]["name"]
        lost = next(r for r in responses if r.status_code == 409).get_json()
        assert lost["claimed_by"] == won
        winner_headers = tokens[[r.status_code for r in responses].index(200)]
        assert app.test_client().post(f"/api/v1/institution-applications/{application_id}/release",
                                      headers=winner_headers).status_code == 200


def test_a_double_click_on_approve_creates_one_account_and_sends_once(app, client, sm, now):
    application_id = helpers.apply_via_api(client)
    headers = staff_token(sm, now)
    assert client.post(f"/api/v1/institution-applications/{application_id}/claim", headers=headers).status_code == 200
    barrier = threading.Barrier(4)

    def approve(_):
        barrier.wait()
        return app.test_client().post(f"/api/v1/institution-applications/{application_id}/approve",
                                      headers=headers).get_json()["outcome"]

    with ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(approve, range(4)))
    assert outcomes == ["already_approved"] * 3 + ["approved"]
    with sm.begin() as s:
        assert s.scalar(select(func.count()).select_from(Patron).where(Patron.kind == "institution")) == 1
    assert len(helpers.outbox(sm, "institutions_credentials")) == 1
