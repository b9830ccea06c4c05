"""Words for the codes (states, statuses, impacts) and the date formats, in the reader's language.

States are always said in words (and shown with an icon), never by colour alone.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from app.i18n import format_clock, format_day, format_moment, format_month

MAINTENANCE_STATES = {
    "scheduled": _l("Scheduled"), "in_progress": _l("In progress"), "verifying": _l("Verifying"),
    "completed": _l("Completed"), "cancelled": _l("Cancelled"),
}
INCIDENT_STATES = {
    "investigating": _l("Investigating"), "identified": _l("Identified"), "monitoring": _l("Monitoring"),
    "resolved": _l("Resolved"),
}
COMPONENT_STATUSES = {
    "operational": _l("Operational"), "under_maintenance": _l("Under maintenance"),
    "degraded_performance": _l("Degraded performance"), "partial_outage": _l("Partial outage"),
    "major_outage": _l("Major outage"),
}
LANGUAGE_LABELS = {"fi": _l("Finnish"), "sv": _l("Swedish"), "en": _l("English")}
IMPACTS = {"none": _l("No impact"), "minor": _l("Minor impact"), "major": _l("Major impact"),
           "critical": _l("Critical impact")}
ROLLUP = {
    "All Systems Operational": _l("All services are working normally"),
    "Service Under Maintenance": _l("Some services are closed for maintenance"),
    "Partially Degraded Service": _l("Some services are slower than usual"),
    "Minor Service Outage": _l("Some services have minor problems"),
    "Partial System Outage": _l("Some services are partly out of order"),
    "Major System Outage": _l("Some services are out of order"),
}
# What happened, for timeline entries that the editor did not write themselves.
UPDATE_KINDS = {
    "created": _l("Announced."), "started": _l("The maintenance break has started."),
    "completed": _l("The maintenance break is over and the services are open again."),
    "rescheduled": _l("The time of the maintenance break has changed."),
    "cancelled": _l("The maintenance break has been cancelled."), "note": "",
}
NO_SNAPSHOT = _l("The status page cannot be shown right now: the service is unreachable and no saved copy "
                 "exists yet. Please try again later.")
# Icons (decorative: the word is always next to them), one shape per status: inline SVG drawn with the
# text colour, so they show without any emoji font and follow high-contrast modes.
_SHAPES = {
    "check": '<path d="M3 8.5 6.5 12 13 4" fill="none" stroke="currentColor" stroke-width="2"/>',
    "wrench": '<path d="M10.5 1.5a4 4 0 0 0-3.8 5.2L1.5 11.9l2.6 2.6 5.2-5.2a4 4 0 0 0 5.2-3.8l-2.3 2.3-2.5-.5-.5-2.5z" '
              'fill="currentColor"/>',
    "half": '<circle cx="8" cy="8" r="6" fill="none" stroke="currentColor" stroke-width="1.6"/>'
            '<path d="M8 2a6 6 0 0 1 0 12z" fill="currentColor"/>',
    "warning": '<path d="M8 1.5 15 14H1z" fill="none" stroke="currentColor" stroke-width="1.6" '
               'stroke-linejoin="round"/><path d="M8 6v4M8 11.5v1.5" stroke="currentColor" stroke-width="1.6"/>',
    "cross": '<circle cx="8" cy="8" r="6.5" fill="currentColor"/><path d="M5.5 5.5l5 5M10.5 5.5l-5 5" '
             'stroke="#fff" stroke-width="1.8"/>',
    "calendar": '<rect x="2" y="3" width="12" height="11" fill="none" stroke="currentColor" stroke-width="1.5"/>'
                '<path d="M2 6.5h12M5 1.5v3M11 1.5v3" stroke="currentColor" stroke-width="1.5"/>',
    "search": '<circle cx="7" cy="7" r="4.5" fill="none" stroke="currentColor" stroke-width="1.8"/>'
              '<path d="M10.3 10.3 14.5 14.5" stroke="currentColor" stroke-width="2"/>',
    "cancel": '<circle cx="8" cy="8" r="6" fill="none" stroke="currentColor" stroke-width="1.6"/>'
              '<path d="M3.8 12.2 12.2 3.8" stroke="currentColor" stroke-width="1.6"/>',
    "bang": '<path d="M8 2v8M8 12.5v2" stroke="currentColor" stroke-width="2.2"/>',
    "eye": '<path d="M1 8s2.5-4.5 7-4.5S15 8 15 8s-2.5 4.5-7 4.5S1 8 1 8z" fill="none" stroke="currentColor" '
           'stroke-width="1.5"/><circle cx="8" cy="8" r="2" fill="currentColor"/>',
}
_ICON_SHAPES = {"operational": "check", "under_maintenance": "wrench", "degraded_performance": "half",
                "partial_outage": "warning", "major_outage": "cross", "scheduled": "calendar",
                "in_progress": "wrench", "verifying": "search", "completed": "check", "cancelled": "cancel",
                "investigating": "search", "identified": "bang", "monitoring": "eye", "resolved": "check"}
ICONS = {code: Markup('<svg class="status-svg" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" '
                      f'focusable="false">{_SHAPES[shape]}</svg>')
         for code, shape in _ICON_SHAPES.items()}

# Date patterns per language (CLDR); times are shown in the library's time zone (BABEL_DEFAULT_TIMEZONE).
def update_text(update: Any) -> str:
    """An update's text for feeds and JSON; a cancelled break's says "Cancelled" (its Statuspage status
    stays "completed")."""
    text = update.body.text or str(UPDATE_KINDS.get(update.kind, ""))
    if update.kind == "cancelled" and update.body.text:
        return f"{MAINTENANCE_STATES['cancelled']}: {text}"
    return text


def _language() -> str:
    """The reader's language among the status texts' languages (fi, sv, en; others read English)."""
    locale = get_locale()
    return locale.language if locale and locale.language in ("fi", "sv", "en") else "en"


def when(value: datetime | None, kind: str = "when") -> str:
    """A moment of the status page in the site's one set of formats (app/i18n.py), with the weekday where
    people plan around it: "when" (day and time), "day", "clock" or "month"."""
    if not isinstance(value, datetime):
        return ""
    if kind == "clock":
        return format_clock(value)
    if kind == "month":
        return format_month(value)
    if kind == "day":
        return format_day(value, weekday=True)
    return format_moment(value, weekday=True)


def language_name(code: str) -> str:
    """The name of language ``code`` in the reader's language ("ruotsi", "Swedish")."""
    return Locale.parse(_language()).languages.get(code, code)


def component(code: str) -> str:
    from app.status.texts import component_name

    return component_name(code, _language())


def reach(code: str) -> tuple[str, str]:
    """(what closes, what stays open) with component ``code``, in the reader's language."""
    from app.status.texts import component_reach

    return component_reach(code, _language())


def jinja_globals() -> dict[str, Any]:
    return {"status_component_name": component, "status_component_reach": reach, "status_language_labels": LANGUAGE_LABELS,"status_words": {"maintenance": MAINTENANCE_STATES, "incident": INCIDENT_STATES,
                             "component": COMPONENT_STATUSES, "impact": IMPACTS, "rollup": ROLLUP,
                             "kind": UPDATE_KINDS},
            "status_icons": ICONS, "status_language_name": language_name}
