"""The status package's answer to the gate: is this component closed now, until when, and why?

Asked on every gated request, so it must be quick: the open and coming windows (and the open incidents
that put a component under maintenance or out of order) are read once into a small list, kept for
``STATUS_CACHE_SECONDS`` and dropped at once when this process commits a change; each request then
only compares times. Start and end need no reload: the window's own times decide, per request.
If the database cannot be read the gate stays open (the route itself will say what is wrong).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app
from sqlalchemy import select

from app.gate import Closure, Notice
from app.status import cache
from app.status.models import Incident, Maintenance
from app.status.notices import public_url
from app.status.states import CLOSING_STATUSES
from app.status.texts import component_name, pick


@dataclass(frozen=True)
class Window:
    components: frozenset[str]
    starts: datetime
    ends: datetime | None  # None: until resolved (incidents)
    until: datetime | None  # the expected end, for Retry-After
    titles: dict[str, str]
    path: str
    reads_open: bool

    def covers(self, component: str, now: datetime) -> bool:
        return component in self.components and self.starts <= now and (self.ends is None or now < self.ends)


def load_windows(app: Flask, now: datetime) -> tuple[list[Window], None]:
    # A read-only session: it is also read while a page renders (the banner, closed forms), when the
    # request's own session may hold SQLite's write lock.
    with app.extensions["kuulo.read_sessionmaker"]() as session:
        windows = [Window(frozenset(m.components), m.scheduled_for, m.scheduled_until, m.scheduled_until,
                          dict(m.titles), f"/status/maintenance/{m.id}", m.reads_open)
                   for m in session.scalars(select(Maintenance).where(
                       Maintenance.cancelled_at.is_(None), Maintenance.completed_at.is_(None),
                       Maintenance.scheduled_until > now))]
        for incident in session.scalars(select(Incident).where(Incident.status != "resolved")):
            closed = frozenset(c for c, s in incident.component_statuses.items() if s in CLOSING_STATUSES)
            if closed:
                windows.append(Window(closed, incident.started_at, None, incident.expected_end,
                                      dict(incident.titles), f"/status/incidents/{incident.id}", incident.reads_open))
    return windows, None


class StatusClosures:
    """The ClosureProvider registered with ``app.gate``."""

    def component_name(self, component: str, language: str) -> str:
        """The component as users say it ("Patron registration"), for the banner and the closed pages."""
        return component_name(component, language)

    def status_url(self) -> str:
        return public_url("/status")

    def closure(self, component: str, now: datetime, language: str) -> Closure | None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        try:
            windows = cache.cached(app, "gate-windows", now, lambda: load_windows(app, now))
        except Exception:  # the database is unreachable: do not turn every page into an error here
            app.logger.warning("status gate: could not read the maintenance windows", exc_info=True)
            return None
        covering = [w for w in windows if w.covers(component, now)]
        if not covering:
            return None
        # Several at once: the one that lasts longest (or has no known end) decides; reads stay open only if every one allows it.
        last = max(covering, key=lambda w: (w.until is None, w.until or now))
        return Closure(component, last.until, public_url(last.path), pick(last.titles, language).text,
                       reads_open=all(w.reads_open for w in covering))

    def notices(self, component: str, now: datetime, language: str) -> list[Notice]:
        """Breaks and incidents of ``component`` that are on now or still to come, soonest first."""
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        try:
            windows = cache.cached(app, "gate-windows", now, lambda: load_windows(app, now))
        except Exception:
            app.logger.warning("status gate: could not read the maintenance windows", exc_info=True)
            return []
        found = []
        for w in sorted(windows, key=lambda w: (w.starts, w.path)):
            if component not in w.components or (w.ends is not None and w.ends <= now):
                continue
            title = pick(w.titles, language)
            found.append(Notice(w.path.strip("/").split("/", 1)[1].replace("/", "-"), component, w.starts, w.until,
                                public_url(w.path), title.text, title.language, w.starts <= now))
        return found
