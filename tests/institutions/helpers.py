"""Builders for institution tests: an application as the API and the form take it, links from the outbox."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from app.notify.models import OutboxMessage
from tests import factories

ADULT_ID = "150380-123P"  # born 15.3.1980
ADULT_ID_2023_SIGN = "010594Y308V"  # born 1.5.1994, century sign introduced in 2023
MINOR_ID = "010110A234K"  # born 1.1.2010: 16 on the tests' fixed date
VALID_BUSINESS_ID = "7654321-2"


def application(**changes: Any) -> dict[str, Any]:
    person = {"given_names": "Riitta", "surname": "Rehtori", "national_id": ADULT_ID,
              "email": "riitta@example.test", "phone": "+358402222222"}
    person.update(changes.pop("responsible_person", {}))
    body = {"name": "Esimerkkikoulu", "type": "school", "business_id": VALID_BUSINESS_ID,
            "street_address": "Koulutie 2", "postal_code": "33100", "city": "Tampere",
            "email": "rehtori@example.test", "phone": "+358401111111", "responsible_person": person,
            "consent": True}
    body.update(changes)
    return body


def form_data(**changes: Any) -> dict[str, Any]:
    """The same application as the HTML form posts it; ``changes`` use the form's names (rp_national_id …)."""
    body = application()
    person = body.pop("responsible_person")
    data = {k: v for k, v in body.items() if k != "consent"}
    data.update({f"rp_{k}": v for k, v in person.items()})
    data["consent"] = "y"
    data.update(changes)
    return data


def outbox(sm: Any, template: str | None = None) -> list[OutboxMessage]:
    with sm.begin() as s:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if template:
            query = query.where(OutboxMessage.template == template)
        rows = list(s.scalars(query))
        s.expunge_all()
    return rows


def link_in(body: str, path: str) -> str:
    match = re.search(r"http://kuulo\.test(" + re.escape(path) + r"\S+)", body)
    assert match, body
    return match.group(1)


def applicant_link(sm: Any) -> str:
    return link_in(outbox(sm, "institutions_application_received")[-1].body, "/institutions/application/")


def reviewer(sm: Any, now: Any, email: str = "reviewer@test.kuulo", name: str = "Test Staff") -> int:
    with sm.begin() as s:
        user = factories.staff(s, now, "reviewer", email=email)
        user.name = name
        return user.id


def apply_via_api(client: Any, **changes: Any) -> int:
    resp = client.post("/api/v1/institution-applications", json=application(**changes))
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]
