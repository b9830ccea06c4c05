"""Counting the SQL statements a request makes (for the N+1 tests): one helper for the whole suite."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from app import db


class Statements:
    def __init__(self) -> None:
        self.sql: list[str] = []

    @property
    def count(self) -> int:
        return len(self.sql)


@contextmanager
def counted(app: Any) -> Iterator[Statements]:
    """Every statement sent to the app's database inside the block (transaction control excluded)."""
    seen = Statements()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            seen.sql.append(statement)

    engine = db.engine(app)
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def statements_of(app: Any, request: Any, tries: int = 3) -> int:
    """The statements of a request (``request`` is a callable making it; the answer must be 200): the fewest
    of ``tries`` runs, so that a per-process cache expiring in the middle (the status banner's) is not
    counted as the page's own work."""
    counts = []
    for _ in range(tries):
        with counted(app) as seen:
            resp = request()
        assert resp.status_code == 200, (resp.status_code, resp.get_data(as_text=True)[:300])
        counts.append(seen.count)
    return min(counts)
