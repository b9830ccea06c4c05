"""Other domains hear of a patron's changed credentials here, without accounts importing them.

A domain that keeps sessions of its own (DAISY players' sessions, in lending) subscribes at start-up with
``on_change(listener)``; ``changed`` is called where a PIN or password is set (``service.set_patron_secret``),
inside the same transaction, so the sessions end together with the change or not at all.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

Listener = Callable[[Session, int, datetime], object]  # (session, patron id, now)
_listeners: list[Listener] = []


def on_change(listener: Listener) -> None:
    """Subscribe ``listener`` (once: subscribing the same function again changes nothing)."""
    if listener not in _listeners:
        _listeners.append(listener)


def changed(session: Session, patron_id: int, now: datetime) -> None:
    """A patron's PIN or password changed: every listener ends what the old secret opened."""
    for listener in list(_listeners):
        listener(session, patron_id, now)
