"""Error codes from validation turned into translated texts, for the form and the API alike."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

GENERIC: dict[str, Any] = {
    "required": _l("This field is required."),
    "not-text": _l("Give this as text."),
    "not-list": _l("Give a list of values."),
    "too-long": _l("This is too long."),
    "invalid-characters": _l("This contains characters that cannot be saved."),
    "invalid-email": _l("Enter an email address in the form name@example.fi."),
    "invalid-phone": _l("Enter a phone number with digits only, for example +358 40 123 4567."),
    "invalid-contact": _l("Enter the guardian's phone number or email address."),
    "invalid-postal-code": _l("Enter a Finnish postal code of five digits, for example 00100."),
    "unknown-choice": _l("Choose one of the options."),
    "consent-required": _l("The guardian's consent is needed to register a patron under 15."),
}

NATIONAL_ID: dict[str, Any] = {
    "required": _l("Enter the personal identity code."),
    "format": _l("The personal identity code has 11 characters: six digits of the birth date (DDMMYY), the "
                 "century sign (+, -, A–F or U–Y), three digits and a check character."),
    "date": _l("The birth date part of the identity code is not a real date."),
    "individual-number": _l("The individual number (digits 8–10) of the identity code is not valid."),
    "checksum": _l("The check character (the last character) does not match the rest of the identity code. "
                   "Check the code with the patron."),
    "temporary": _l("This is a temporary identity code (individual number 900–999). Only a permanent "
                    "personal identity code can be registered."),
    "future": _l("The birth date in the identity code is in the future."),
}

FIELD_SPECIFIC: dict[str, dict[str, Any]] = {
    "national_id": NATIONAL_ID,
    "language": {"required": _l("Choose the patron's language."), "unknown-choice": _l("Choose fi, sv or en.")},
    "eligibility_basis": {"required": _l("Choose the basis of eligibility."),
                          "unknown-choice": _l("Choose one of the listed bases of eligibility.")},
    "preferred_formats": {"unknown-choice": _l("Choose formats from the list.")},
    "given_names": {"required": _l("Enter the patron's given names.")},
    "surname": {"required": _l("Enter the patron's surname.")},
    "email": {"required": _l("Enter the patron's email address: the credentials are sent there.")},
    "guardian_name": {"required": _l("Enter the guardian's name (the patron is under 15).")},
    "guardian_contact": {"required": _l("Enter the guardian's phone number or email address.")},
}


def message(field: str, code: str) -> str:
    text = FIELD_SPECIFIC.get(field, {}).get(code) or GENERIC.get(code) or code
    return str(text)


def messages(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    return {name: [message(name, code) for code in codes] for name, codes in errors.items()}


ELIGIBILITY_LABELS: dict[str, Any] = {
    "visual_impairment": _l("Visual impairment"),
    "reading_disability": _l("Reading disability (for example dyslexia)"),
    "physical_disability": _l("Physical disability (cannot hold a book or turn pages)"),
    "intellectual_disability": _l("Intellectual disability"),
    "memory_disorder": _l("Memory disorder"),
    "other": _l("Other reason that prevents reading print"),
}

FORMAT_LABELS: dict[str, Any] = {
    "audiobook": _l("Audiobooks (download or streaming)"),
    "cd_audiobook": _l("Audiobooks on CD"),
    "e_text": _l("E-text books"),
    "braille": _l("Braille books"),
    "tactile_picture_book": _l("Tactile picture books"),
}

LANGUAGE_LABELS: dict[str, Any] = {"fi": _l("Finnish"), "sv": _l("Swedish"), "en": _l("English")}
