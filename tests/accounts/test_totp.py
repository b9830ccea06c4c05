"""TOTP second factor of staff logins: enrolment, the login's second step, throttling, reset, production rule."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from app.accounts import totp
from app.accounts.models import StaffUser
from app.audit import AuditEvent
from tests import factories
from tests.conftest import FIXED_NOW

EMAIL = "staff@test.kuulo"


def enrol(client: Any, sm: Any) -> str:
    """Enrol the logged-in user at FIXED_NOW; the secret."""
    page = client.get("/staff/totp")
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page.text).group(1)
    assert "otpauth://totp/" in page.text
    resp = client.post("/staff/totp", data={"code": pyotp.TOTP(secret).at(FIXED_NOW)})
    assert resp.status_code == 302
    return secret


def test_enrol_then_login_asks_for_the_code(app, client, sm, now):
    with sm.begin() as s:
        factories.staff(s, now, "librarian")
    factories.login_staff(client)
    secret = enrol(client, sm, )
    with sm.begin() as s:
        user = s.scalar(select(StaffUser).where(StaffUser.email == EMAIL))
        assert user.totp_enabled_at == now and secret not in (user.totp_secret or "")  # stored encrypted
    client.post("/logout")
    resp = factories.login_staff(client)
    assert "/login/second-factor" in resp.headers["Location"]
    assert "/staff/login" in client.get("/staff").headers["Location"]  # not logged in yet
    # The code just used at enrolment does not work again; a wrong one neither.
    resp = client.post("/login/second-factor", data={"code": pyotp.TOTP(secret).at(now)})
    assert resp.status_code == 200 and "wrong or already used" in resp.text
    resp = client.post("/login/second-factor", data={"code": "000000"})
    assert resp.status_code == 200 and "wrong or already used" in resp.text
    resp = client.post("/login/second-factor", data={"code": pyotp.TOTP(secret).at(now + timedelta(seconds=30))})
    assert resp.status_code == 302
    assert client.get("/staff").status_code == 200


def test_enrolment_needs_a_right_code(client, sm, now):
    with sm.begin() as s:
        factories.staff(s, now)
    factories.login_staff(client)
    client.get("/staff/totp")
    resp = client.post("/staff/totp", data={"code": "123"})
    assert resp.status_code == 200 and "The code is wrong" in resp.text
    with sm.begin() as s:
        assert s.scalar(select(StaffUser.totp_enabled_at)) is None


def test_code_attempts_are_throttled(app, client, sm, now):
    app.config["LOGIN_MAX_FAILURES"] = 3
    with sm.begin() as s:
        factories.staff(s, now)
    factories.login_staff(client)
    secret = enrol(client, sm)
    client.post("/logout")
    factories.login_staff(client)
    for _ in range(3):
        client.post("/login/second-factor", data={"code": "999999"})
    resp = client.post("/login/second-factor",
                       data={"code": pyotp.TOTP(secret).at(now + timedelta(seconds=30))})
    assert resp.status_code == 200 and "locked" in resp.text


def test_login_without_the_password_step_is_sent_back(client):
    resp = client.get("/login/second-factor")
    assert resp.status_code == 302 and "/staff/login" in resp.headers["Location"]


def test_an_admin_resets_the_second_factor_and_the_cli_too(app, client, sm, now):
    with sm.begin() as s:
        factories.staff(s, now, "librarian")
        factories.staff(s, now, "admin", email="admin@test.kuulo")
    factories.login_staff(client)
    enrol(client, sm)
    with sm.begin() as s:
        uid = s.scalar(select(StaffUser.id).where(StaffUser.email == EMAIL))
    admin = app.test_client()
    admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    factories.login_staff(admin, "admin@test.kuulo")
    resp = admin.post(f"/staff/admin/users/{uid}/reset-totp", follow_redirects=True)
    assert "The second factor is removed" in resp.text
    with sm.begin() as s:
        assert s.get(StaffUser, uid).totp_enabled_at is None
    resp = factories.login_staff(app.test_client())
    assert "/login/second-factor" not in resp.headers["Location"]
    # CLI
    client.get("/staff/totp")
    with sm.begin() as s:
        assert s.get(StaffUser, uid).totp_secret is not None
    result = app.test_cli_runner().invoke(args=["accounts", "reset-totp", EMAIL])
    assert result.exit_code == 0 and "second factor removed" in result.output
    with sm.begin() as s:
        assert s.get(StaffUser, uid).totp_secret is None
        assert len(s.scalars(select(AuditEvent).where(AuditEvent.action == "staff.totp_reset")).all()) == 2


@pytest.mark.parametrize("required", [True, False])
def test_admins_without_totp_enrol_first_where_required(app, client, sm, now, required):
    app.config["TOTP_REQUIRED_FOR_ADMINS"] = required
    with sm.begin() as s:
        factories.staff(s, now, "admin")
    factories.login_staff(client)
    resp = client.get("/staff/admin/users")
    if not required:
        assert resp.status_code == 200
        return
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/staff/totp")
    assert "Administrators must use a second factor" in client.get("/staff/totp").text
    enrol(client, sm)
    assert client.get("/staff/admin/users").status_code == 200


def test_production_requires_totp_of_admins_by_default():
    admin = type("U", (), {"is_staff": True, "roles": {"admin"}, "totp_enabled_at": None})()
    assert totp.required_for({"ENV_NAME": "production"}, admin)
    assert not totp.required_for({"ENV_NAME": "development"}, admin)
    assert not totp.required_for({"ENV_NAME": "production", "TOTP_REQUIRED_FOR_ADMINS": False}, admin)
    admin.roles = {"librarian"}
    assert not totp.required_for({"ENV_NAME": "production"}, admin)


def test_the_secret_is_unreadable_with_another_key():
    stored = totp.encrypt({"SECRET_KEY": "a", "TOTP_ENCRYPTION_KEY": ""}, "JBSWY3DPEHPK3PXP")
    assert "JBSWY3DPEHPK3PXP" not in stored
    assert totp.decrypt({"SECRET_KEY": "a"}, stored) == "JBSWY3DPEHPK3PXP"
    assert totp.decrypt({"SECRET_KEY": "b"}, stored) is None
