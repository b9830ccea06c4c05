"""Self-service demo data: the kiosk `kiosk-mikkeli` / `kuulo-demo-2026` at Lumme's Mikkeli branch, Mikkeli's
self-service hours 07:00–22:00, the demo patron 2000000001 with the terms accepted and the child 2000000005
with the terms but without a guardian's consent. Loading twice changes nothing."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import Patron
from app.circulation import service_selfservice as selfservice
from app.circulation.service_common import find_branch
from app.circulation.sip2.models import SelfServiceBranch, SelfServicePatron, SipTerminal

ACTOR = "system:demo"
TERMINAL = ("kiosk-mikkeli", "kuulo-demo-2026", "lumme/mikkeli")
PATRONS = [("2000000001", {"terms_accepted": True}), ("2000000005", {"terms_accepted": True})]


def load_demo(session: Session, now: datetime) -> dict[str, int]:
    created = 0
    name, password, branch = TERMINAL
    if session.scalar(select(SipTerminal.id).where(SipTerminal.name == name)) is None:
        selfservice.add_terminal(session, name=name, password=password, branch=branch, now=now, actor=ACTOR)
        created += 1
    mikkeli = find_branch(session, branch)
    if session.get(SelfServiceBranch, mikkeli.id) is None:
        selfservice.set_branch_self_service(session, branch=branch, opens="07:00", closes="22:00", now=now,
                                            actor=ACTOR)
    for card, standing in PATRONS:
        patron_id = session.scalar(select(Patron.id).where(Patron.card_number == card))
        if patron_id is not None and session.get(SelfServicePatron, patron_id) is None:
            selfservice.set_patron_self_service(session, patron_id, now=now, actor=ACTOR, **standing)
    return {"sip2 terminals": created}

