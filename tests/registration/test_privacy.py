"""The identity code is never shown after entry, never in a URL, a log line or a database row."""
from __future__ import annotations

import json
import logging

from sqlalchemy import inspect, select, text

from app import db
from app.accounts.models import Patron
from tests import factories
from tests.registration.conftest import form_data, http, person

CODE = "010594Y308V"
CHILD = "070915A4826"
VARIANTS = (CODE, CODE.lower(), "010594Y308", "Y308V", CHILD, "070915A482")


def assert_absent(where: str, content: str) -> None:
    for variant in VARIANTS:
        assert variant not in content, f"{variant} found in {where}"


def every_row_as_text(app) -> str:
    engine = db.engine(app)
    chunks = []
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            chunks += [str(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{table}"'))]
    return "\n".join(chunks)


def test_the_code_appears_in_no_response_log_line_or_row(app, staff_client, auth, sm, live_server, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("werkzeug").setLevel(logging.INFO)
    responses = []
    # The form: new, double submit, an error in another field, a child with guardian.
    responses.append(staff_client.post("/staff/registrations/new", data=form_data(CODE)))
    responses.append(staff_client.post("/staff/registrations/new", data=form_data(CODE)))
    responses.append(staff_client.post("/staff/registrations/new", data=form_data(CHILD, postal_code="x")))
    responses.append(staff_client.post("/staff/registrations/new", data=form_data(
        CHILD, guardian_name="Karin", guardian_contact="karin@example.test", guardian_consent="y")))
    # Search and record pages.
    responses.append(staff_client.post("/staff/registrations/search/identity-code", data={"code-national_id": CODE}))
    with sm.begin() as s:
        patron_id = s.scalar(select(Patron.id).order_by(Patron.id))
    responses.append(staff_client.get(f"/staff/registrations/{patron_id}"))
    bodies = [r.get_data(as_text=True) + json.dumps(dict(r.headers)) for r in responses]
    # The JSON API through a real server (its request log lines are captured too).
    api = live_server.url + "/api/v1/registrations"
    for body in (person(CODE), person(CHILD), person(CODE, postal_code="x"), person("131052-308U")):
        status, headers, raw = http("POST", api, body, {**auth, "Idempotency-Key": '"k-1"'})
        bodies.append(raw.decode() + json.dumps(headers))
        status, headers, raw = http("POST", api, body, auth)
        bodies.append(raw.decode() + json.dumps(headers))
    for i, body in enumerate(bodies):
        assert_absent(f"response {i}", body)
    assert "POST /api/v1/registrations" in caplog.text  # the server's request log was captured
    assert_absent("the logs", caplog.text)
    assert_absent("the database", every_row_as_text(app))


def test_the_patrons_own_pages_show_only_the_masked_code(app, staff_client, sm):
    staff_client.post("/staff/registrations/new", data=form_data(CODE))
    with sm.begin() as s:
        patron = s.scalar(select(Patron))
        from app.accounts import service as accounts

        accounts.set_patron_secret(s, s.get(Patron, patron.id), pin="2468", now=patron.created_at, actor="test")
    reader = app.test_client()
    factories.login_patron(reader, patron.card_number, "2468")
    for path in ("/account", "/account/my-data", "/account/my-data.json"):
        assert_absent(path, reader.get(path).get_data(as_text=True))
