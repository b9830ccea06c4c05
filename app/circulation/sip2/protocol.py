"""SIP2 messages as values: parsing a terminal's request and formatting the answer (pure: no I/O, no clock).

A message is a two-digit code, fixed-length fields, then variable fields ``XXvalue|``; a terminal that
uses error detection ends it with ``AY<sequence>AZ<checksum>``. The checksum is the two's complement of
the 16-bit sum of every byte up to and including ``AZ``, as four upper-case hex digits (SIP2 2.00).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

MAX_MESSAGE_BYTES = 8192  # far above any real message; a longer one is refused without reading on
CHARSETS = ("utf-8", "cp850")

# Lengths of the fixed part of each request the server answers (after the two-digit code).
FIXED_LENGTHS: dict[str, int] = {
    "99": 8,   # status code, max print width, protocol version
    "93": 2,   # UID algorithm, PWD algorithm
    "23": 21,  # language, transaction date
    "63": 31,  # language, transaction date, summary
    "11": 38,  # SC renewal policy, no block, transaction date, nb due date
    "09": 37,  # no block, transaction date, return date
    "29": 38,  # third party allowed, no block, transaction date, nb due date
    "65": 18,  # transaction date
    "17": 18,  # transaction date
    "15": 19,  # hold mode, transaction date
    "37": 25,  # transaction date, fee type, payment type, currency type
    "35": 18,  # transaction date
    "25": 18,  # transaction date
    "01": 19,  # card retained, transaction date
    "97": 0,
}
# The supported-messages field (BX) of 98, in the order SIP2 2.00 gives: patron status, checkout,
# checkin, block patron, SC/ACS status, request resend, login, patron information, end session,
# fee paid, item information, item status update, patron enable, hold, renew, renew all.
SUPPORTED_ORDER = ("23", "11", "09", "01", "99", "97", "93", "63", "35", "37", "17", "19", "25", "15", "29", "65")
_TRAILER = re.compile(r"(?:\|?AY(\d))?\|?AZ([0-9A-Fa-f]{4})$")
_FIELD_ID = re.compile(r"^[A-Z][A-Z0-9]$")


class MalformedMessage(ValueError):
    """The bytes are not a SIP2 request the server can answer (the server answers 96)."""


@dataclass(frozen=True)
class Message:
    code: str
    fixed: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    sequence: str | None = None  # AY, when the terminal uses error detection
    checksummed: bool = False

    def get(self, field_id: str, default: str = "") -> str:
        values = self.fields.get(field_id)
        return values[0] if values else default

    def has(self, field_id: str) -> bool:
        return field_id in self.fields

    def fixed_at(self, start: int, length: int) -> str:
        return self.fixed[start:start + length]


def checksum(text: str, encoding: str = "utf-8") -> str:
    """The AZ value of ``text`` (everything up to and including ``AZ``)."""
    total = sum(text.encode(encoding, errors="replace")) & 0xFFFF
    return f"{(-total) & 0xFFFF:04X}"


def decode(raw: bytes, charset: str) -> str:
    """The terminal's bytes as text; bytes its character set cannot read become U+FFFD (no exception)."""
    return raw.decode(charset if charset in CHARSETS else "utf-8", errors="replace")


def parse(text: str, *, charset: str = "utf-8") -> Message:
    """A request. Raises MalformedMessage for anything the server cannot answer as asked: an unknown
    code, a short fixed part, a bad checksum, a NUL byte or a field without its two-letter identifier."""
    text = text.rstrip("\r\n")
    if "\x00" in text or len(text) < 2 or not text[:2].isdigit():
        raise MalformedMessage("no message code")
    code = text[:2]
    if code not in FIXED_LENGTHS:
        raise MalformedMessage("unsupported message")
    sequence, checksummed = None, False
    trailer = _TRAILER.search(text)
    if trailer is not None:
        upto = text[:trailer.end() - 4]
        if checksum(upto, charset).upper() != trailer.group(2).upper():
            raise MalformedMessage("checksum")
        sequence, checksummed = trailer.group(1), True
        text = text[:trailer.start()]
    else:
        ay = re.search(r"\|?AY(\d)$", text)
        if ay is not None:
            sequence, text = ay.group(1), text[:ay.start()]
    length = FIXED_LENGTHS[code]
    fixed, rest = text[2:2 + length], text[2 + length:]
    if len(fixed) < length:
        raise MalformedMessage("short fixed part")
    fields: dict[str, list[str]] = {}
    for part in rest.split("|"):
        if not part:
            continue
        if not _FIELD_ID.match(part[:2]):
            raise MalformedMessage("field without an identifier")
        fields.setdefault(part[:2], []).append(part[2:])
    return Message(code, fixed, fields, sequence, checksummed)


def clean(value: object) -> str:
    """A value safe inside a variable field: no field separator, no terminator, no control characters."""
    return "".join(ch for ch in str(value) if ch not in "|\r\n" and (ch >= " " or ch == "\t"))


def yes_no(flag: bool) -> str:
    return "Y" if flag else "N"


def sip_datetime(moment: datetime) -> str:
    """YYYYMMDDZZZZHHMMSS in the moment's own (local) time; four spaces for the zone, as terminals expect."""
    return moment.strftime("%Y%m%d") + "    " + moment.strftime("%H%M%S")


def parse_sip_datetime(value: str) -> tuple[int, int, int, int, int, int] | None:
    """The date and time of a SIP2 date field, or None when it is blank or not a date."""
    digits = value[:8] + value[12:18]
    if len(value) < 18 or not digits.isdigit():
        return None
    parts = (int(digits[0:4]), int(digits[4:6]), int(digits[6:8]), int(digits[8:10]), int(digits[10:12]),
             int(digits[12:14]))
    try:
        datetime(*parts)
    except ValueError:
        return None
    return parts


def fmt(code: str, fixed: str, fields: list[tuple[str, object]] | None = None, *, sequence: str | None = None,
        charset: str = "utf-8", with_checksum: bool = False) -> str:
    """A response: code, fixed part, the variable fields (None values left out) and, when the terminal
    uses error detection, AY with its sequence number and AZ with the checksum. Without the ``\\r``."""
    text = code + fixed + "".join(f"{field_id}{clean(value)}|" for field_id, value in fields or [] if value is not None)
    if with_checksum or sequence is not None:
        text += f"AY{sequence or '0'}AZ"
        text += checksum(text, charset)
    return text


def encode(text: str, charset: str) -> bytes:
    """The answer as the terminal's character set reads it, with the ``\\r`` terminator; what cp850 cannot
    say becomes ``?``."""
    return (text + "\r").encode(charset if charset in CHARSETS else "utf-8", errors="replace")


def supported_messages(codes: set[str]) -> str:
    return "".join(yes_no(code in codes) for code in SUPPORTED_ORDER)


def trail(text: str, sequence: str | None, charset: str = "utf-8") -> str:
    """``text`` with AY and AZ when the terminal's request had a sequence number (error detection)."""
    if sequence is None:
        return text
    text += f"AY{sequence}AZ"
    return text + checksum(text, charset)
