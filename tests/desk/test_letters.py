"""The letters queue at the desk: the day's letters as one PDF (one letter a page, the address in the window),
marked printed once; printing again, or a reprint, gives the same batch and marks nothing twice."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from app.audit import AuditEvent
from app.circulation.desk.letters import print_batch
from app.circulation.desk.ops_models import LetterBatch, LetterBatchLetter
from app.notify.models import OutboxMessage
from app.notify.service import outbox_row
from tests.desk.conftest import login

pytestmark = pytest.mark.usefixtures("desk")


def letter(sm: Any, at: Any, key: str, *, language: str = "fi", recipient: str = "Maija Meikäläinen\nKatu 1\n50100 Mikkeli",
           subject: str = "Muistutus", body: str = "Lainasi on myöhässä.") -> int:
    with sm.begin() as s:
        s.execute(OutboxMessage.__table__.insert().values(**outbox_row(
            key=key, channel="letter", recipient=recipient, language=language, template="circulation_overdue",
            subject=subject, body=body, context={}, now=at)))
        return s.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key))


def test_the_days_letters_print_once_as_one_pdf(client, sm, now):
    yesterday = now - timedelta(days=1)
    first = letter(sm, now, "a")
    second = letter(sm, now, "b", language="cs", recipient="Jiří Dvořák\nŘeznická 5\n110 00 Praha",
                    subject="Upomínka", body="Výpůjčka je po termínu vrácení.\n" + "Řádek.\n" * 80)
    older = letter(sm, yesterday, "c")
    email = letter(sm, now, "d")
    with sm.begin() as s:
        s.get(OutboxMessage, email).channel = "email"
    login(client, "clerk@test.kuulo")
    page = client.get("/staff/desk/letters")
    assert page.status_code == 200
    assert "Print the letters of 23 Nov 2026 (PDF) and mark them printed" in page.text
    assert "Print the letters of 22 Nov 2026" in page.text
    resp = client.post("/staff/desk/letters/2026-11-23/print")
    assert resp.status_code == 302 and "/staff/desk/letters/batches/" in resp.headers["Location"]
    pdf = client.get(resp.headers["Location"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert pdf.data.count(b"/Type /Page\n") >= 3  # one page, and the long Czech letter goes on to a second
    with sm.begin() as s:
        assert {s.get(OutboxMessage, i).status for i in (first, second)} == {"printed"}
        assert s.get(OutboxMessage, older).status == "pending" and s.get(OutboxMessage, email).status == "pending"
        assert s.scalar(select(func.count()).select_from(LetterBatch)) == 1
        printed_at = s.get(OutboxMessage, first).sent_at
    # Printing the same day again (a second click, another desk) gives the same batch and marks nothing.
    again = client.post("/staff/desk/letters/2026-11-23/print")
    assert again.headers["Location"] == resp.headers["Location"]
    reprint = client.get(again.headers["Location"])
    assert reprint.data == pdf.data
    with sm.begin() as s:
        assert s.scalar(select(func.count()).select_from(LetterBatch)) == 1
        assert s.scalar(select(func.count()).select_from(LetterBatchLetter)) == 2
        assert s.get(OutboxMessage, first).sent_at == printed_at
        assert s.scalar(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.action == "letter.batch_printed")) == 1
    page = client.get("/staff/desk/letters")
    assert "Reprint batch" in page.text and "Print the letters of 23 Nov 2026" not in page.text


def test_a_letter_is_in_one_batch_only_and_nothing_waiting_prints_nothing(client, sm, now):
    letter(sm, now, "a")
    with sm.begin() as s:
        assert print_batch(s, now.date(), timezone="Europe/Helsinki", now=now, actor="t") is not None
    with sm.begin() as s:
        assert print_batch(s, now.date(), timezone="Europe/Helsinki", now=now, actor="t") is None
    login(client, "clerk@test.kuulo")
    resp = client.post("/staff/desk/letters/2026-10-01/print")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/staff/desk/letters")
    assert "No letters of that day wait for printing." in client.get(resp.headers["Location"]).text
    assert client.post("/staff/desk/letters/not-a-day/print").status_code == 404
    assert client.get("/staff/desk/letters/batches/999.pdf").status_code == 404


def test_the_letters_queue_needs_a_desk_role(client, sm, now):
    assert client.get("/staff/desk/letters").status_code == 302
