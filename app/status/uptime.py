"""Uptime over the last 90 days per component, as Statuspage's bars show it: each day's worst state and
the share of time without an outage (maintenance breaks are announced, so they do not count as downtime).

Pure: windows and incidents in, days out (the day boundaries are the library's time zone).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.status.states import maintenance_end, worst

DAYS = 90
OUTAGES = ("partial_outage", "major_outage")


@dataclass(frozen=True)
class Day:
    day: date
    status: str  # the worst state of the day ("operational" when nothing happened)


@dataclass(frozen=True)
class ComponentUptime:
    code: str
    name: str
    days: list[Day]  # oldest first, DAYS of them, today last
    percent: float  # of the period's time without a (partial or major) outage

    @property
    def eventful(self) -> list[Day]:
        """The days something happened (for the table alternative), newest first."""
        return [d for d in reversed(self.days) if d.status != "operational"]


def _spans(maintenances: Iterable, incidents: Iterable, now: datetime) -> list[tuple[str, str, datetime, datetime]]:
    """(component, status, start, end) for every break and every incident state in the period."""
    spans = []
    for m in maintenances:
        if m.cancelled_at is not None or m.scheduled_for >= now:
            continue
        end = min(maintenance_end(m), now)
        spans += [(c, "under_maintenance", m.scheduled_for, end) for c in m.components if end > m.scheduled_for]
    for incident in incidents:
        updates = sorted(incident.updates, key=lambda u: (u.display_at, u.id or 0))
        end_of_incident = incident.resolved_at or now
        for i, update in enumerate(updates):
            states = update.component_states if update.component_states is not None else incident.component_statuses
            start = update.display_at
            end = updates[i + 1].display_at if i + 1 < len(updates) else end_of_incident
            if update.status == "resolved" or end <= start:
                continue
            spans += [(c, s, start, end) for c, s in (states or {}).items() if s != "operational"]
    return spans


def _covered(intervals: list[tuple[datetime, datetime]]) -> float:
    """Seconds covered by the (sorted) intervals, overlaps counted once."""
    total, reach = 0.0, None
    for start, end in intervals:
        if reach is not None and start < reach:
            start = reach
        if end > start:
            total += (end - start).total_seconds()
        reach = max(reach, end) if reach is not None else end
    return total


def uptime(names: dict[str, str], maintenances: Iterable, incidents: Iterable, now: datetime,
           zone: ZoneInfo, days: int = DAYS) -> list[ComponentUptime]:
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    period_start = datetime.combine(first, time(), zone)
    spans = [s for s in _spans(maintenances, incidents, now) if s[3] > period_start]
    result = []
    for code, name in names.items():
        mine = [s for s in spans if s[0] == code]
        day_list = []
        for n in range(days):
            day = first + timedelta(days=n)
            start = datetime.combine(day, time(), zone)
            end = start + timedelta(days=1)
            day_list.append(Day(day, worst(s for _, s, a, b in mine if a < end and b > start)))
        down = _covered(sorted((max(a, period_start), min(b, now)) for _, s, a, b in mine if s in OUTAGES))
        total = max((now - period_start).total_seconds(), 1.0)
        result.append(ComponentUptime(code, name, day_list, round(100 * max(0.0, 1 - down / total), 2)))
    return result

