"""Lending fixtures: the committed sample books, ingested into the test media store, and reader apps."""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from app import clock, db, gate, storage
from app.lending import ingest
from tests import factories

SAMPLES = Path(__file__).resolve().parents[2] / "media" / "samples"
MP3_BOOK = SAMPLES / "kuulo-pieni-tarina.mp3"
M4B_BOOK = SAMPLES / "small-voyage.m4b"
DAISY_BOOK = SAMPLES / "liten-saga"


def ingest_path(app: Any, path: Path, identifier: str = "") -> ingest.IngestResult:
    with app.app_context():
        source = ingest.read_source(path, identifier)
        return ingest.ingest_committed(db.get_sessionmaker(app), storage.store(app), source, now=clock.now(),
                                       actor="test")


@pytest.fixture()
def books(app: Any) -> dict[str, int]:
    """The three sample books, ingested: {"mp3": id, "m4b": id, "daisy": id}."""
    return {name: ingest_path(app, path).book_id
            for name, path in (("mp3", MP3_BOOK), ("m4b", M4B_BOOK), ("daisy", DAISY_BOOK))}


@dataclass
class Reader:
    """A patron's reader app: a device token obtained over HTTP, like a real app."""

    client: Any
    card: str
    token: str
    patron_id: int

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def basic(self) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{self.card}:{factories.PIN}".encode()).decode()}

    def get(self, url: str, **headers: str) -> Any:
        return self.client.get(url, headers={**self.auth, **headers})

    def post(self, url: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return self.client.post(url, headers={**self.auth, **(headers or {})}, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Any:
        return self.client.put(url, headers=self.auth, **kwargs)


def make_reader(client: Any, sm: Any, now: Any, email: str) -> Reader:
    with sm.begin() as s:
        patron = factories.patron(s, now, email=email)
        card, patron_id = patron.card_number, patron.id
    basic = {"Authorization": "Basic " + base64.b64encode(f"{card}:{factories.PIN}".encode()).decode()}
    resp = client.post("/api/v1/token", headers=basic, json={"device_name": "test app"})
    assert resp.status_code == 201, resp.text
    return Reader(client, card, resp.json["access_token"], patron_id)


@pytest.fixture()
def reader(client: Any, sm: Any, now: Any) -> Reader:
    return make_reader(client, sm, now, "reader@test.kuulo")


@pytest.fixture()
def other_reader(client: Any, sm: Any, now: Any) -> Reader:
    return make_reader(client, sm, now, "other@test.kuulo")


class Closed:
    """A status provider with some components in a maintenance break for the next two hours."""

    def __init__(self, now: Any, *components: str) -> None:
        self.components, self.until = components, now + timedelta(hours=2)

    def closure(self, component: str, now: Any, language: str) -> gate.Closure | None:
        if component not in self.components:
            return None
        return gate.Closure(component, self.until, "http://kuulo.test/status/maintenance/1", "Maintenance break")


@pytest.fixture()
def maintenance(now: Any) -> Any:
    gate.set_provider(Closed(now, "reader_apps", "web_library", "search", "login"))
    yield
    gate.set_provider(None)
