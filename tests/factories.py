"""Small builders for test data, through the real services."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from app.accounts import service
from app.accounts.models import Library, Patron, StaffUser

PASSWORD = "correct-horse-battery"
PIN = "1234"


def library(session: Any, code: str = "testlib", name: str = "Testikirjasto") -> Library:
    return service.get_or_create_library(session, code, name)


def staff(session: Any, now: datetime, *roles: str, email: str = "staff@test.kuulo", lib: Library | None = None,
          language: str = "en") -> StaffUser:
    return service.create_staff_user(session, email=email, name="Test Staff", password=PASSWORD,
                                     roles=list(roles), library=lib or library(session), now=now,
                                     actor="test", language=language)


def patron(session: Any, now: datetime, *, email: str = "patron@test.kuulo", pin: str | None = PIN,
           language: str = "en", **kwargs: Any) -> Patron:
    return service.create_patron(session, name="Test Patron", email=email, pin=pin, language=language,
                                 now=now, actor="test", **kwargs)


def login_staff(client: Any, email: str = "staff@test.kuulo", password: str = PASSWORD) -> Any:
    return client.post("/staff/login", data={"email": email, "password": password})


def login_patron(client: Any, card: str, secret: str = PIN) -> Any:
    return client.post("/login", data={"card_number": card, "secret": secret})
