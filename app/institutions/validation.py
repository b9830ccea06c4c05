"""Checking an application's fields, shared by the web form and the JSON API.

Errors are codes per field (API names: ``business_id``, ``responsible_person.national_id`` …);
the edges turn them into translated text (app/institutions/texts.py).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from email_validator import EmailNotValidError, validate_email
from stdnum import exceptions as stdnum_errors
from stdnum.fi import hetu, ytunnus

from app.institutions.models import INSTITUTION_TYPES

POSTAL_CODE_RE = re.compile(r"^[0-9]{5}$")
PHONE_RE = re.compile(r"^\+?[0-9 ()\-]{6,24}$")
# Century signs of the Finnish identity code, including those added in 2023 (YXWVU and BCDEF).
CENTURIES = {"+": 1800, **dict.fromkeys("-YXWVU", 1900), **dict.fromkeys("ABCDEF", 2000)}
LIMITS = {"name": 200, "street_address": 200, "city": 100, "given_names": 100, "surname": 100}
RP = "responsible_person."


class InvalidApplication(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class ResponsiblePersonInput:
    given_names: str
    surname: str
    national_id: str  # upper-cased, century sign as given; never stored
    birth_date: date
    email: str
    phone: str


@dataclass(frozen=True)
class ApplicationInput:
    name: str
    type: str
    business_id: str  # formatted 1234567-8
    street_address: str
    postal_code: str
    city: str
    email: str
    phone: str
    responsible_person: ResponsiblePersonInput
    consent: bool


def birth_date_of(code: str) -> date:
    """Birth date from a valid identity code: DDMMYY + century sign."""
    return date(CENTURIES[code[6]] + int(code[4:6]), int(code[2:4]), int(code[0:2]))


def check_business_id(value: str) -> tuple[str, str | None]:
    """(formatted Y-tunnus, error code or None)."""
    try:
        return ytunnus.format(ytunnus.validate(value)), None
    except stdnum_errors.InvalidChecksum:
        return value, "business_id_checksum"
    except stdnum_errors.ValidationError:
        return value, "business_id_format"


def check_national_id(value: str) -> tuple[str, str | None]:
    """(the code upper-cased with its century sign, error code or None). Never normalised otherwise."""
    code = value.strip().upper()
    if not re.fullmatch(r"[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-Y]", code):
        return code, "national_id_format"
    try:
        hetu.validate(code)
    except stdnum_errors.InvalidChecksum:
        return code, "national_id_checksum"
    except stdnum_errors.ValidationError:
        return code, "national_id_format"
    return code, None


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    return value.strip() if isinstance(value, str) else ""


def _email(value: str) -> tuple[str, str | None]:
    if not value:
        return value, "required"
    try:
        return validate_email(value, check_deliverability=False, test_environment=True).normalized, None
    except EmailNotValidError:
        return value, "email_invalid"


def parse_application(raw: Mapping[str, Any]) -> ApplicationInput:
    """Check every field; raise InvalidApplication with all the problems at once."""
    errors: dict[str, list[str]] = {}
    person = raw.get("responsible_person")
    person = person if isinstance(person, Mapping) else {}

    def fail(field: str, code: str) -> None:
        errors.setdefault(field, []).append(code)

    values: dict[str, str] = {}
    for prefix, source, keys in (("", raw, ("name", "street_address", "city")),
                                 (RP, person, ("given_names", "surname"))):
        for key in keys:
            values[prefix + key] = _text(source, key)
            if not values[prefix + key]:
                fail(prefix + key, "required")
            elif len(values[prefix + key]) > LIMITS[key]:
                fail(prefix + key, "too_long")
    kind = _text(raw, "type")
    if kind not in INSTITUTION_TYPES:
        fail("type", "required" if not kind else "type_unknown")
    business_id, error = check_business_id(_text(raw, "business_id"))
    if not _text(raw, "business_id"):
        fail("business_id", "required")
    elif error:
        fail("business_id", error)
    postal_code = _text(raw, "postal_code")
    if not POSTAL_CODE_RE.match(postal_code):
        fail("postal_code", "required" if not postal_code else "postal_code_format")
    emails = {}
    for field, source, key in (("email", raw, "email"), (RP + "email", person, "email")):
        emails[field], error = _email(_text(source, key))
        if error:
            fail(field, error)
    phones = {}
    for field, source, required in (("phone", raw, True), (RP + "phone", person, False)):
        phones[field] = _text(source, "phone")
        if not phones[field] and required:
            fail(field, "required")
        elif phones[field] and not PHONE_RE.match(phones[field]):
            fail(field, "phone_format")
    national_id, error = check_national_id(_text(person, "national_id"))
    if not national_id:
        fail(RP + "national_id", "required")
    elif error:
        fail(RP + "national_id", error)
    if raw.get("consent") is not True:
        fail("consent", "consent_required")
    if errors:
        raise InvalidApplication(errors)
    return ApplicationInput(
        name=values["name"], type=kind, business_id=business_id, street_address=values["street_address"],
        postal_code=postal_code, city=values["city"], email=emails["email"], phone=phones["phone"],
        consent=True, responsible_person=ResponsiblePersonInput(
            given_names=values[RP + "given_names"], surname=values[RP + "surname"], national_id=national_id,
            birth_date=birth_date_of(national_id), email=emails[RP + "email"], phone=phones[RP + "phone"]))
