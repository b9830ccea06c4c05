"""Builders for the status tests: windows and incidents through the real services, moving the clock."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.notify.models import OutboxMessage
from app.status import service
from app.status.models import Maintenance

TITLES = {"fi": "Järjestelmän päivitys", "sv": "Uppdatering av systemet", "en": "System upgrade"}
BODIES = {"fi": "Palvelut ovat kiinni.", "sv": "Tjänsterna är stängda.", "en": "The services are closed."}


def maintenance(app: Any, sm: Any, now: datetime, *, starts_in: timedelta = timedelta(days=21),
                hours: float = 4, components: tuple[str, ...] = ("password_reset", "reader_apps"),
                reads_open: bool = False, titles: dict[str, str] | None = None) -> int:
    with app.app_context(), sm.begin() as s:
        m = service.create_maintenance(
            s, titles=titles or TITLES, bodies=BODIES, components=list(components),
            scheduled_for=now + starts_in, scheduled_until=now + starts_in + timedelta(hours=hours),
            reads_open=reads_open, actor="test", now=now)
        return m.id


def incident(app: Any, sm: Any, now: datetime, component_statuses: dict[str, str], *, impact: str = "major",
             expected_end: datetime | None = None) -> int:
    with app.app_context(), sm.begin() as s:
        return service.create_incident(
            s, titles={"en": "Login problems", "fi": "Kirjautumisongelmia"}, bodies={"en": "We are looking into it."},
            impact=impact, status="investigating", component_statuses=component_statuses, reads_open=False,
            expected_end=expected_end, actor="test", now=now).id


def get_maintenance(sm: Any, maintenance_id: int) -> Maintenance:
    with sm() as s:
        m = s.get(Maintenance, maintenance_id)
        _ = m.updates
        s.expunge_all()
        return m


def set_clock(app: Any, when: datetime) -> None:
    app.config["FAKE_NOW"] = when.isoformat()


def outbox(sm: Any, prefix: str = "status:") -> list[OutboxMessage]:
    with sm() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.key.startswith(prefix))
                              .order_by(OutboxMessage.id)))
