"""/staff/admin/users and /staff/admin/libraries: what an administrator does, and what the pages refuse."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from app.accounts import service
from app.accounts.models import ApiToken, Library, OneTimeLink, StaffUser
from app.audit import AuditEvent
from app.notify.models import OutboxMessage
from tests import factories

ADMIN = "admin@test.kuulo"


def admin_client(client, sm, now, *, email=ADMIN):
    with sm.begin() as s:
        factories.staff(s, now, "admin", email=email)
    factories.login_staff(client, email)
    return client


def audited(sm, action):
    with sm.begin() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def test_an_admin_creates_a_librarian_who_sets_a_password_through_the_emailed_link(app, client, sm, now):
    admin_client(client, sm, now)
    with sm.begin() as s:
        lib_id = factories.library(s).id
    page = client.get("/staff/admin/users/new")
    assert page.status_code == 200 and "Add a staff user" in page.text
    resp = client.post("/staff/admin/users/new", data={
        "email": "Liisa@Library.Example", "name": "Liisa Lainaaja", "library": str(lib_id), "language": "fi",
        "roles": ["librarian", "circulation"]})
    assert resp.status_code == 302
    shown = client.get(resp.headers["Location"])
    assert "liisa@library.example was created" in shown.text
    with sm.begin() as s:
        user = s.scalar(select(StaffUser).where(StaffUser.email == "liisa@library.example"))
        assert user.roles == {"librarian", "circulation"} and user.library_id == lib_id
        message = s.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "liisa@library.example"))
        assert message.language == "fi" and message.status == "pending"
        link = re.search(r"http://kuulo.test(/reset/\S+)", message.body).group(1)
        # Only a hash of the link's secret is stored.
        assert s.scalar(select(OneTimeLink.token_hash).where(OneTimeLink.staff_user_id == user.id)) \
            == service.token_digest(link.rsplit("/", 1)[1])
    assert audited(sm, "staff.invited") == 1
    # No password works until the link is used.
    client.post("/logout")
    assert "/staff/login" in client.get("/staff").headers["Location"]
    assert client.post(link, data={"password": "uusi-salasana-1", "password_again": "uusi-salasana-1"}) \
        .status_code == 302
    resp = factories.login_staff(client, "liisa@library.example", "uusi-salasana-1")
    assert resp.status_code == 302 and "/staff/login" not in resp.headers["Location"]
    assert client.post(link, data={"password": "toinen-salasana", "password_again": "toinen-salasana"}) \
        .status_code == 410


def test_a_taken_email_and_bad_input_are_refused_with_a_message(client, sm, now):
    admin_client(client, sm, now)
    resp = client.post("/staff/admin/users/new", data={"email": ADMIN, "name": "Copy", "library": "",
                                                       "language": "en", "roles": ["librarian"]})
    assert resp.status_code == 200 and "exists already" in resp.text and 'role="alert"' in resp.text
    resp = client.post("/staff/admin/users/new", data={"email": "x\0@y", "name": "A" * 300, "library": "999",
                                                       "language": "xx", "roles": ["emperor"]})
    assert resp.status_code == 200 and "There is a problem" in resp.text
    with sm.begin() as s:
        assert s.scalar(select(func.count()).select_from(StaffUser)) == 1


def test_search_by_name_or_email(client, sm, now):
    admin_client(client, sm, now)
    with sm.begin() as s:
        factories.staff(s, now, "librarian", email="maija@lib.example")
    page = client.get("/staff/admin/users?q=MAIJA")
    assert "maija@lib.example" in page.text and ADMIN not in page.text
    page = client.get("/staff/admin/users?q=Test+Staff")  # the factories' name
    assert "maija@lib.example" in page.text and ADMIN in page.text
    assert "No staff user matches" in client.get("/staff/admin/users?q=%25_nobody").text


def test_roles_disable_enable_and_revoke_tokens(client, sm, now):
    admin_client(client, sm, now)
    with sm.begin() as s:
        other = factories.staff(s, now, "librarian", email="other@lib.example")
        service.issue_token(s, now=now, days=30, staff=other, name="ils")
        uid = other.id
    client.post(f"/staff/admin/users/{uid}/roles", data={"roles": ["reviewer", "admin"]})
    client.post(f"/staff/admin/users/{uid}/disable")
    with sm.begin() as s:
        user = s.get(StaffUser, uid)
        assert user.roles == {"reviewer", "admin"} and not user.active
    assert factories.login_staff(client.application.test_client(), "other@lib.example").status_code == 200
    client.post(f"/staff/admin/users/{uid}/enable")
    page = client.get(f"/staff/admin/users/{uid}")
    assert "Live API tokens" in page.text
    resp = client.post(f"/staff/admin/users/{uid}/revoke-tokens", follow_redirects=True)
    assert "Every API token of the user is revoked" in resp.text
    with sm.begin() as s:
        assert s.get(StaffUser, uid).active
        assert s.scalar(select(ApiToken.revoked_at).where(ApiToken.staff_user_id == uid)) is not None
    for action in ("staff.roles_changed", "staff.disabled", "staff.enabled", "staff.tokens_revoked"):
        assert audited(sm, action) == 1, action


def test_the_last_active_admin_cannot_remove_its_admin_role_or_disable_itself(client, sm, now):
    admin_client(client, sm, now)
    with sm.begin() as s:
        me = s.scalar(select(StaffUser.id).where(StaffUser.email == ADMIN))
    resp = client.post(f"/staff/admin/users/{me}/roles", data={"roles": ["librarian"]}, follow_redirects=True)
    assert "last active administrator" in resp.text
    resp = client.post(f"/staff/admin/users/{me}/disable", follow_redirects=True)
    assert "last active administrator" in resp.text
    with sm.begin() as s:
        user = s.get(StaffUser, me)
        assert user.active and "admin" in user.roles
        second = factories.staff(s, now, "admin", email="second@lib.example")
    # With another active admin, it can step down.
    client.post(f"/staff/admin/users/{me}/roles", data={"roles": ["librarian"]})
    with sm.begin() as s:
        assert s.get(StaffUser, me).roles == {"librarian"}
        assert s.get(StaffUser, second.id).active


def test_pages_and_changes_need_the_admin_role_and_a_csrf_token(app, client, sm, now):
    with sm.begin() as s:
        factories.staff(s, now, "librarian")
        uid = factories.staff(s, now, "admin", email=ADMIN).id
    factories.login_staff(client)
    assert client.get("/staff/admin/users").status_code == 403
    assert client.post(f"/staff/admin/users/{uid}/disable").status_code == 403
    app.config["WTF_CSRF_ENABLED"] = True
    admin = app.test_client()
    page = admin.get("/staff/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    admin.post("/staff/login", data={"email": ADMIN, "password": factories.PASSWORD, "csrf_token": token})
    assert admin.post(f"/staff/admin/users/{uid}/disable").status_code == 400
    with sm.begin() as s:
        assert s.get(StaffUser, uid).active


def test_libraries_are_listed_added_and_renamed(client, sm, now):
    admin_client(client, sm, now)
    resp = client.post("/staff/admin/libraries", data={"code": "tampere", "name": "Tampereen kirjasto",
                                                       "municipality": "Tampere"}, follow_redirects=True)
    assert "The library tampere was added" in resp.text and "Tampereen kirjasto" in resp.text
    resp = client.post("/staff/admin/libraries", data={"code": "tampere", "name": "Toinen"})
    assert resp.status_code == 200 and "exists already" in resp.text
    with sm.begin() as s:
        lib_id = s.scalar(select(Library.id).where(Library.code == "tampere"))
    assert client.get(f"/staff/admin/libraries/{lib_id}").status_code == 200
    client.post(f"/staff/admin/libraries/{lib_id}", data={"name": "Tampereen pääkirjasto Metso",
                                                          "municipality": "Tampere"})
    with sm.begin() as s:
        assert s.get(Library, lib_id).name == "Tampereen pääkirjasto Metso"
    assert audited(sm, "library.created") == 1 and audited(sm, "library.renamed") == 1
    assert client.get("/staff/admin/libraries/2147483647").status_code == 404


def test_the_staff_home_links_the_admin_pages(client, sm, now):
    admin_client(client, sm, now)
    home = client.get("/staff").text
    for path in ("/staff/admin/users", "/staff/admin/libraries", "/staff/admin/outbox", "/staff/admin/jobs"):
        assert f'href="{path}"' in home


def test_the_pages_speak_finnish_and_swedish(client, sm, now):
    admin_client(client, sm, now)
    for language in ("fi", "sv"):
        page = client.get("/staff/admin/users", headers={"Accept-Language": language})
        assert page.status_code == 200 and f'lang="{language}"' in page.text
