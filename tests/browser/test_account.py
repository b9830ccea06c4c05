"""My account in the browser, keyboard only after the login form: the demo Lumme patron renews all her loans
and reads the result per item (one renewed, the reserved one refused in words); the Tampere patron who owes
10.01 sees her ban, pays online through a local fake of Paytrail (hosted page, signed return, the callback
called twice) and the ban lifts at once with one emailed receipt; a guardian renews her child's loan acting
for her; the Czech library's patron reads her loans, holds and fines in Czech (axe-core in cs), gives her
email address and gets her reminder in Czech."""
from __future__ import annotations

import html
import json
import threading
import urllib.request
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from app.circulation.paytrail import signature
from tests.browser.support import axe_check, db_session, login_patron, path_of, press, skip_to_main, tab_to
from tests.circulation.fake_paytrail import SECRET, FakePaytrail
from tests.conftest import FIXED_NOW

pytestmark = pytest.mark.browser


@pytest.fixture()
def reserved_dvd(live_server: Any) -> Any:
    """Another Lumme patron reserves the DVD the demo patron has on loan (L0004); cancelled afterwards."""
    from app.accounts import service as accounts
    from app.circulation import service
    from app.circulation.models import Hold

    with db_session(live_server.app) as s:
        other = accounts.create_patron(s, name="Varaaja", email="", pin="1234", language="fi", now=FIXED_NOW,
                                       actor="test")
        service.enrol_patron(s, patron_id=other.id, library_code="lumme", category="adult", home_branch="mikkeli",
                             notice_channels=[], postal_address="", responsible_patron_id=None, now=FIXED_NOW,
                             actor="test", card_expires_on=date(2030, 1, 1))
        hold = service.place_hold(s, patron_id=other.id, item_barcode="L0004", now=FIXED_NOW, actor="test").hold
        assert hold is not None
        hold_id = hold.id
    yield
    with db_session(live_server.app) as s:
        if s.scalar(select(Hold.state).where(Hold.id == hold_id)) != "cancelled":
            service.cancel_hold(s, hold_id, by="library", now=FIXED_NOW, actor="test")


def test_the_lumme_patron_renews_with_the_keyboard_and_reads_each_result(make_context: Any, reserved_dvd: Any):
    page = make_context(locale="en-GB").new_page()
    login_patron(page, "2000000001")
    page.goto("/account/loans")
    assert "Tuntematon sotilas" in page.locator("main").inner_text()
    skip_to_main(page)
    tab_to(page, lambda info: info["tag"] == "button" and info["name"] == "renew_all", limit=40)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == "/account/loans/renew"
    results = page.get_by_role("status").filter(has_text="Renewal results")
    text = results.inner_text()
    assert "Tuntematon sotilas: renewed, now due on" in text
    assert "Tuntematon sotilas (DVD): not renewed. The item is reserved for another patron." in text
    assert page.evaluate("document.activeElement.id") == "page-title", "the page's heading takes focus"
    assert press(page, "Tab")["tag"] in ("a", "input", "button")
    axe_check(page)
    for path in ("/account", "/account/holds", "/account/fines", "/account/profile", "/account/cards"):
        page.goto(path)
        axe_check(page)


def test_the_czech_patron_reads_her_account_in_czech(make_context: Any):
    page = make_context(locale="cs-CZ").new_page()
    login_patron(page, "2000000004")
    for path, heading in (("/account/loans", "Výpůjčky a prodloužení"), ("/account/holds", "Rezervace"),
                          ("/account/fines", "Poplatky a platby")):
        page.goto(path)
        assert page.evaluate("document.documentElement.lang") == "cs"
        assert page.locator("h1").inner_text() == heading
        axe_check(page)
    page.goto("/account/loans")
    assert "Babička" in page.locator("main").inner_text()


# -- the Tampere patron pays online ------------------------------------------------------------------


