"""The patron's audiobook loans on circulation's loans page (/account/loans): lending registers this source
with circulation's registry (circulation may not import lending)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import url_for
from sqlalchemy.orm import Session

from app.circulation.account_loans import OtherLoan, register_source


def audiobook_loans(session: Session, patron_id: int, now: datetime) -> list[OtherLoan]:
    from app.lending import service

    return [OtherLoan(kind="audiobook", title=loan.audiobook.title, due_at=loan.until,
                      url=url_for("lending.loans"), renewable=True)
            for loan in service.active_loans(session, patron_id, now)]


def init_app(app: Any) -> None:
    register_source(app, audiobook_loans)
