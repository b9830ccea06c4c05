"""Logs: a request id from the client (when sane) or made up, answered in X-Request-ID and carried by every log
record of the request; JSON or text; exception texts without personal data; access lines without query strings."""
from __future__ import annotations

import http.client
import json
import logging
import re
import threading
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from werkzeug.serving import make_server

from app import create_app, gate
from app.platform import logs

DEAD_DATABASE = "postgresql+psycopg://kuulo@127.0.0.1:9/kuulo"  # nothing listens on port 9


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_a_sane_request_id_comes_back_and_is_in_the_requests_log_records(app_config, capsys):
    app = create_app({**app_config, "DATABASE_URL": DEAD_DATABASE, "LOG_FORMAT": "json"})
    resp = app.test_client().get("/healthz", headers={"X-Request-ID": "acceptance-1234"})
    assert resp.status_code == 503 and resp.headers["X-Request-ID"] == "acceptance-1234"
    [record] = [r for r in json_lines(capsys.readouterr().err) if "database unreachable" in r["message"]]
    assert record["request_id"] == "acceptance-1234"
    assert record["level"] == "WARNING" and record["logger"] == "app" and record["time"].endswith("+00:00")


def test_each_request_without_an_id_gets_its_own(client):
    first, second = (client.get("/healthz").headers["X-Request-ID"] for _ in range(2))
    assert re.fullmatch(r"[0-9a-f]{32}", first) and re.fullmatch(r"[0-9a-f]{32}", second) and first != second


@pytest.mark.parametrize("sent", ["two words", "x" * 129, "id;drop", "<script>", "ääkkönen", ""])
def test_an_unsafe_or_oversized_request_id_is_replaced(client, sent):
    answered = client.get("/healthz", headers={"X-Request-ID": sent}).headers["X-Request-ID"]
    assert answered != sent and re.fullmatch(r"[0-9a-f]{32}", answered)


@pytest.mark.parametrize("sent", ["a" * 128, "Root=1-5759e988-bd862e3fe1be46a994272793", "3f2a/b+c=:d.e_f"])
def test_trace_ids_of_common_shapes_are_echoed(client, sent):
    assert client.get("/healthz", headers={"X-Request-ID": sent}).headers["X-Request-ID"] == sent


class EverythingClosed:
    def closure(self, component: str, now: Any, language: str) -> gate.Closure:
        return gate.Closure(component, None, "http://kuulo.test/status/m/1", "Maintenance break")


def test_answers_that_never_reach_a_view_name_their_request_id_too(client):
    assert client.get("/no-such-page", headers={"X-Request-ID": "r-404"}).headers["X-Request-ID"] == "r-404"
    gate.set_provider(EverythingClosed())
    try:
        resp = client.get("/reset", headers={"X-Request-ID": "r-closed"})
    finally:
        gate.set_provider(None)
    assert resp.status_code == 503 and resp.headers["X-Request-ID"] == "r-closed"


def test_a_json_exception_record_carries_the_traceback_without_sql_parameters(app_config, capsys):
    create_app({**app_config, "LOG_FORMAT": "json"})
    error = IntegrityError("INSERT INTO patrons (name) VALUES (?)", ("Matti Meikäläinen",), Exception("NOT NULL"))
    try:
        raise error
    except IntegrityError:
        logging.getLogger("kuulo.ops_test").exception("registration failed")
    [record] = [r for r in json_lines(capsys.readouterr().err) if r["message"] == "registration failed"]
    assert "IntegrityError" in record["exc_info"] and "Traceback" in record["exc_info"]
    assert "Matti" not in json.dumps(record) and record["request_id"] is None  # no request: null


def test_text_records_name_the_request_id(app_config, capsys):
    app = create_app({**app_config, "DATABASE_URL": DEAD_DATABASE, "LOG_FORMAT": "text"})
    app.test_client().get("/healthz", headers={"X-Request-ID": "text-77"})
    line = next(x for x in capsys.readouterr().err.splitlines() if "database unreachable" in x)
    assert " WARNING [text-77] app: health check: database unreachable" in line


def test_text_is_the_default_in_development_and_json_in_production():
    assert logs.log_format({}) == "text"
    assert logs.log_format({"ENV_NAME": "production"}) == "json"
    assert logs.log_format({"ENV_NAME": "production", "LOG_FORMAT": "text"}) == "text"
    with pytest.raises(ValueError, match="KUULO_LOG_FORMAT"):
        logs.log_format({"LOG_FORMAT": "xml"})


def test_the_development_servers_access_line_shows_the_path_without_the_query(app, caplog):
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
            conn.request("GET", "/healthz?card=2000000001&pin=1234")
            assert conn.getresponse().status == 200
            conn.close()
    finally:
        server.shutdown()
        thread.join(10)
    access = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert any('"GET /healthz HTTP/1.1" 200' in line for line in access), access
    assert "2000000001" not in caplog.text and "pin=" not in caplog.text