class _PaytrailHandler(BaseHTTPRequestHandler):
    """Paytrail on loopback: its API (the fake checks our signature and signs its answer like the real one)
    and its hosted payment page, a link back to our return address with the signed result."""

    fake: FakePaytrail

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, answer_headers, answer = self.fake(self.path, headers, body)
        data = json.loads(answer)  # the hosted page is ours on loopback: sign the answer again, as Paytrail does
        data["href"] = f"http://127.0.0.1:{self.server.server_port}/pay/{data['transactionId']}"
        answer = json.dumps(data).encode()
        answer_headers["signature"] = signature(SECRET, answer_headers, answer.decode())
        self._send(status, answer_headers, answer)

    def do_GET(self) -> None:  # noqa: N802
        transaction = self.path.rsplit("/", 1)[1]
        back = self.fake.payments[transaction]["redirectUrls"]["success"]
        href = html.escape(f"{back}?{urlencode(self.fake.result(transaction))}")
        page = (f'<!doctype html><html lang="en"><title>Paytrail</title><main><h1>Pay</h1>'
                f'<a id="pay" href="{href}">Pay with the test bank</a></main></html>').encode()
        self._send(200, {"content-type": "text/html; charset=utf-8"}, page)

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture()
def fake_paytrail(live_server: Any) -> Iterator[FakePaytrail]:
    """A fake Paytrail API served on loopback; the live server talks to it for this test only."""
    fake = FakePaytrail()
    handler = type("Handler", (_PaytrailHandler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="fake-paytrail", daemon=True)
    thread.start()
    old = live_server.app.config.get("PAYTRAIL_API_URL")
    live_server.app.config["PAYTRAIL_API_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield fake
    if old is None:
        live_server.app.config.pop("PAYTRAIL_API_URL", None)
    else:
        live_server.app.config["PAYTRAIL_API_URL"] = old
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture()
def tampere_owes_10_01(live_server: Any) -> Iterator[int]:
    """The demo Tampere patron (2000000003) owes 10.01, one cent over the ban threshold of 10.00 [003]."""
    from app.accounts.models import Patron
    from app.circulation import service
    from app.circulation.models import CircLibrary
    from app.circulation.money import Money
    from app.circulation.service_common import add_fee

    with db_session(live_server.app) as s:
        patron_id = s.scalar(select(Patron.id).where(Patron.card_number == "2000000003"))
        library_id = s.scalar(select(CircLibrary.id).where(CircLibrary.code == "tampere"))
        add_fee(s, patron_id=patron_id, library_id=library_id, kind="overdue_fine", amount=Money.parse("10.01", "EUR"),
                reason="browser test", now=FIXED_NOW, actor="test", dedup_key="browser-test:tampere-10.01")
        service.recompute_billing_ban(s, patron_id, now=FIXED_NOW, actor="test")
    yield patron_id


def test_the_tampere_patron_sees_the_ban_pays_online_and_the_receipt_comes_once(
        make_context: Any, live_server: Any, fake_paytrail: FakePaytrail, tampere_owes_10_01: int):
    from app.circulation.models import Payment
    from app.notify.models import OutboxMessage

    page = make_context(locale="en-GB").new_page()

    login_patron(page, "2000000003")
    assert path_of(page) == "/account"
    main = page.locator("main").inner_text()
    assert "Your borrowing rights are suspended" in main and "10.01" in main.replace(",", ".")
    axe_check(page)
    page.goto("/account/fines")
    text = page.locator("main").inner_text()
    assert "Suspended until enough of the fees are paid" in text
    skip_to_main(page)
    tab_to(page, lambda info: info["tag"] == "button" and "online" in info["text"], limit=40)
    with page.expect_navigation(url="**/pay/*"):
        page.keyboard.press("Enter")
    tab_to(page, lambda info: info["id"] == "pay", limit=5)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == "/account/fines/paid"
    receipt = page.get_by_role("status").inner_text()
    assert "Thank you: your payment of" in receipt and "has been received" in receipt
    axe_check(page)

    # Paytrail's server calls the callback too — twice, as it may: both answered, the payment booked once.
    transaction = next(iter(fake_paytrail.payments))
    callback = f"{live_server.base_url}/api/v1/circulation/payments/paytrail/callback?" \
               f"{urlencode(fake_paytrail.result(transaction))}"
    for _ in range(2):
        with urllib.request.urlopen(callback, timeout=10) as answer:  # noqa: S310 - loopback
            assert answer.status == 200 and json.loads(answer.read())["outcome"] == "already_booked"

    page.goto("/account")  # the ban lifted at once
    assert "Your borrowing rights are suspended" not in page.locator("main").inner_text()
    page.goto("/account/fines")
    assert "In force" in page.locator("main").inner_text()
    with db_session(live_server.app) as s:
        payment = s.scalars(select(Payment).where(Payment.patron_id == tampere_owes_10_01,
                                                  Payment.method == "online")).one()
        assert payment.status == "paid" and payment.amount_minor == 1001
        receipts = s.scalar(select(func.count()).select_from(OutboxMessage)
                            .where(OutboxMessage.key == f"circ:payment-receipt:{payment.id}"))
        assert receipts == 1


# -- a guardian acts for her child --------------------------------------------------------------------


def test_a_guardian_renews_her_childs_loan_acting_for_her(make_context: Any, live_server: Any):
    from app.audit import AuditEvent

    page = make_context(locale="en-GB").new_page()
    login_patron(page, "2000000001")  # Maija answers for Kaisa (2000000005)
    skip_to_main(page)
    tab_to(page, lambda info: info["tag"] == "a" and "Act for Kaisa" in info["text"], limit=40)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == "/account/loans"
    assert page.locator("h1").inner_text() == "Loans of Kaisa Koululainen"
    assert "You are acting for Kaisa Koululainen." in page.locator("main").inner_text()
    axe_check(page)
    skip_to_main(page)
    tab_to(page, lambda info: info["tag"] == "input" and info["type"] == "checkbox", limit=40)
    page.keyboard.press("Space")
    tab_to(page, lambda info: info["tag"] == "button" and info["name"] == "renew_selected", limit=10)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    results = page.get_by_role("status").filter(has_text="Renewal results").inner_text()
    assert "Muumipeikko ja pyrstötähti: renewed, now due on" in results
    assert "You are acting for Kaisa Koululainen." in page.locator("main").inner_text()
    axe_check(page)
    with db_session(live_server.app) as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.action == "circulation.acting_for",
                               AuditEvent.details["what"].as_string() == "renew")) >= 1


