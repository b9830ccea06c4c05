"""The status package closes what its windows and incidents say, quickly, and keeps itself open."""
from __future__ import annotations

import time
from datetime import timedelta

from app import gate
from app.status import queries, service
from app.status.gate_provider import StatusClosures
from tests import factories
from tests.status.helpers import incident, maintenance, set_clock


def closure(app, component, when, language="en"):
    with app.test_request_context("/"):
        return StatusClosures().closure(component, when, language)


def test_a_window_closes_its_components_only_while_it_runs(app, sm, now):
    mid = maintenance(app, sm, now, starts_in=timedelta(hours=1), hours=2)
    assert closure(app, "reader_apps", now + timedelta(minutes=59)) is None
    running = closure(app, "reader_apps", now + timedelta(hours=1), "fi")
    assert running.until == now + timedelta(hours=3) and running.title == "Järjestelmän päivitys"
    assert running.url == f"http://kuulo.test/status/maintenance/{mid}" and not running.reads_open
    assert closure(app, "login", now + timedelta(hours=1)) is None
    assert closure(app, "reader_apps", now + timedelta(hours=3)) is None


def test_changes_are_seen_at_once_in_this_process(app, sm, now):
    mid = maintenance(app, sm, now, starts_in=timedelta(minutes=-1), hours=2)
    assert closure(app, "password_reset", now) is not None
    with app.app_context(), sm.begin() as s:
        service.complete_maintenance(s, queries.maintenance(s, mid), bodies={"en": "Done early."}, actor="t",
                                     now=now)
    assert closure(app, "password_reset", now) is None


def test_an_incident_closes_only_under_maintenance_or_major_outage(app, sm, now):
    incident(app, sm, now, {"login": "major_outage", "search": "partial_outage"},
             expected_end=now + timedelta(minutes=30))
    closed = closure(app, "login", now)
    assert closed.until == now + timedelta(minutes=30) and "/status/incidents/" in closed.url
    assert closure(app, "search", now) is None


def test_reads_stay_open_when_the_window_says_so(app, client, sm, now):
    maintenance(app, sm, now, starts_in=timedelta(minutes=-1), components=("login",), reads_open=True)
    assert client.get("/login").status_code == 200
    resp = client.post("/login", data={"card_number": "1", "secret": "1"})
    assert resp.status_code == 503 and "temporarily closed" in resp.text


def test_the_status_pages_feeds_json_and_editor_stay_open_during_any_closure(app, client, sm, now):
    with sm.begin() as s:
        factories.staff(s, now, "status_editor")
    everything = tuple(gate.COMPONENTS)
    maintenance(app, sm, now, starts_in=timedelta(minutes=-1), components=everything)
    for path in ("/status", "/status/history.atom", "/status/history.rss", "/status/maintenance.ics",
                 "/api/v2/summary.json", "/status/subscribe"):
        assert client.get(path).status_code == 200, path
    factories.login_staff(client)
    assert client.get("/staff/status").status_code == 200
    assert client.get("/reset").status_code == 503


def test_every_status_route_is_declared_always_open(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(("status.", "status_api.", "status_editor.")):
            assert gate.component_of_endpoint(app, rule.endpoint) == (None, False), rule.rule


def test_the_gate_answers_quickly_from_its_cache(app, sm, now):
    maintenance(app, sm, now, starts_in=timedelta(minutes=-1))
    for _ in range(3):
        incident(app, sm, now, {"search": "major_outage"})
    provider = StatusClosures()
    with app.test_request_context("/"):
        provider.closure("reader_apps", now, "en")  # loads the windows once
        started = time.perf_counter()
        for _ in range(2000):
            provider.closure("reader_apps", now, "en")
            provider.closure("cd_clubs", now, "en")
        per_call = (time.perf_counter() - started) / 4000
    assert per_call < 0.0005, per_call


def test_a_database_failure_leaves_the_gate_open(app, sm, now, monkeypatch):
    from app.status import gate_provider

    def broken(*args):
        raise RuntimeError("database unreachable")

    monkeypatch.setattr(gate_provider, "load_windows", broken)
    assert closure(app, "reader_apps", now) is None


def test_windows_end_without_a_reload_even_with_a_long_cache(app, client, sm, now):
    app.config["STATUS_CACHE_SECONDS"] = 3600
    maintenance(app, sm, now, starts_in=timedelta(minutes=10), hours=1, components=("password_reset",))
    assert client.get("/reset").status_code == 200
    set_clock(app, now + timedelta(minutes=10))
    assert client.get("/reset").status_code == 503
    set_clock(app, now + timedelta(hours=1, minutes=10))
    assert client.get("/reset").status_code == 200
