"""The self-service door's JSON API: a door controller asks, with its own terminal credentials (HTTP Basic),
whether a card + PIN may open the door of its branch now."""
from __future__ import annotations

from datetime import datetime
from functools import wraps
from typing import Any, Literal

from flask import Blueprint, current_app, g, request

from app import clock, db, gate
from app.accounts.auth import unauthorized
from app.circulation import service_selfservice as selfservice
from app.circulation.models import Branch
from app.circulation.sip2.server import throttle_policy
from app.errors import problem
from app.platform.contract import Answer, Body, Text, operation

bp = Blueprint("selfservice_api", __name__, url_prefix="/api/v1/self-service")
TAGS = ["self-service"]
DoorReason = Literal[selfservice.DOOR_REASONS]  # type: ignore[valid-type]


class DoorCheckRequest(Body):
    card: Text(20, "The library card number")
    pin: Text(4, "The card's four-digit PIN")
    branch: Text(81, "The branch whose door asks: its code (or library/branch); the terminal's own branch")


class DoorCheck(Answer):
    omit_none = True
    permitted: bool
    reason: DoorReason  # type: ignore[valid-type]
    open_until: datetime | None = None


def terminal_required(view: Any) -> Any:
    """HTTP Basic with a terminal's name and password (before the body is read): 401 otherwise."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        auth = request.authorization
        session = db.session()
        terminal = selfservice.authenticate_terminal(session, auth.username or "", auth.password or "", clock.now(),
                                                     throttle_policy(current_app)) \
            if auth is not None and auth.type == "basic" else None
        if terminal is None:
            session.commit()  # a wrong password counts towards the terminal's lockout
            return unauthorized("invalid-credentials", headers={"WWW-Authenticate": 'Basic realm="Kuulo self-service"'})
        g.sip_terminal = terminal
        return view(*args, **kwargs)

    return wrapped


@bp.post("/door-checks")
@terminal_required
@gate.always_open  # a break closes the door by its answer ("closed_for_maintenance"), not by a 503
@operation("May this card and PIN open the self-service door now? (door controllers; audited)", tags=TAGS,
           body=DoorCheckRequest, security=("sipTerminal",),
           responses={200: (DoorCheck, "The decision: `permitted`, the `reason` (the first rule that refused, or "
                                       "`permitted`) and, when permitted, the end of today's self-service hours"),
                      403: "The terminal belongs to another branch"})
def door_check(body: DoorCheckRequest) -> Any:
    terminal = g.sip_terminal
    session = db.session()
    own = session.get(Branch, terminal.branch_id)
    assert own is not None
    if body.branch.rpartition("/")[2] != own.code:
        return problem(403, "forbidden", branch=body.branch)
    session.commit()  # end the terminal check's transaction: the status provider reads with its own session
    now = clock.now()
    closed = gate.closure_for("self_service", now, terminal.language) is not None
    decision = selfservice.door_check(session, card=body.card, pin=body.pin, branch=own.code, now=now,
                                      actor=f"sip2:{terminal.name}", throttle_policy=throttle_policy(current_app),
                                      closed=closed, library_id=own.library_id)
    session.commit()
    return DoorCheck(permitted=decision.permitted, reason=decision.reason, open_until=decision.open_until)
