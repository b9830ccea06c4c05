"""`flask demo`: fixed credentials, idempotent, refused in production."""
from __future__ import annotations

from sqlalchemy import func, select

from app import create_app
from app.accounts.models import Patron, StaffUser
from app.demo import STAFF


def test_demo_twice_changes_nothing(app, sm):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    with sm.begin() as s:
        counts = (s.scalar(select(func.count()).select_from(StaffUser)),
                  s.scalar(select(func.count()).select_from(Patron)))
    assert runner.invoke(args=["demo"]).exit_code == 0
    with sm.begin() as s:
        assert counts == (s.scalar(select(func.count()).select_from(StaffUser)),
                          s.scalar(select(func.count()).select_from(Patron)))
    assert counts[0] == len(STAFF) and counts[1] >= 5  # every demo staff user once


def test_demo_credentials_work(app, client):
    app.test_cli_runner().invoke(args=["demo"])
    assert client.post("/staff/login", data={"email": "admin@demo.kuulo.test",
                                             "password": "kuulo-demo-2026"}).status_code == 302
    client.post("/logout")
    assert client.post("/login", data={"card_number": "2000000001", "secret": "1234"}).status_code == 302


def test_demo_refuses_production(app_config):
    app = create_app({**app_config, "ENV_NAME": "production", "SECRET_KEY": "x" * 40,
                      "IDENTITY_HASH_KEY": "y" * 40, "PAYTRAIL_SECRET": "z" * 40})
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0 and "production" in result.output


def test_staff_token_cli_prints_a_working_token(app, client):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo"])
    result = runner.invoke(args=["accounts", "token", "librarian@demo.kuulo.test"])
    assert result.exit_code == 0
    token = result.output.strip().splitlines()[-1]
    assert len(token) > 30


def test_production_refuses_the_development_secrets(app_config):
    import pytest

    with pytest.raises(RuntimeError, match="KUULO_SECRET_KEY"):
        create_app({**app_config, "ENV_NAME": "production", "SECRET_KEY": "kuulo-dev-secret-change-me"})
