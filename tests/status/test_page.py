"""The public page: every language, state in words, 90 days of history, the demo data, the cache."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.status import load_demo, queries, service
from tests.status.helpers import incident, maintenance, set_clock


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_the_page_speaks_the_readers_language(client, lang):
    resp = client.get("/status", headers={"Accept-Language": lang})
    assert resp.status_code == 200 and f'<html lang="{lang}"' in resp.text
    assert resp.text.count("<h1") == 1 and resp.headers["Vary"] == "Accept-Language, Cookie"


@pytest.mark.parametrize("lang, situation", [
    ("fi", "Tilanne maanantaina 23.11.2026 klo 12.00."), ("en", "Situation on Monday 23 Nov 2026, 12:00."),
    ("sv", "måndag 23 nov. 2026 kl. 12:00"), ("cs", "pondělí 23. 11. 2026 12:00")])
def test_dates_use_the_sites_one_set_of_formats_with_the_weekday(client, lang, situation):
    html = client.get("/status", query_string={"lang": lang}).text
    assert situation in html
    assert "AM" not in html and "Eastern European" not in html and "11/23/26" not in html


def test_states_are_words_next_to_decorative_icons(app, client, sm, now):
    incident(app, sm, now, {"search": "partial_outage"})
    html = client.get("/status").text
    assert '<span class="status-icon" aria-hidden="true"><svg class="status-svg"' in html
    assert '</svg></span> Partial outage' in html
    assert not any(0x1F300 <= ord(ch) <= 0x1FAFF for ch in html)  # no emoji: they need a font to show
    assert "Investigating" in html and "Some services are partly out of order" in html


def test_history_covers_the_last_90_days(app, client, sm, now):
    old = maintenance(app, sm, now - timedelta(days=100), starts_in=timedelta(days=1), hours=1,
                      titles={"en": "Long ago"})
    recent = maintenance(app, sm, now - timedelta(days=10), starts_in=timedelta(days=1), hours=1,
                         titles={"en": "Last month"})
    html = client.get("/status").text
    assert "Last month" in html and f"/status/maintenance/{recent}" in html
    assert "Long ago" not in html and f"/status/maintenance/{old}" not in html
    assert "History of the last 90 days" in html and "November 2026" in html


def test_the_cached_page_follows_changes_and_the_clock(app, client, sm, now):
    assert "No maintenance breaks are planned." in client.get("/status").text
    mid = maintenance(app, sm, now, starts_in=timedelta(minutes=30), hours=1)
    assert "System upgrade" in client.get("/status").text  # the commit dropped the cached page
    set_clock(app, now + timedelta(minutes=31))
    assert "In progress" in client.get("/status").text  # the window's start ends the cached copy
    with app.app_context(), sm.begin() as s:
        service.complete_maintenance(s, queries.maintenance(s, mid), bodies={}, actor="t",
                                     now=now + timedelta(minutes=31))
    assert "No maintenance breaks or disruptions right now." in client.get("/status").text


def test_logged_in_visitors_get_their_own_page(app, client, sm, now):
    from tests import factories

    client.get("/status")  # cached for anonymous visitors
    with sm.begin() as s:
        factories.staff(s, now, "status_editor")
    factories.login_staff(client)
    resp = client.get("/status")
    assert "Log out" in resp.text and resp.headers["Cache-Control"] == "private, no-store"


def test_an_unknown_event_is_404(client):
    assert client.get("/status/maintenance/999").status_code == 404
    assert client.get("/status/incidents/999").status_code == 404


def test_demo_data_is_idempotent_and_has_a_past_and_an_upcoming_window(app, client, sm, now):
    with sm.begin() as s:
        assert load_demo(s, now) == {"new maintenance breaks": 2}
    with sm.begin() as s:
        assert load_demo(s, now) == {"new maintenance breaks": 0}
    doc = client.get("/api/v2/scheduled-maintenances.json").json["scheduled_maintenances"]
    assert sorted(m["status"] for m in doc) == ["completed", "scheduled"]
    past = next(m for m in doc if m["status"] == "completed")
    assert any("9:55" in u["body"] for u in past["incident_updates"]) and len(past["incident_updates"]) == 3
    upcoming = next(m for m in doc if m["status"] == "scheduled")
    assert upcoming["scheduled_for"].startswith("2026-12-14")  # three weeks ahead
    assert len(doc[0]["components"]) >= 3
