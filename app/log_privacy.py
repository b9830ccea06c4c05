"""Log records without personal data: exception text loses SQL parameters and the database's quotes of rows.

Patrons' names, addresses, identity-code hashes and birth dates reach the log through errors, not through log
calls: SQLAlchemy prints a failed statement's parameters, PostgreSQL quotes the failing row or key in DETAIL
("Failing row contains (…)"), pydantic quotes input values. The engine hides its parameters
(``hide_parameters``); this module covers the rest for every logger (Flask's "Exception on …", gunicorn,
SQLAlchemy's pool, the scheduler): each record that carries an exception gets its exception text made
here, once, before any handler formats it — the same traceback, without those values.
"""
from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy.exc import StatementError

HIDDEN = "(hidden: may hold personal data)"
# Errors made outside the engine (hide_parameters unset) print their parameters on a line of their own.
_PARAMETERS = re.compile(r"\[parameters: .*$", re.MULTILINE)
# pydantic: "[type=string_too_long, input_value='Matti Meikäläinen', input_type=str]"
_INPUT_VALUE = re.compile(r"input_value=.*, input_type=")
_INSTALLED = "kuulo_log_privacy"


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    """``error``, its causes and contexts, and the members of exception groups, each once."""
    seen: set[int] = set()
    todo = [error]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend([current.__cause__, current.__context__, *getattr(current, "exceptions", ())])


def _quoted_values(errors: Iterable[BaseException]) -> list[str]:
    """Hide the parameters of SQLAlchemy's errors, and return the texts in which the database quotes data
    (psycopg's diagnostics: DETAIL, CONTEXT, the internal query)."""
    quoted: list[str] = []
    for error in errors:
        if isinstance(error, StatementError):
            error.hide_parameters = True  # read when the error is turned into text
        diag = getattr(error, "diag", None)
        for name in ("message_detail", "context", "internal_query"):
            value = getattr(diag, name, None) if diag is not None else None
            if isinstance(value, str) and value.strip():
                quoted.append(value)
    return quoted


def scrub(text: str, quoted: Iterable[str] = ()) -> str:
    """``text`` without the ``quoted`` values, parameter lists and pydantic's input values."""
    for value in sorted(quoted, key=len, reverse=True):
        text = text.replace(value, HIDDEN)
    text = _PARAMETERS.sub("[parameters: " + HIDDEN + "]", text)
    return _INPUT_VALUE.sub("input_value=" + HIDDEN + ", input_type=", text)


def exception_text(exc_info: Any) -> str:
    """The traceback as ``logging.Formatter.formatException`` writes it, without quoted data. Tracebacks
    show code, never local variables."""
    quoted = _quoted_values(_chain(exc_info[1]))
    text = "".join(traceback.format_exception(*exc_info)).rstrip("\n")
    return scrub(text, quoted)


def private_record(record: logging.LogRecord) -> logging.LogRecord:
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        record.exc_text = exception_text(record.exc_info)
    # An error given as an argument ("failed: %s", err) becomes text in the message.
    errors = [a for a in (record.args if isinstance(record.args, tuple) else ()) if isinstance(a, BaseException)]
    quoted = _quoted_values(e for error in errors for e in _chain(error))
    try:
        message = record.getMessage()
    except Exception:  # a malformed call: leave it to the handler to report, as logging does
        return record
    scrubbed = scrub(message, quoted)
    if scrubbed != message:
        record.msg, record.args = scrubbed, ()
    return record


def install() -> None:
    """Wrap the process's log record factory (once): every logger's records pass through ``private_record``."""
    current = logging.getLogRecordFactory()
    if getattr(current, _INSTALLED, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return private_record(current(*args, **kwargs))

    setattr(factory, _INSTALLED, True)
    logging.setLogRecordFactory(factory)
