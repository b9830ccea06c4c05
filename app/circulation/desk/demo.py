"""Demo data of the desk: the demo desk clerk works at Lumme's Mikkeli branch."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import StaffUser
from app.circulation.models import Branch, CircLibrary, DeskStaffBranch

DESK_STAFF = [("desk@demo.kuulo.test", "lumme", "mikkeli")]


def load_demo(session: Session, now: datetime) -> dict[str, int]:
    placed = 0
    for email, library, branch_code in DESK_STAFF:
        staff_id = session.scalar(select(StaffUser.id).where(StaffUser.email == email))
        branch_id = session.scalar(select(Branch.id).join(CircLibrary, CircLibrary.id == Branch.library_id)
                                   .where(CircLibrary.code == library, Branch.code == branch_code))
        if staff_id is None or branch_id is None or session.get(DeskStaffBranch, staff_id) is not None:
            continue
        session.add(DeskStaffBranch(staff_user_id=staff_id, branch_id=branch_id, updated_at=now))
        placed += 1
    session.flush()
    return {"desk staff placed": placed}
