"""Checking what a librarian or a library system sends: values in, a RegistrationInput or error codes out.

No database, no Flask: the web form and the JSON API both call ``validate_registration`` (one rule, one
place); the edges turn the codes into translated messages (app/registration/messages.py).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from email_validator import EmailNotValidError, validate_email
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat
from stdnum.fi import hetu

from app.accounts import identity
from app.registration.models import ELIGIBILITY_BASES, FORMATS, LANGUAGES

GUARDIAN_AGE_LIMIT = 15  # under 15: a guardian is responsible and consents
TEMPORARY_INDIVIDUAL_NUMBERS = range(900, 1000)
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()-]{5,24}$")
POSTAL_CODE_RE = re.compile(r"^[0-9]{5}$")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
HETU_PARTS_RE = re.compile(r"^(\d\d)(\d\d)(\d\d)([-+A-FU-Y])(\d\d\d)(.)$")
CENTURIES = {"+": 1800, **dict.fromkeys("-YXWVU", 1900), **dict.fromkeys("ABCDEF", 2000)}
TEXT_LIMITS = {"given_names": 100, "surname": 100, "street_address": 200, "city": 100,
               "eligibility_note": 500, "guardian_name": 200, "guardian_contact": 254}


class RegistrationInvalid(Exception):
    """Field → list of error codes (``required``, ``checksum`` …). Never carries the submitted values."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(", ".join(sorted(errors)))
        self.errors = errors


class FieldError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, repr=False)
class IdentityCode:
    """A valid Finnish personal identity code. ``value`` lives only in memory, for hashing.

    The century sign is kept as written: since 2023 ``010594Y308V`` and ``010594-308V`` may be
    two different people, so normalising the sign away would merge them.
    """

    value: str
    birth_date: date

    @property
    def masked(self) -> str:
        """Birth date and century sign, individual number hidden, check character shown: 010594Y***V."""
        return identity.masked(self.value)

    def __repr__(self) -> str:  # tracebacks and debug output must never show the code
        return f"IdentityCode({self.masked})"


@dataclass(frozen=True)
class RegistrationInput:
    given_names: str
    surname: str
    identity: IdentityCode
    email: str
    phone: str
    street_address: str
    postal_code: str
    city: str
    language: str
    eligibility_basis: str
    eligibility_note: str = ""
    preferred_formats: tuple[str, ...] = ()
    guardian_name: str = ""
    guardian_contact: str = ""
    guardian_consent: bool = False
    under_guardian: bool = field(default=False)

    @property
    def full_name(self) -> str:
        return f"{self.given_names} {self.surname}"


def age_on(birth_date: date, today: date) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def parse_identity_code(raw: Any, today: date) -> IdentityCode:
    """Validate with python-stdnum's ``stdnum.fi.hetu`` (2023 century signs included); refuse temporary codes."""
    if raw is not None and not isinstance(raw, str):
        raise FieldError("not-text")
    code = (raw or "").strip().upper()
    if not code:
        raise FieldError("required")
    try:
        hetu.validate(code, allow_temporary=True)
    except InvalidFormat as exc:
        raise FieldError("format") from exc
    except InvalidChecksum as exc:
        raise FieldError("checksum") from exc
    except InvalidComponent as exc:
        raise FieldError(_component_problem(code)) from exc
    day, month, year, sign, individual, _check = HETU_PARTS_RE.match(code).groups()  # type: ignore[union-attr]
    if int(individual) in TEMPORARY_INDIVIDUAL_NUMBERS:
        raise FieldError("temporary")
    birth_date = date(CENTURIES[sign] + int(year), int(month), int(day))
    if birth_date > today:
        raise FieldError("future")
    return IdentityCode(code, birth_date)


def _component_problem(code: str) -> str:
    parts = HETU_PARTS_RE.match(code)
    if parts is None:
        return "format"
    day, month, year, sign = (parts.group(i) for i in range(1, 5))
    try:
        date(CENTURIES[sign] + int(year), int(month), int(day))
    except ValueError:
        return "date"
    return "individual-number"


