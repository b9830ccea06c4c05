"""Per-process caches of the status renderings and of the gate's windows.

Every app instance keeps its own copy for at most ``STATUS_CACHE_SECONDS`` (several instances share
one database, so a short lifetime is what keeps them in step), and a change committed in this process
drops every copy at once: service functions mark the session, and the commit bumps a generation.
A rendering is also dropped when a window starts or ends (``valid_until``), so the page never shows
a state the clock has already left behind.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

CHANGED = "kuulo.status.changed"
_generation = 0
_lock = threading.Lock()


def mark_changed(session: Session) -> None:
    """Called by every service function that changes what the status page shows."""
    session.info[CHANGED] = True


def invalidate() -> None:
    global _generation
    with _lock:
        _generation += 1


def generation() -> int:
    return _generation


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(CHANGED, False):
        invalidate()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(CHANGED, None)


@dataclass(frozen=True)
class Entry:
    value: Any
    generation: int
    made_at: datetime  # the (domain) time it was made for
    valid_until: datetime | None  # the next start or end of a window
    expires: float  # time.monotonic() after which another instance's changes may be missing


def _store(app: Flask) -> dict[Any, Entry]:
    return app.extensions.setdefault("kuulo.status.cache", {})


def cached(app: Flask, key: Any, now: datetime, make: Callable[[], tuple[Any, datetime | None]]) -> Any:
    """The cached value for ``key`` when still good at ``now``; else ``make()`` → (value, valid_until)."""
    entry = _store(app).get(key)
    if entry is not None and _fresh(entry, now):
        return entry.value
    current = generation()
    value, valid_until = make()
    ttl = float(app.config.get("STATUS_CACHE_SECONDS", 5))
    if ttl > 0:
        _store(app)[key] = Entry(value, current, now, valid_until, time.monotonic() + ttl)
    return value


def _fresh(entry: Entry, now: datetime) -> bool:
    return (entry.generation == generation() and time.monotonic() < entry.expires and entry.made_at <= now
            and (entry.valid_until is None or now < entry.valid_until))


def clear(app: Flask) -> None:
    _store(app).clear()
