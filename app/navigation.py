"""Staff task links by role; each domain adds its own (shown on the staff home page)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, url_for
from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class StaffLink:
    endpoint: str
    label: Any
    roles: tuple[str, ...]


STAFF_LINKS: list[StaffLink] = [
    StaffLink("accounts.desk_pin", _l("Set a patron's PIN at the desk"), ("librarian",)),
    StaffLink("core.letter_queue", _l("Letters to print"), ("librarian",)),
    StaffLink("core.audit_log", _l("Audit log"), ("admin",)),
    StaffLink("accounts.admin_users", _l("Staff users"), ("admin",)),
    StaffLink("accounts.admin_libraries", _l("Member libraries"), ("admin",)),
    StaffLink("accounts.admin_outbox", _l("Outbox: email and SMS"), ("admin",)),
    StaffLink("accounts.admin_jobs", _l("Scheduled jobs"), ("admin",)),
]


# Links in the main navigation of every page (catalogue, status …), added by the domains.
MAIN_LINKS: list[tuple[str, Any]] = []


def add_main_link(endpoint: str, label: Any) -> None:
    if (endpoint, label) not in MAIN_LINKS:
        MAIN_LINKS.append((endpoint, label))


# Links on the patron's account page (loans, clubs, my data …), added by the domains.
PATRON_LINKS: list[tuple[str, Any]] = []


def add_patron_link(endpoint: str, label: Any) -> None:
    if (endpoint, label) not in PATRON_LINKS:
        PATRON_LINKS.append((endpoint, label))


def add_staff_link(link: StaffLink) -> None:
    if link not in STAFF_LINKS:
        STAFF_LINKS.append(link)


def init_app(app: Flask) -> None:
    from app.accounts.auth import ROLE_LABELS

    def staff_links(user: Any) -> list[dict[str, Any]]:
        roles = user.roles
        return [{"url": url_for(link.endpoint), "label": link.label} for link in STAFF_LINKS
                if "admin" in roles or roles & set(link.roles)]

    @app.context_processor
    def _nav() -> dict[str, Any]:
        return {"staff_links": staff_links, "role_labels": ROLE_LABELS,
                "main_links": lambda: [{"url": url_for(e), "label": label, "endpoint": e} for e, label in MAIN_LINKS
                                       if e in app.view_functions],
                "patron_links": lambda: [{"url": url_for(e), "label": label} for e, label in PATRON_LINKS
                                         if e in app.view_functions]}
