"""Reading a JSON request body: the one place that refuses what no model should ever see.

Malformed JSON, a body that is not UTF-8, nesting deeper than ``MAX_DEPTH``, numbers Python cannot
hold and non-standard constants (NaN, Infinity) are a 400; text with a NUL byte or an unpaired
surrogate — which no database column can store — is a 422 naming the field. Models validate the
shape afterwards (app/platform/contract.py).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 32  # no Kuulo body nests more than three levels; 32 leaves room and stops recursion bombs


class BodyUnreadable(Exception):
    """400: the body is not JSON we can read. ``code`` says why (stable, for messages)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class UnsafeText(Exception):
    """422: text at ``field`` holds a character that cannot be stored."""

    field: str


def _refuse_constant(name: str) -> Any:
    raise BodyUnreadable("not-json", reason=f"{name} is not a JSON number")


def parse_json(raw: bytes) -> Any:
    """The decoded JSON value of ``raw``; raises BodyUnreadable or UnsafeText."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyUnreadable("not-utf8") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise BodyUnreadable("too-deep", max_depth=MAX_DEPTH) from None
    except json.JSONDecodeError as err:
        raise BodyUnreadable("not-json", reason=f"{err.msg} (line {err.lineno}, column {err.colno})") from None
    except ValueError:  # e.g. an integer of more digits than Python converts
        raise BodyUnreadable("not-json", reason="a number is too large") from None
    check_value(value)
    return value


def check_value(value: Any) -> None:
    """Depth and text hygiene of a decoded value, without recursion (a hostile body cannot exhaust the stack)."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if not is_storable(item):
                raise UnsafeText(path or "body")
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise BodyUnreadable("too-deep", max_depth=MAX_DEPTH)
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                name = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and not is_storable(key):
                    raise UnsafeText(path or "body")
                stack.append((child, name, depth + 1))


def is_storable(text: str) -> bool:
    """False for text with a NUL byte or an unpaired surrogate (neither UTF-8 nor PostgreSQL can hold them)."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
