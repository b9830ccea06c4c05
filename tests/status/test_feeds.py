"""Atom and RSS parse with feedparser; the calendar parses with icalendar, keeps UIDs, raises SEQUENCE
and marks cancelled windows CANCELLED."""
from __future__ import annotations

from datetime import timedelta

import feedparser
import icalendar

from app.status import queries, service
from tests.status.helpers import incident, maintenance


def events(client, lang="en"):
    cal = icalendar.Calendar.from_ical(client.get(f"/status/maintenance.ics?lang={lang}").data)
    return {str(e["URL"]).rsplit("/", 1)[1]: e for e in cal.walk("VEVENT")}


def test_atom_feed_parses_and_has_an_entry_per_event_with_its_timeline(app, client, sm, now):
    mid = maintenance(app, sm, now)
    iid = incident(app, sm, now, {"login": "partial_outage"})
    resp = client.get("/status/history.atom")
    assert resp.status_code == 200 and resp.mimetype == "application/atom+xml"
    feed = feedparser.parse(resp.data)
    assert not feed.bozo and feed.version == "atom10"
    links = {e.link for e in feed.entries}
    assert links == {f"http://kuulo.test/status/maintenance/{mid}", f"http://kuulo.test/status/incidents/{iid}"}
    maint = next(e for e in feed.entries if "maintenance" in e.link)
    assert maint.title == "[Scheduled] System upgrade" and "The services are closed." in maint.content[0].value
    fi = feedparser.parse(client.get("/status/history.atom", headers={"Accept-Language": "fi"}).data)
    assert any("Järjestelmän päivitys" in e.title for e in fi.entries)


def test_rss_feed_parses(app, client, sm, now):
    maintenance(app, sm, now)
    feed = feedparser.parse(client.get("/status/history.rss").data)
    assert not feed.bozo and feed.version.startswith("rss")
    assert feed.entries[0].title == "[Scheduled] System upgrade"


def test_calendar_keeps_the_uid_raises_sequence_and_cancels(app, client, sm, now):
    mid = maintenance(app, sm, now)
    first = events(client)[str(mid)]
    assert first["STATUS"] == "CONFIRMED" and first["DTSTART"].dt == now + timedelta(days=21)
    with app.app_context(), sm.begin() as s:
        m = queries.maintenance(s, mid)
        service.reschedule_maintenance(s, m, scheduled_for=now + timedelta(days=22),
                                       scheduled_until=now + timedelta(days=22, hours=8),
                                       bodies={"en": "Moved by a day."}, actor="test", now=now)
    moved = events(client)[str(mid)]
    assert str(moved["UID"]) == str(first["UID"]) and int(moved["SEQUENCE"]) > int(first["SEQUENCE"])
    assert moved["DTSTART"].dt == now + timedelta(days=22) and "Moved by a day." in str(moved["DESCRIPTION"])
    with app.app_context(), sm.begin() as s:
        service.cancel_maintenance(s, queries.maintenance(s, mid), bodies={"en": "Not needed."}, actor="test",
                                   now=now)
    cancelled = events(client)[str(mid)]
    assert str(cancelled["UID"]) == str(first["UID"]) and cancelled["STATUS"] == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) > int(moved["SEQUENCE"])


def test_long_lines_are_folded_and_text_escaped(app, client, sm, now):
    long_title = "Pitkä otsikko, jossa on pilkkuja; puolipisteitä ja ääkkösiä " * 3
    maintenance(app, sm, now, titles={"fi": long_title})
    raw = client.get("/status/maintenance.ics?lang=fi").data
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    event = next(iter(events(client, "fi").values()))
    assert str(event["SUMMARY"]) == "[Suunniteltu] " + long_title.strip()  # state in the feed's language
