"""Done when: a window announced three weeks ahead — advance emails once, 503 + Retry-After at its
start, an update in the timeline, Atom and ICS, and everything open again at its end, by itself."""
from __future__ import annotations

from datetime import timedelta

import feedparser
import icalendar

from app import scheduler
from tests import factories
from tests.status.helpers import get_maintenance, outbox, set_clock


def announce(client, start, end) -> int:
    fmt = "%Y-%m-%dT%H:%M"
    # Times are typed in Finnish time (UTC+2 in winter).
    resp = client.post("/staff/status/maintenance/new", data={
        "title_fi": "E-kirjaston siirto", "title_sv": "Flytt av e-biblioteket", "title_en": "E-library migration",
        "body_fi": "Rekisteröinti ja salasanan vaihto ovat kiinni.", "body_en": "Registration and resets are closed.",
        "starts": (start + timedelta(hours=2)).strftime(fmt), "ends": (end + timedelta(hours=2)).strftime(fmt),
        "components": ["password_reset", "reader_apps", "registration"]})
    assert resp.status_code == 302, resp.text
    return int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def test_a_planned_window_from_announcement_to_reopening(app, client, sm, now):
    with sm.begin() as s:
        factories.staff(s, now, "status_editor", email="editor@test.kuulo")
        for i in range(3):
            factories.patron(s, now, email=f"reader{i}@test.kuulo", language=("fi", "sv", "en")[i], pin=None)
        factories.patron(s, now, email="", pin=None)  # no email: no notice
    factories.login_staff(client, "editor@test.kuulo")
    start, end = now + timedelta(days=21), now + timedelta(days=21, hours=6)
    mid = announce(client, start, end)
    m = get_maintenance(sm, mid)
    assert (m.scheduled_for, m.scheduled_until) == (start, end)

    # Advance notices: once to every patron with an email, however often the job runs.
    for _ in range(2):
        scheduler.run_job(app, "status-send-notices", now)
    advance = outbox(sm, f"status:m{mid}:advance:")
    assert sorted(msg.recipient for msg in advance) == ["reader0@test.kuulo", "reader1@test.kuulo",
                                                        "reader2@test.kuulo"]
    assert {msg.language for msg in advance} == {"fi", "sv", "en"}
    assert "E-kirjaston siirto" in next(msg for msg in advance if msg.language == "fi").subject
    assert all("/status/notices/stop/" in msg.body for msg in advance)

    # The day before: a reminder, once.
    day_before = start - timedelta(hours=20)
    for _ in range(2):
        scheduler.run_job(app, "status-send-notices", day_before)
    assert len(outbox(sm, f"status:m{mid}:reminder:")) == 3
    assert len(outbox(sm, f"status:m{mid}:advance:")) == 3

    # At the start the gated services refuse new work — no job has run: the state is computed on read.
    set_clock(app, start + timedelta(minutes=1))
    resp = client.get("/reset")
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == str(int((end - start - timedelta(minutes=1)).total_seconds()) + 1)
    assert f"/status/maintenance/{mid}" in resp.text
    api = client.post("/api/v1/books/1/borrow", headers={"Authorization": "Bearer any"})
    assert api.status_code == 503 and api.mimetype == "application/problem+json"
    # signing in a new device is "login", not borrowing: it stays open (it answers 401 for a wrong PIN here)
    assert client.post("/api/v1/token", headers={"Authorization": "Basic MjAwMDAwMDAwMToxMjM0"}).status_code != 503
    assert api.json["announcement_url"] == f"http://kuulo.test/status/maintenance/{mid}"
    assert "Retry-After" in api.headers
    assert client.get("/login").status_code == 200  # not in the window
    page = client.get("/status")
    assert page.status_code == 200 and "In progress" in page.text and "Under maintenance" in page.text
    summary = client.get("/api/v2/summary.json").json
    assert summary["scheduled_maintenances"][0]["status"] == "in_progress"
    assert {c["id"]: c["status"] for c in summary["components"]}["password_reset"] == "under_maintenance"

    # An update: in the timeline, the Atom feed and the calendar (same UID, higher SEQUENCE).
    before = icalendar.Calendar.from_ical(client.get("/status/maintenance.ics").data)
    uid_before, seq_before = _event(before, mid)
    resp = client.post(f"/staff/status/maintenance/{mid}/update", data={
        "update-body_en": "Edited at 9:55: the migration goes well.", "update-body_fi": "Muokattu klo 9.55: hyvin menee."})
    assert resp.status_code == 302
    assert "Edited at 9:55: the migration goes well." in client.get(f"/status/maintenance/{mid}").text
    feed = feedparser.parse(client.get("/status/history.atom").data)
    assert not feed.bozo
    entry = next(e for e in feed.entries if e.link.endswith(f"/status/maintenance/{mid}"))
    assert "the migration goes well" in entry.content[0].value and "In progress" in entry.title
    after = icalendar.Calendar.from_ical(client.get("/status/maintenance.ics").data)
    uid_after, seq_after = _event(after, mid)
    assert uid_after == uid_before and seq_after > seq_before
    vevent = next(c for c in after.walk("VEVENT") if str(c["UID"]) == uid_after)
    assert "the migration goes well" in str(vevent["DESCRIPTION"])

    # At the end everything reopens by itself, before any job runs; the job then writes it down once.
    set_clock(app, end + timedelta(seconds=1))
    assert client.get("/reset").status_code == 200
    assert "Completed" in client.get(f"/status/maintenance/{mid}").text
    for _ in range(2):
        scheduler.run_job(app, "status-move-maintenance", end + timedelta(minutes=1))
    m = get_maintenance(sm, mid)
    assert m.state == "completed" and m.completed_at == end
    assert [u.kind for u in m.updates].count("completed") == 1
    done = [msg for msg in outbox(sm, f"status:m{mid}:u") if msg.template == "status_completed"]
    assert sorted(msg.recipient for msg in done) == ["reader0@test.kuulo", "reader1@test.kuulo",
                                                     "reader2@test.kuulo"]


def _event(calendar, mid):
    for component in calendar.walk("VEVENT"):
        if str(component["URL"]).endswith(f"/status/maintenance/{mid}"):
            return str(component["UID"]), int(component["SEQUENCE"])
    raise AssertionError("event not in the calendar")


def test_the_job_moves_states_once_and_a_late_job_changes_nothing_readers_see(app, client, sm, now):
    from tests.status.helpers import maintenance

    mid = maintenance(app, sm, now, starts_in=timedelta(hours=1), hours=2)
    set_clock(app, now + timedelta(hours=1, minutes=5))
    before = client.get("/api/v2/scheduled-maintenances/active.json").json["scheduled_maintenances"]
    assert [m["status"] for m in before] == ["in_progress"]
    scheduler.run_job(app, "status-move-maintenance", now + timedelta(hours=1, minutes=5))
    scheduler.run_job(app, "status-move-maintenance", now + timedelta(hours=1, minutes=6))
    m = get_maintenance(sm, mid)
    assert m.state == "in_progress" and [u.kind for u in m.updates] == ["created", "started"]
    started = m.updates[1]
    assert started.display_at == now + timedelta(hours=1)  # when it started, not when the job ran
    after = client.get("/api/v2/scheduled-maintenances/active.json").json["scheduled_maintenances"]
    assert [m["status"] for m in after] == ["in_progress"]
