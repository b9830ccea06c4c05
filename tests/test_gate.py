"""The status gate: a closed component answers 503 with Retry-After and a link; others stay open."""
from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from app import gate


class FixedClosures:
    def __init__(self, closed: dict[str, gate.Closure]) -> None:
        self.closed = closed

    def closure(self, component, now, language):
        return self.closed.get(component)


@pytest.fixture()
def closed(now):
    def close(*components, reads_open=False):
        gate.set_provider(FixedClosures({c: gate.Closure(c, now + timedelta(hours=2), "http://kuulo.test/status/m/1",
                                                          "Maintenance break", reads_open) for c in components}))

    yield close
    gate.set_provider(None)


def test_closed_api_route_answers_503_problem_with_retry_after(client, closed):
    closed("login")
    auth = {"Authorization": "Basic " + base64.b64encode(b"2000000001:1234").decode()}
    resp = client.post("/api/v1/token", headers=auth)
    assert resp.status_code == 503 and resp.mimetype == "application/problem+json"
    assert resp.headers["Retry-After"] == str(2 * 3600 + 1)
    assert resp.json["announcement_url"] == "http://kuulo.test/status/m/1"


def test_closed_page_says_so_in_words_with_the_announcement_link(client, closed):
    closed("password_reset")
    resp = client.get("/reset", headers={"Accept-Language": "en"})
    assert resp.status_code == 503
    assert "temporarily closed" in resp.text and "http://kuulo.test/status/m/1" in resp.text
    assert "Retry-After" in resp.headers


def test_other_components_stay_open(client, closed):
    closed("registration")
    assert client.get("/reset").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_reads_can_stay_open_while_writes_are_refused(client, closed):
    closed("login", reads_open=True)
    assert client.get("/login").status_code == 200
    assert client.post("/login", data={"card_number": "1", "secret": "1"}).status_code == 503


def test_unknown_component_names_are_refused_at_declaration():
    with pytest.raises(ValueError):
        gate.component("no-such-service")


def test_a_new_device_signs_in_during_a_borrowing_break_but_not_when_login_is_closed(client, sm, now, closed):
    from tests import factories

    with sm.begin() as s:
        card = factories.patron(s, now).card_number
    auth = {"Authorization": "Basic " + base64.b64encode(f"{card}:1234".encode()).decode()}
    closed("reader_apps", "web_library")
    assert client.post("/api/v1/token", headers=auth).status_code == 201
    closed("login")
    assert client.post("/api/v1/token", headers=auth).status_code == 503


def test_every_503_of_the_gate_links_the_status_page(client, closed):
    class WithStatus(FixedClosures):
        def status_url(self):
            return "http://kuulo.test/status"

    closed("password_reset")
    gate.set_provider(WithStatus(gate._provider.closed))
    for resp in (client.get("/reset"), client.post("/reset", data={"email": "a@example.test"})):
        assert resp.status_code == 503
        assert resp.headers["Link"] == '<http://kuulo.test/status>; rel="status"'
