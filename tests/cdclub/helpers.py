"""Builders for the CD club tests: clubs, members and catalogue audiobooks, through the real services."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from app.accounts import service as accounts
from app.cdclub import service, settings
from app.cdclub.models import Club, ClubMember
from app.lending.models import Audiobook, AudiobookTrack

MB = 1024 * 1024


def club_settings(app: Any) -> settings.ClubSettings:
    return settings.from_config(app.config)


def club(s: Any, now: datetime, *, code: str = "dekkariklubi", delivery_format: str = "cd", books: int = 3,
         disc_cap: int = 14) -> Club:
    data = service.ClubData(code=code, names={"fi": f"{code} fi", "sv": f"{code} sv", "en": f"{code} en"},
                            descriptions={"fi": "Kuvaus", "sv": "Beskrivning", "en": "Description"},
                            books_per_period=books, disc_cap=disc_cap, delivery_format=delivery_format)
    return service.create_club(s, data, actor="test", now=now)


def address(name: str = "", street: str = "Testikatu 1 A 2", postal_code: str = "00100", city: str = "Helsinki",
            country: str = "FI") -> service.Address:
    return service.Address(recipient_name=name, street_address=street, postal_code=postal_code, city=city,
                           country=country)


def patron(s: Any, now: datetime, name: str, *, email: str = "", language: str = "en") -> Any:
    return accounts.create_patron(s, name=name, now=now, actor="test", email=email, language=language, pin="1234")


def member(s: Any, app: Any, club_: Club, now: datetime, name: str, **kwargs: Any) -> ClubMember:
    who = patron(s, now, name, email=kwargs.pop("email", ""))
    addr = kwargs.pop("address", None) or (address(name) if club_.delivery_format == "cd" else service.Address())
    return service.join_club(s, club_, who, address=addr, now=now, actor="test", settings=club_settings(app))


def book(s: Any, now: datetime, title: str, *, author: str = "Kirjailija", tracks: int = 2,
         track_mb: float = 300, track_seconds: float = 3600.0, bitrate: int = 64) -> Audiobook:
    """A catalogue row with tracks (no audio files: the clubs only read the numbers)."""
    size = int(track_mb * MB)
    row = Audiobook(identifier=f"urn:test:{title}", title=title, author=author, narrator="Lukija", language="fi",
                    duration=track_seconds * tracks, size=size * tracks, storage_prefix=f"audiobooks/{title}/",
                    content_hash="0" * 64, source_name=title, toc=[], available=True, added_at=now, updated_at=now)
    row.tracks = [AudiobookTrack(number=n, title=f"{title} {n}", storage_key=f"audiobooks/{title}/{n}.mp3",
                                 media_type="audio/mpeg", duration=track_seconds, bitrate=bitrate, size=size,
                                 sha256="0" * 64) for n in range(1, tracks + 1)]
    s.add(row)
    s.flush()
    return row


@contextmanager
def tx(app: Any, sm: Any) -> Iterator[Any]:
    """One transaction inside an app context (services render outbox messages), as a job would run."""
    with app.app_context(), sm.begin() as s:
        yield s