def _text(raw: Mapping[str, Any], name: str, *, required: bool) -> str:
    value = raw.get(name)
    if value is not None and not isinstance(value, str):
        raise FieldError("not-text")
    value = " ".join((value or "").split()) if name != "eligibility_note" else (value or "").strip()
    if not value:
        if required:
            raise FieldError("required")
        return ""
    if len(value) > TEXT_LIMITS.get(name, 200):
        raise FieldError("too-long")
    if CONTROL_RE.search(value.replace("\n", "").replace("\r", "")):
        raise FieldError("invalid-characters")
    return value


def _email(value: Any, *, required: bool = True) -> str:
    if value is not None and not isinstance(value, str):
        raise FieldError("not-text")
    value = (value or "").strip()
    if not value:
        if required:
            raise FieldError("required")
        return ""
    if len(value) > 254:
        raise FieldError("too-long")
    try:
        # test_environment: addresses under .test are accepted (demo data, library systems' test runs).
        return validate_email(value, check_deliverability=False, test_environment=True).normalized
    except EmailNotValidError as exc:
        raise FieldError("invalid-email") from exc


def _phone(value: Any, *, required: bool = False) -> str:
    if value is not None and not isinstance(value, str):
        raise FieldError("not-text")
    value = " ".join((value or "").split())
    if not value:
        if required:
            raise FieldError("required")
        return ""
    if not PHONE_RE.match(value) or sum(c.isdigit() for c in value) < 6:
        raise FieldError("invalid-phone")
    return value


def _choice(value: Any, choices: tuple[str, ...]) -> str:
    if value is None or value == "":
        raise FieldError("required")
    if not isinstance(value, str) or value not in choices:
        raise FieldError("unknown-choice")
    return value


def _formats(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if not isinstance(value, (list, tuple)):
        raise FieldError("not-list")
    if any(not isinstance(v, str) or v not in FORMATS for v in value):
        raise FieldError("unknown-choice")
    return tuple(f for f in FORMATS if f in value)  # a stable order, no repeats


def _postal_code(value: Any) -> str:
    if value is not None and not isinstance(value, str):
        raise FieldError("not-text")
    value = (value or "").replace(" ", "")
    if not value:
        raise FieldError("required")
    if not POSTAL_CODE_RE.match(value):
        raise FieldError("invalid-postal-code")
    return value


def _guardian_contact(value: Any) -> str:
    """A guardian is reached by email or phone: either is accepted."""
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and "@" in text:
        return _email(text)
    try:
        return _phone(text, required=True)
    except FieldError as err:
        raise FieldError("invalid-contact" if err.code == "invalid-phone" else err.code) from err


def validate_registration(raw: Mapping[str, Any], today: date) -> RegistrationInput:
    """All fields at once, so every bad field gets its message in one answer."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}

    def check(name: str, fn: Any, *args: Any, **kwargs: Any) -> None:
        try:
            values[name] = fn(*args, **kwargs)
        except FieldError as err:
            errors.setdefault(name, []).append(err.code)

    check("given_names", _text, raw, "given_names", required=True)
    check("surname", _text, raw, "surname", required=True)
    check("identity", parse_identity_code, raw.get("national_id"), today)
    if "identity" not in values and "identity" in errors:
        errors["national_id"] = errors.pop("identity")
    check("email", _email, raw.get("email"))
    check("phone", _phone, raw.get("phone"))
    check("street_address", _text, raw, "street_address", required=True)
    check("postal_code", _postal_code, raw.get("postal_code"))
    check("city", _text, raw, "city", required=True)
    check("language", _choice, raw.get("language"), LANGUAGES)
    check("eligibility_basis", _choice, raw.get("eligibility_basis"), ELIGIBILITY_BASES)
    check("eligibility_note", _text, raw, "eligibility_note", required=False)
    check("preferred_formats", _formats, raw.get("preferred_formats"))
    identity = values.get("identity")
    under_guardian = identity is not None and age_on(identity.birth_date, today) < GUARDIAN_AGE_LIMIT
    if under_guardian:
        check("guardian_name", _text, raw, "guardian_name", required=True)
        check("guardian_contact", _guardian_contact, raw.get("guardian_contact"))
        if raw.get("guardian_consent") is not True:
            errors["guardian_consent"] = ["consent-required"]
        else:
            values["guardian_consent"] = True
    if errors:
        raise RegistrationInvalid(errors)
    return RegistrationInput(under_guardian=under_guardian, **values)
