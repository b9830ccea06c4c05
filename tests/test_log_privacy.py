"""A registration that fails inside its database writes leaves no personal data in the log: not the names,
email, phone, street, identity code, its hash, the masked code or the birth date — whatever the database or
SQLAlchemy put into the error's text."""
from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, exc

from app import db
from app.accounts import service as accounts
from app.accounts.identity import identity_hash
from tests import factories
from tests.registration.conftest import person

CODE = "010594Y308V"  # born 1 May 1994


@pytest.fixture()
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    # A 500 is answered and logged instead of raised into the test, as in production.
    return {**app_config, "PROPAGATE_EXCEPTIONS": False, "IDENTITY_HASH_KEY": "log-test-key"}


@pytest.fixture()
def auth(sm: Any, now: Any) -> dict[str, str]:
    with sm.begin() as s:
        user = factories.staff(s, now, "librarian", email="lib@test.kuulo", lib=factories.library(s, "tampere"))
        raw, _tok = accounts.issue_token(s, now=now, days=30, staff=user, name="library system")
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture()
def app_log(app: Any) -> Iterator[io.StringIO]:
    """What the app logger's own handler writes, as a plain ``logging.Formatter`` formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    app.logger.addHandler(handler)
    yield stream
    app.logger.removeHandler(handler)


def personal_values(body: dict[str, Any]) -> list[str]:
    """Every value of the request that tells who the person is, in the forms a log could show it."""
    digest = identity_hash("log-test-key", CODE)
    return [body["given_names"], *body["given_names"].split(), body["surname"], body["email"], body["phone"],
            body["street_address"], CODE, digest, digest[:16], "010594Y***V", "1994-05-01", "1994, 5, 1"]


def assert_log_is_clean(texts: list[str], body: dict[str, Any]) -> None:
    log = "\n".join(texts)
    assert "Exception on /api/v1/registrations [POST]" in log  # the failure itself is logged
    leaked = [value for value in personal_values(body) if value in log]
    assert not leaked, f"personal data in the log: {leaked}"


def test_a_registration_failing_in_the_database_logs_no_personal_data(client, auth, monkeypatch, caplog, app_log):
    """The registration row is refused by the database itself (NOT NULL): on PostgreSQL the error quotes the
    whole failing row; SQLAlchemy adds the statement's parameters."""
    insert_patron = accounts.insert_patron

    def patron_without_id(*args: Any, **kwargs: Any) -> tuple[int, str] | None:
        made = insert_patron(*args, **kwargs)
        return None if made is None else (None, made[1])  # type: ignore[return-value]

    monkeypatch.setattr(accounts, "insert_patron", patron_without_id)
    body = person(CODE)
    with caplog.at_level(logging.INFO):
        resp = client.post("/api/v1/registrations", json=body, headers=auth)
    assert resp.status_code == 500 and resp.mimetype == "application/problem+json"
    assert "IntegrityError" in caplog.text  # the traceback is there, only without the data
    assert_log_is_clean([caplog.text, app_log.getvalue()], body)


def test_an_error_carrying_the_statement_parameters_is_logged_without_them(app, client, auth, monkeypatch, caplog,
                                                                           app_log):
    """An error made outside the engine's settings (a driver, a library, a retry helper) with the real
    patron INSERT and its real parameters, raised deep in the registration's write path."""
    seen: list[tuple[str, Any]] = []

    @event.listens_for(db.engine(app), "before_cursor_execute")
    def _keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.startswith("INSERT INTO patrons"):
            seen.append((statement, parameters))

    def lost_connection(*_args: Any, **_kwargs: Any) -> None:
        statement, parameters = seen[-1]
        raise exc.OperationalError(statement, parameters, Exception("server closed the connection unexpectedly"))

    from app.registration import service

    monkeypatch.setattr(service, "_send_credentials", lost_connection)
    body = person(CODE)
    with caplog.at_level(logging.INFO):
        resp = client.post("/api/v1/registrations", json=body, headers=auth)
    event.remove(db.engine(app), "before_cursor_execute", _keep)
    assert resp.status_code == 500
    assert body["email"] in repr(seen[-1][1])  # the error really carried the person's data
    assert "[SQL: INSERT INTO patrons" in caplog.text
    assert_log_is_clean([caplog.text, app_log.getvalue()], body)


def test_an_error_passed_as_a_log_argument_loses_its_parameters(app, caplog):
    error = exc.IntegrityError("INSERT INTO patrons (name, email) VALUES (?, ?)", ("Testi Henkilö", "t@example.test"),
                               Exception("UNIQUE constraint failed: patrons.email"))
    with caplog.at_level(logging.WARNING):
        logging.getLogger("kuulo.test").warning("could not save: %s", error)
    assert "could not save" in caplog.text and "UNIQUE constraint failed" in caplog.text
    assert "Testi Henkilö" not in caplog.text and "t@example.test" not in caplog.text
