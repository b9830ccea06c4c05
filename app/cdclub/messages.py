"""Texts for the codes the CD club services return (translated at the edge, rule 8)."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

TEXTS: dict[str, Any] = {
    # field errors
    "required": _l("This field is required."),
    "code-format": _l("Use 2–40 lowercase letters, digits and hyphens, starting with a letter or digit."),
    "code-taken": _l("Another club already has this code."),
    "books-per-period-range": _l("A club sends 1–5 books per period."),
    "disc-cap-range": _l("The disc cap is 1–99 discs."),
    "delivery-format": _l("Choose how the books are delivered."),
    "postal-code-fi": _l("A Finnish postal code is five digits."),
    "country-code": _l("Choose a country."),
    "too-long": _l("This is too long."),
    # refusals
    "not-found": _l("The page or resource was not found."),
    "patron-not-found": _l("No patron has this library card number."),
    "already-member": _l("You are already a member of this club."),
    "club-closed": _l("This club does not take new members."),
    "not-active": _l("Only an active membership can be paused."),
    "not-paused": _l("The membership is not paused."),
    "not-a-member": _l("This is not a current membership."),
    "production-started": _l("The production of this period has started: its titles can no longer change."),
    "title-already-picked": _l("This book is already picked for the period."),
    "too-many-titles": _l("A period can have at most 5 books."),
    "book-not-found": _l("The book is not in the catalogue."),
    "book-unavailable": _l("The book has been withdrawn from the catalogue."),
    "run-not-in-production": _l("Only a run in production can be marked as shipped."),
    "online-runs-ship-themselves": _l("Online clubs are delivered by the delivery-date job, straight onto the "
                                      "members' shelves."),
    "validation-error": _l("Some fields need correcting."),
    # period warnings
    "over-title-count": _l("More books than the club sends per period."),
    "over-disc-cap": _l("More discs than the club's cap per member."),
    "unfilled": _l("Not enough books picked, and the production starts soon."),
}

STATES: dict[str, Any] = {
    "active": _l("active"),
    "paused": _l("paused"),
    "left": _l("left"),
    "planned": _l("planned"),
    "in_production": _l("in production"),
    "shipped": _l("shipped"),
}

FORMATS: dict[str, Any] = {
    "cd": _l("CDs by post"),
    "online": _l("online, on the reader-app shelf"),
}


def text(code: str) -> str:
    return str(TEXTS.get(code, code))


def field_messages(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    return {name: [text(code) for code in codes] for name, codes in errors.items()}