# -- the Czech patron's reminder ---------------------------------------------------------------------


def test_the_czech_patron_gives_her_email_and_gets_her_reminder_in_czech(make_context: Any, live_server: Any):
    from app.accounts.models import Patron
    from app.circulation.messages import MessageRenderer
    from app.circulation.models import CircLibrary, Loan
    from app.circulation.service_nightly import today_of
    from app.circulation.service_notices import NoticeBatch
    from app.notify.models import OutboxMessage

    page = make_context(locale="cs-CZ").new_page()
    login_patron(page, "2000000004")
    page.goto("/account/profile")
    assert page.evaluate("document.documentElement.lang") == "cs"
    skip_to_main(page)
    tab_to(page, lambda info: info["id"] == "email", limit=30)
    page.keyboard.type("matti@ctenar.example")
    tab_to(page, lambda info: info["tag"] == "button", limit=10)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path_of(page) == "/account/profile"
    assert page.locator("#email").input_value() == "matti@ctenar.example"
    skip_to_main(page)  # and notices by email
    tab_to(page, lambda info: info["id"] == "by_email", limit=40)
    if not page.locator("#by_email").is_checked():
        page.keyboard.press("Space")
    tab_to(page, lambda info: info["tag"] == "button", limit=20)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#by_email").is_checked()
    axe_check(page)
    # The night's notice run for her overdue loan (Babička, borrowed 36 days before): the reminder is Czech.
    with db_session(live_server.app) as s:
        patron_id = s.scalar(select(Patron.id).where(Patron.card_number == "2000000004"))
        library = s.scalars(select(CircLibrary).where(CircLibrary.code == "czech")).one()
        loan_id = s.scalar(select(Loan.id).where(Loan.patron_id == patron_id, Loan.status == "open"))
        NoticeBatch(s, now=FIXED_NOW, renderer=MessageRenderer(), libraries={library.id: library}).run(
            [loan_id], {library.id: today_of(library, FIXED_NOW)})
    with db_session(live_server.app) as s:
        message = s.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "matti@ctenar.example")).one()
        assert message.language == "cs" and "upomínka" in message.subject
        assert message.body.startswith("Dobrý den") and "Babička" in message.body
