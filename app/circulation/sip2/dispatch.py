"""Which handler answers which SIP2 request."""
from __future__ import annotations

from collections.abc import Callable

from app.circulation.sip2 import handlers, items
from app.circulation.sip2.handlers import Context, TerminalState
from app.circulation.sip2.protocol import Message

Handler = Callable[[Context, TerminalState, Message], str]
HANDLERS: dict[str, Handler] = {
    "99": handlers.sc_status, "93": handlers.login, "35": handlers.end_session, "23": handlers.patron_status_request,
    "25": handlers.patron_enable, "01": handlers.block_patron, "63": handlers.patron_information,
    "11": items.checkout, "09": items.checkin, "29": items.renew, "65": items.renew_all,
    "17": items.item_information, "15": items.hold, "37": items.fee_paid,
}


def answer(ctx: Context, state: TerminalState, msg: Message) -> str:
    """The response text to one parsed request (93/99, or any request of a logged-in terminal)."""
    return HANDLERS[msg.code](ctx, state, msg)


def reads_only(msg: Message) -> bool:
    """Whether answering ``msg`` writes nothing (no PIN to count, no door decision to audit): it then runs in a
    read-only session, which on SQLite does not wait for the write lock."""
    return msg.code in ("99", "17", "35") or (msg.code in ("23", "63") and not msg.has("AD") and not msg.has("PA"))
