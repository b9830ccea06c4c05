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
    "run-has-no-titles": _l("Pick the period's books before freezing its member list."),
    "run-cannot-reopen": _l("Only a frozen run whose production start is still ahead, and from which nothing was "
                            "delivered, can be reopened."),
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


# The audit log in words (app/audit.py): %(who)s is the person who acted.
HISTORY: dict[str, Any] = {
    "cdclub.club.created": _l("%(who)s created the club."),
    "cdclub.club.updated": _l("%(who)s changed the club's settings."),
    "cdclub.member.joined": _l("%(who)s made a club membership."),
    "cdclub.member.left": _l("%(who)s ended a club membership."),
    "cdclub.member.paused": _l("%(who)s paused a club membership."),
    "cdclub.member.resumed": _l("%(who)s resumed a club membership."),
    "cdclub.member.address_changed": _l("%(who)s changed a member's address for the CDs."),
    "cdclub.title.added": _l("%(who)s picked a book for the period %(period)s."),
    "cdclub.title.removed": _l("%(who)s removed a book from the period %(period)s."),
    "cdclub.run.opened": _l("The production of %(period)s started: %(recipients)s recipients."),
    "cdclub.run.frozen_by_hand": _l("%(who)s froze the member list of %(period)s early: %(recipients)s recipients."),
    "cdclub.run.reopened": _l("%(who)s reopened the run of %(period)s."),
    "cdclub.run.shipped": _l("%(who)s marked the run of %(period)s as shipped."),
}


def text(code: str) -> str:
    return str(TEXTS.get(code, code))


def field_messages(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    return {name: [text(code) for code in codes] for name, codes in errors.items()}
