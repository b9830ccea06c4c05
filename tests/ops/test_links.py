"""Links in emails: KUULO_BASE_URL when set (production refuses to start without it); in development the host
the request came to, and http://127.0.0.1:5000 outside a request."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app import create_app
from app.notify.models import OutboxMessage
from app.platform import links
from tests import factories


def reset_mail_body(client: Any, sm: Any, now: Any, host_url: str) -> str:
    with sm.begin() as s:
        factories.patron(s, now, email="reader@test.kuulo")
    resp = client.post("/reset", data={"identifier": "reader@test.kuulo"}, base_url=host_url)
    assert resp.status_code == 200
    with sm.begin() as s:
        return s.scalars(select(OutboxMessage.body).where(OutboxMessage.key.startswith("reset:"))).one()


def test_without_a_base_url_the_reset_link_names_the_host_the_request_came_to(app_config, sm, now):
    client = create_app({**app_config, "BASE_URL": ""}).test_client()
    assert "http://192.168.1.20:5000/reset/" in reset_mail_body(client, sm, now, "http://192.168.1.20:5000")


def test_a_configured_base_url_wins_over_the_requests_host(client, sm, now):
    body = reset_mail_body(client, sm, now, "http://elsewhere.example")
    assert "http://kuulo.test/reset/" in body and "elsewhere.example" not in body


def test_outside_a_request_links_fall_back_to_the_development_server(app_config):
    app = create_app({**app_config, "BASE_URL": ""})
    with app.app_context():
        assert app.config["BASE_URL"] == links.base_url() == "http://127.0.0.1:5000"
    with app.test_request_context("/", base_url="http://localhost:5000"):
        assert app.config["BASE_URL"] == app.config.get("BASE_URL") == links.base_url() == "http://localhost:5000"


def test_production_refuses_to_start_without_a_base_url(app_config):
    production = {"ENV_NAME": "production", "SECRET_KEY": "s" * 40, "IDENTITY_HASH_KEY": "i" * 40,
                  "PAYTRAIL_SECRET": "p" * 40}
    with pytest.raises(RuntimeError, match="KUULO_BASE_URL"):
        create_app({**app_config, **production, "BASE_URL": ""})
    assert create_app({**app_config, **production, "BASE_URL": "https://kirjasto.example"}).config["BASE_URL"] == \
        "https://kirjasto.example"
