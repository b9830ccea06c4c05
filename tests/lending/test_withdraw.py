"""Withdrawing a book (staff page and CLI): gone from the catalogue and OPDS, no new loans or renewals,
current loans run to their end; bringing it back; roles, audit."""
from __future__ import annotations

from sqlalchemy import select

from app.audit import AuditEvent
from tests import factories


def titles_in_opds(client):
    return {p["metadata"]["title"] for p in client.get("/opds").json.get("publications", [])}


def test_a_producer_withdraws_a_book_and_returns_it(client, sm, now, books, reader):
    book = books["mp3"]
    assert reader.post(f"/api/v1/books/{book}/borrow").status_code == 201
    title = reader.get(f"/api/v1/books/{book}/manifest").json["metadata"]["title"]
    with sm.begin() as s:
        factories.staff(s, now, "producer")
    factories.login_staff(client)

    page = client.get("/staff/audiobooks")
    assert page.status_code == 200 and title in page.text and "In the catalogue" in page.text
    assert "<td>1</td>" in page.text and page.text.count("<td>0</td>") == 2  # current loans: 1, 0, 0
    found = client.get(f"/staff/audiobooks?q={title.split()[0]}")
    assert title in found.text
    done = client.post(f"/staff/audiobooks/{book}/withdraw", follow_redirects=True)
    assert done.status_code == 200 and "was withdrawn" in done.text and "Withdrawn" in done.text
    again = client.post(f"/staff/audiobooks/{book}/withdraw", follow_redirects=True)  # no change, no error
    assert again.status_code == 200 and "was withdrawn" in again.text

    assert title not in client.get("/library").text and title not in titles_in_opds(client)
    assert reader.post(f"/api/v1/books/{book}/renew").status_code == 409  # no renewal of a withdrawn book
    assert [loan["book"]["title"] for loan in reader.get("/api/v1/loans").json["loans"]] == [title]  # runs to its end
    assert reader.get(f"/api/v1/books/{book}/manifest").status_code == 200
    assert reader.get(f"/api/v1/books/{book}/tracks/1", Range="bytes=0-9").status_code == 206
    assert reader.post(f"/api/v1/books/{book}/return").status_code in (200, 204)
    assert reader.post(f"/api/v1/books/{book}/borrow").status_code == 409  # not available for new loans

    back = client.post(f"/staff/audiobooks/{book}/restore", follow_redirects=True)
    assert "in the catalogue again" in back.text
    assert title in client.get("/library").text
    assert reader.post(f"/api/v1/books/{book}/borrow").status_code == 201
    with sm.begin() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.record_type == "audiobook",
                                                            AuditEvent.record_id == str(book)).order_by(AuditEvent.id)).all()
    assert actions == ["lending.audiobook_created", "lending.audiobook_withdrawn", "lending.audiobook_restored"]


def test_only_producers_and_admins_manage_the_catalogue(client, sm, now, books):
    with sm.begin() as s:
        factories.staff(s, now, "librarian")
    factories.login_staff(client)
    assert client.get("/staff/audiobooks").status_code == 403
    assert client.post(f"/staff/audiobooks/{books['mp3']}/withdraw").status_code == 403
    assert "A Small Voyage" in client.get("/library").text  # still in the catalogue


def test_withdraw_and_restore_from_the_command_line(app, books):
    runner = app.test_cli_runner()
    out = runner.invoke(args=["media", "withdraw", str(books["m4b"])])
    assert out.exit_code == 0 and "withdrawn:" in out.output
    assert "(withdrawn)" in runner.invoke(args=["media", "list"]).output
    assert runner.invoke(args=["media", "restore", str(books["m4b"])]).exit_code == 0
    assert "(withdrawn)" not in runner.invoke(args=["media", "list"]).output
    missing = runner.invoke(args=["media", "withdraw", "99999"])
    assert missing.exit_code != 0 and "no audiobook has the id 99999" in missing.output
