"""`flask accounts create-staff|list|set-roles|disable|enable` and `flask libraries add|list`."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app import create_app
from app.accounts.models import StaffUser
from app.audit import AuditEvent

PASSWORD = "oikein-pitkä-salasana"


def cli(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def login(client, email, password):
    return client.post("/staff/login", data={"email": email, "password": password})


def staff_count(sm):
    with sm.begin() as s:
        return s.scalar(select(func.count()).select_from(StaffUser))


def test_acceptance_create_staff_on_the_demo_data_then_log_in(app, client):
    assert cli(app, "demo").exit_code == 0
    result = cli(app, "accounts", "create-staff", "olli@ops.example.test", "--name", "Olli Operaattori",
                 "--library", "helmet-helsinki", "--role", "librarian", "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    response = login(client, "olli@ops.example.test", PASSWORD)
    assert response.status_code == 302 and "/staff/login" not in response.headers["Location"]
    listing = cli(app, "accounts", "list").output
    row = next(line for line in listing.splitlines() if line.startswith("olli@ops.example.test"))
    assert "Olli Operaattori" in row and "helmet-helsinki" in row and "librarian" in row and "active" in row


def test_the_prompt_is_hidden_and_confirmed(app, client):
    cli(app, "libraries", "add", "tampere", "--name", "Tampereen kaupunginkirjasto")
    args = ["accounts", "create-staff", "tiina@ops.example.test", "--name", "Tiina", "--library", "tampere",
            "--role", "librarian", "--role", "reviewer"]
    result = cli(app, *args, input=f"{PASSWORD}\n{PASSWORD}x\n{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output and PASSWORD not in result.output
    assert login(client, "tiina@ops.example.test", PASSWORD).status_code == 302


@pytest.mark.parametrize(("change", "expected"), [
    ({"email": "librarian@demo.kuulo.test"}, "already exists"),
    ({"email": "LIBRARIAN@demo.kuulo.test"}, "already exists"),
    ({"library": "espoo"}, "known codes: helmet-helsinki, lumme-kuopio, outi-oulu, tampere"),
    ({"role": "superuser"}, "'superuser' is not one of"),
    ({"password": "lyhyt-pw"}, "at least 10 characters"),
    ({"password": ""}, "at least 10 characters"),
])
def test_create_staff_refusals_create_nobody(app, sm, change, expected):
    assert cli(app, "demo").exit_code == 0
    before = staff_count(sm)
    values = {"email": "uusi@ops.example.test", "library": "helmet-helsinki", "role": "librarian",
              "password": PASSWORD, **change}
    result = cli(app, "accounts", "create-staff", values["email"], "--name", "Uusi", "--library",
                 values["library"], "--role", values["role"], "--password-stdin", input=values["password"] + "\n")
    assert result.exit_code != 0
    assert expected in result.output
    assert staff_count(sm) == before


def test_first_admin_of_a_fresh_production_install(app_config, sm):
    prod = create_app({**app_config, "ENV_NAME": "production", "SECRET_KEY": "x" * 40,
                       "IDENTITY_HASH_KEY": "y" * 40, "PAYTRAIL_SECRET": "z" * 40})
    unknown = cli(prod, "accounts", "create-staff", "a@x.test", "--name", "A", "--library", "nowhere",
                  "--role", "admin", "--password-stdin", input=PASSWORD + "\n")
    assert unknown.exit_code != 0 and "no libraries yet" in unknown.output
    result = cli(prod, "accounts", "create-staff", "paakayttaja@kirjasto.example.test", "--name", "Pää Käyttäjä",
                 "--role", "admin", "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert login(prod.test_client(), "paakayttaja@kirjasto.example.test", PASSWORD).status_code == 302
    with sm.begin() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "staff.created"))
        assert event.actor == "cli" and event.details == {"roles": ["admin"]}


def test_roles_disable_enable_are_audited_and_keep_the_last_admin(app, sm, client):
    assert cli(app, "demo").exit_code == 0
    admin, librarian = "admin@demo.kuulo.test", "librarian@demo.kuulo.test"
    refused = cli(app, "accounts", "disable", admin)
    assert refused.exit_code != 0 and "last active administrator" in refused.output
    refused = cli(app, "accounts", "set-roles", admin, "--role", "librarian")
    assert refused.exit_code != 0 and "last active administrator" in refused.output

    assert cli(app, "accounts", "set-roles", librarian, "--role", "librarian", "--role", "admin").exit_code == 0
    assert cli(app, "accounts", "disable", admin).exit_code == 0
    assert login(client, admin, "kuulo-demo-2026").status_code == 200  # refused: the form again
    refused = cli(app, "accounts", "set-roles", librarian, "--role", "librarian")
    assert refused.exit_code != 0 and "last active administrator" in refused.output
    assert cli(app, "accounts", "enable", admin).exit_code == 0
    assert login(client, admin, "kuulo-demo-2026").status_code == 302
    assert cli(app, "accounts", "set-roles", librarian, "--role", "librarian").exit_code == 0

    listing = cli(app, "accounts", "list").output
    assert next(x for x in listing.splitlines() if x.startswith(librarian)).split()[-2:] == ["librarian", "active"]
    with sm.begin() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.actor == "cli").order_by(AuditEvent.id)).all()
        assert [(e.action, e.details) for e in events] == [
            ("staff.roles_changed", {"before": ["librarian"], "after": ["admin", "librarian"]}),
            ("staff.disabled", {}), ("staff.enabled", {}),
            ("staff.roles_changed", {"before": ["admin", "librarian"], "after": ["librarian"]})]
    assert cli(app, "accounts", "disable", "nobody@x.test").exit_code != 0


def test_libraries_add_list_and_refuse_a_duplicate(app, sm):
    result = cli(app, "libraries", "add", "vaski-turku", "--name", "Turun kaupunginkirjasto",
                 "--municipality", "Turku")
    assert result.exit_code == 0, result.output
    again = cli(app, "libraries", "add", "vaski-turku", "--name", "Toinen")
    assert again.exit_code != 0 and "already exists" in again.output
    assert cli(app, "libraries", "list").output.splitlines() == ["vaski-turku\tTurun kaupunginkirjasto\tTurku"]
    with sm.begin() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "library.created", AuditEvent.actor == "cli")) == 1


def test_token_prints_a_working_token_last_until_the_user_is_disabled(app, client):
    cli(app, "libraries", "add", "tampere", "--name", "Tampere")
    cli(app, "accounts", "create-staff", "t@ops.example.test", "--name", "T", "--library", "tampere",
        "--role", "librarian", "--password-stdin", input=PASSWORD + "\n")
    token = cli(app, "accounts", "token", "t@ops.example.test").output.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/registrations", json={}, headers=headers).status_code == 422
    assert cli(app, "accounts", "disable", "t@ops.example.test").exit_code == 0
    assert client.post("/api/v1/registrations", json={}, headers=headers).status_code == 401
