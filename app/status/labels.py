"""Words for the codes (states, statuses, impacts) and the date formats, in the reader's language.

States are always said in words (and shown with an icon), never by colour alone.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from babel import Locale
from babel.dates import format_datetime
from flask_babel import get_locale, get_timezone
from flask_babel import lazy_gettext as _l

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
# Icons (decorative: the word is always next to them), one shape per status.
ICONS = {"operational": "✓", "under_maintenance": "🔧", "degraded_performance": "◔", "partial_outage": "◑",
         "major_outage": "✕", "scheduled": "🗓", "in_progress": "🔧", "verifying": "🔍", "completed": "✓",
         "cancelled": "⊘", "investigating": "🔍", "identified": "!", "monitoring": "👁", "resolved": "✓"}

# Date patterns per language (CLDR); times are shown in the library's time zone (BABEL_DEFAULT_TIMEZONE).
PATTERNS = {
    "fi": {"when": "EEEE d.M.yyyy 'klo' H.mm", "clock": "H.mm", "day": "EEEE d.M.yyyy", "month": "LLLL yyyy"},
    "sv": {"when": "EEEE d MMMM yyyy 'kl.' HH.mm", "clock": "HH.mm", "day": "EEEE d MMMM yyyy",
           "month": "LLLL yyyy"},
    "en": {"when": "EEEE d MMMM yyyy 'at' HH:mm", "clock": "HH:mm", "day": "EEEE d MMMM yyyy",
           "month": "LLLL yyyy"},
}


def _language() -> str:
    locale = get_locale()
    return locale.language if locale and locale.language in PATTERNS else "en"


def when(value: datetime | None, kind: str = "when") -> str:
    if not isinstance(value, datetime):
        return ""
    language = _language()
    return format_datetime(value, PATTERNS[language][kind], tzinfo=get_timezone(), locale=language)


def language_name(code: str) -> str:
    """The name of language ``code`` in the reader's language ("ruotsi", "Swedish")."""
    return Locale.parse(_language()).languages.get(code, code)


def component(code: str) -> str:
    from app.status.texts import component_name

    return component_name(code, _language())


def jinja_globals() -> dict[str, Any]:
    return {"status_component_name": component, "status_language_labels": LANGUAGE_LABELS,"status_words": {"maintenance": MAINTENANCE_STATES, "incident": INCIDENT_STATES,
                             "component": COMPONENT_STATUSES, "impact": IMPACTS, "rollup": ROLLUP,
                             "kind": UPDATE_KINDS},
            "status_icons": ICONS, "status_language_name": language_name}
