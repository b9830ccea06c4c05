"""Feeds of the status page: Atom and RSS (one entry per event, its whole timeline as the content) and
an iCalendar feed of the planned windows (the UID never changes; SEQUENCE rises with every change;
a cancelled window stays in the feed as STATUS:CANCELLED so calendars remove it)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from email.utils import format_datetime as rfc822
from html import escape

from flask import current_app
from flask_babel import gettext as _

from app.status import labels
from app.status.queries import EventView, StatusView

ATOM = "http://www.w3.org/2005/Atom"


def _base() -> str:
    return current_app.config["BASE_URL"].rstrip("/")


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def state_word(event: EventView) -> str:
    words = labels.MAINTENANCE_STATES if event.kind == "maintenance" else labels.INCIDENT_STATES
    return str(words.get(event.state, event.state))


def headline(event: EventView) -> str:
    """The title shows the state: "[In progress] Migration of the e-library"."""
    return f"[{state_word(event)}] {event.title.text}"


def timeline_html(event: EventView) -> str:
    parts = []
    if event.kind == "maintenance":
        parts.append("<p>" + escape(_("Planned: %(start)s – %(end)s", start=labels.when(event.scheduled_for),
                                      end=labels.when(event.scheduled_until))) + "</p>")
    for update in event.updates:
        text = labels.update_text(update)
        parts.append(f"<p><small>{escape(labels.when(update.display_at))}</small><br>"
                     f"<strong>{escape(_status_word(event, update.shown_status))}</strong> – {escape(text)}</p>")
    return "\n".join(parts)


def _status_word(event: EventView, status: str) -> str:
    words = labels.MAINTENANCE_STATES if event.kind == "maintenance" else labels.INCIDENT_STATES
    return str(words.get(status, status))


def _feed_events(view: StatusView) -> list[EventView]:
    return sorted(view.events, key=lambda e: e.updated_at, reverse=True)


def atom(view: StatusView) -> bytes:
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": view.language})
    ET.SubElement(feed, f"{{{ATOM}}}id").text = _base() + "/status/history.atom"
    ET.SubElement(feed, f"{{{ATOM}}}title").text = _("Kuulo service status")
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = _iso(view.updated_at)
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "alternate", "type": "text/html", "href": _base() + "/status"})
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "self", "type": "application/atom+xml",
                                            "href": _base() + "/status/history.atom"})
    ET.SubElement(ET.SubElement(feed, f"{{{ATOM}}}author"), f"{{{ATOM}}}name").text = "Kuulo"
    for event in _feed_events(view):
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}id").text = _base() + event.path
        ET.SubElement(entry, f"{{{ATOM}}}title").text = headline(event)
        ET.SubElement(entry, f"{{{ATOM}}}published").text = _iso(event.created_at)
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = _iso(event.updated_at)
        ET.SubElement(entry, f"{{{ATOM}}}link", {"rel": "alternate", "type": "text/html", "href": _base() + event.path})
        ET.SubElement(entry, f"{{{ATOM}}}content", {"type": "html"}).text = timeline_html(event)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def rss(view: StatusView) -> bytes:
    root = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(root, "channel")
    ET.SubElement(channel, "title").text = _("Kuulo service status")
    ET.SubElement(channel, "link").text = _base() + "/status"
    ET.SubElement(channel, "description").text = _("Maintenance breaks and incidents of Kuulo's services")
    ET.SubElement(channel, "language").text = view.language
    ET.SubElement(channel, "lastBuildDate").text = rfc822(view.updated_at.astimezone(UTC))
    for event in _feed_events(view):
        item = ET.SubElement(channel, "item")
        ET.SubElement(item, "title").text = headline(event)
        ET.SubElement(item, "link").text = _base() + event.path
        ET.SubElement(item, "guid", {"isPermaLink": "true"}).text = _base() + event.path
        ET.SubElement(item, "pubDate").text = rfc822(event.updated_at.astimezone(UTC))
        ET.SubElement(item, "description").text = timeline_html(event)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _ics_text(value: str) -> str:
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """RFC 5545 §3.1: lines of at most 75 octets, continued with CRLF + space (never inside a UTF-8 character)."""
    out, current = [], b""
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > (75 if not out else 74):
            out.append(current.decode("utf-8"))
            current = b""
        current += encoded
    out.append(current.decode("utf-8"))
    return "\r\n ".join(out)


def _ics_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def ics(view: StatusView) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Kuulo//Status page//EN", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", "X-WR-CALNAME:" + _ics_text(_("Kuulo maintenance breaks")),
             "X-PUBLISHED-TTL:PT15M"]
    for event in sorted((e for e in view.events if e.kind == "maintenance"), key=lambda e: e.starts_at):
        latest = event.updates[0] if event.updates else None
        text = labels.update_text(latest) if latest else ""
        description = "\n\n".join(filter(None, [text, _("More: %(url)s", url=_base() + event.path)]))
        lines += ["BEGIN:VEVENT", f"UID:{event.uid}", f"SEQUENCE:{event.sequence}",
                  f"DTSTAMP:{_ics_time(event.updated_at)}", f"CREATED:{_ics_time(event.created_at)}",
                  f"LAST-MODIFIED:{_ics_time(event.updated_at)}", f"DTSTART:{_ics_time(event.starts_at)}",
                  f"DTEND:{_ics_time(event.ends_at or event.starts_at)}",
                  "SUMMARY:" + _ics_text(headline(event)), "DESCRIPTION:" + _ics_text(description),
                  "URL:" + _base() + event.path,
                  "STATUS:" + ("CANCELLED" if event.state == "cancelled" else "CONFIRMED"),
                  "TRANSP:TRANSPARENT", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode("utf-8")
