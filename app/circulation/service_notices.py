"""Notices through the outbox: due-date and overdue notices per preset schedule, their fees,
invoices and collection referrals, hold-ready notices and receipts.

A step the preset sends by letter goes to the postal address on file whatever channels the patron
chose (the channels are the patron's choice for email and SMS only); a child's guardian without an
address of their own gets it at the child's (household) address; and with no address at all the
letter still joins the letters queue at /staff/letters, its address block saying that staff must
look the address up — nobody is left uninvoiced because a row lacked an address.

Every notice is unique per loan × due date × step three times over — the ``circ_notices_sent``
row, the outbox key and the fee's ledger key — and all three are written in one transaction with
INSERT … ON CONFLICT DO NOTHING, so a second run, a run after a crash, or two schedulers at once
send and charge nothing twice.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.accounts.models import Patron
from app.circulation.bulk import ids_in, insert_once, update_column_by_id
from app.circulation.messages import MessageRenderer, date_text, money_in, money_text
from app.circulation.models import (
    Branch,
    CircLibrary,
    FeeEntry,
    Hold,
    Item,
    Loan,
    NoticeSent,
    PatronCirculation,
    Referral,
)
from app.circulation.money import Money
from app.circulation.notices import (
    ContactChannels,
    PatronNoticeFacts,
    PlannedNotice,
    next_notice_date,
    plan_notices_and_unreachable,
)
from app.circulation.policy import ADVANCE_NOTICE_CODE, Policy
from app.circulation.service_common import contacts_of, fee_row, policy_of
from app.notify import service as notify
from app.notify.models import OutboxMessage

SYSTEM = "system:circulation-nightly"


def due_date_of(loan: Loan) -> date:
    """The loan's due date in its checkout branch's local time (stored as an ordinal)."""
    return date.fromordinal(loan.due_day)


def schedule_next_notice(session: Session, loan: Loan, circ: PatronCirculation, policy: Policy,
                         is_childrens_material: bool, *, after: date) -> None:
    """Set the day the nightly job next looks at this loan (None: no notice will ever be due). A loan not yet
    written (a checkout) has had no notices: no query, and its INSERT carries the day."""
    due_date = due_date_of(loan)
    sent = set() if loan.id is None else set(session.scalars(select(NoticeSent.step_code).where(
        NoticeSent.loan_id == loan.id, NoticeSent.due_date == due_date)))
    facts = PatronNoticeFacts(category=circ.category, contacts=ContactChannels(), opted_out=circ.notices_opted_out,
                              advance_notice_days=circ.advance_notice_days)
    loan.next_notice_on = next_notice_date(due_date=due_date, after=after, already_sent=sent, patron=facts,
                                           is_childrens_material=is_childrens_material, policy=policy)
    session.flush()


def reschedule_patron_notices(session: Session, patron_id: int, *, now: datetime) -> None:
    """After the patron changed their notice choices (advance days, opt-out)."""
    circ = session.get(PatronCirculation, patron_id)
    library = session.get(CircLibrary, circ.library_id) if circ else None
    if circ is None or library is None:
        return
    policy = policy_of(library)
    today = now.astimezone(ZoneInfo(policy.timezone)).date()
    rows = session.execute(select(Loan, Item.is_childrens_material).join(Item, Item.id == Loan.item_id)
                           .where(Loan.patron_id == patron_id, Loan.status == "open"))
    for loan, childrens in rows:
        schedule_next_notice(session, loan, circ, policy, childrens, after=today - timedelta(days=1))


_STEP_DAYS: dict[int, dict[str, int]] = {}  # by id() of the (cached, immutable) policy


def _step_days(policy: Policy) -> dict[str, int]:
    days = _STEP_DAYS.get(id(policy))
    if days is None:
        days = _STEP_DAYS[id(policy)] = {step.code: step.days for step in policy.notices}
    return days


def _template(planned: PlannedNotice, step_days: int) -> tuple[str, tuple[tuple[str, Any], ...]]:
    if planned.triggers in ("invoice", "collection"):
        return "circulation_invoice", (("kind", planned.triggers),)
    if planned.step_code == ADVANCE_NOTICE_CODE or step_days <= 0:
        return "circulation_due_soon", (("last_day", planned.step_code != ADVANCE_NOTICE_CODE),)
    return "circulation_overdue", (("has_fee", planned.fee.is_positive),
                                   ("registered", planned.channel == "registered_letter"))


@dataclass(frozen=True, slots=True)
class Person:
    """A notice recipient as plain values (the nightly job reads rows, not ORM objects)."""

    id: int
    name: str
    email: str
    phone: str
    language: str
    card_number: str = ""
    category: str = ""
    responsible_patron_id: int | None = None
    notice_channels: tuple[str, ...] = ()
    postal_address: str = ""
    advance_notice_days: int | None = None
    notices_opted_out: bool = False
    has_circulation: bool = True
    contacts: ContactChannels = ContactChannels()

    @classmethod
    def of(cls, **values: Any) -> Person:
        person = cls(**values)
        if not person.has_circulation:  # a guardian who does not borrow: email, or the child's address
            contacts = ContactChannels(email=bool(person.email), postal_address=bool(person.postal_address))
        else:  # email and SMS as chosen; a letter by rule goes to any address on file [000,001,004]
            wanted = set(person.notice_channels)
            contacts = ContactChannels(email="email" in wanted and bool(person.email),
                                       sms="sms" in wanted and bool(person.phone),
                                       postal_address=bool(person.postal_address))
        return replace(person, contacts=contacts)

    def at_household_of(self, child: Person) -> Person:
        """A guardian without an address of their own, reached by post at the child's address."""
        if self.postal_address or not child.postal_address:
            return self
        return replace(self, postal_address=child.postal_address,
                       contacts=replace(self.contacts, postal_address=True))

    def address(self, channel: str, *, missing: bool = False) -> str:
        if channel == "email":
            return self.email
        if channel == "sms":
            return self.phone
        if missing:
            return f"{self.name}\n{_missing_address_line(self.language) % {'card': self.card_number}}"
        return f"{self.name}\n{self.postal_address}".strip()


_MISSING_ADDRESS: dict[str, str] = {}


def _missing_address_line(language: str) -> str:
    """The address block of a letter for a patron with no postal address, for the staff who post it
    (in the letter's language; gettext once per language, the nightly run writes many)."""
    line = _MISSING_ADDRESS.get(language)
    if line is None:
        with force_locale(language):
            line = _MISSING_ADDRESS[language] = _(
                "NO POSTAL ADDRESS ON FILE (card %(card)s): look the address up before posting.",
                card="%(card)s")
    return line


PERSON_COLUMNS = (Patron.id, Patron.name, Patron.email, Patron.phone, Patron.language, Patron.card_number,
                  PatronCirculation.category,
                  PatronCirculation.responsible_patron_id, PatronCirculation.notice_channels,
                  PatronCirculation.postal_address, PatronCirculation.advance_notice_days,
                  PatronCirculation.notices_opted_out)
LOAN_COLUMNS = (Loan.id, Loan.patron_id, Loan.library_id, Loan.due_day, Loan.next_notice_on, Loan.currency,
                Item.title, Item.barcode, Item.is_childrens_material, Item.replacement_price_minor)


class NoticeBatch:
    """Plans and writes the notices of a batch of loans in one transaction (the nightly job).

    Reads plain rows with Core queries and writes with bulk INSERT … ON CONFLICT DO NOTHING and
    one executemany UPDATE: no ORM object per loan.
    """

    def __init__(self, session: Session, *, now: datetime, renderer: MessageRenderer,
                 libraries: dict[int, CircLibrary], people: dict[int, Person] | None = None) -> None:
        self.session, self.now, self.renderer, self.libraries = session, now, renderer, libraries
        self.people = people if people is not None else {}  # shared by the batches of one run
        self.notices: list[dict[str, Any]] = []
        self.outbox: list[dict[str, Any]] = []
        self.fees: list[dict[str, Any]] = []
        self.referrals: list[dict[str, Any]] = []
        self.collection_patrons: set[int] = set()
        self.next_days: list[tuple[int, date | None]] = []

    def run(self, loan_ids: list[int], todays: dict[int, date]) -> int:
        """Process ``loan_ids``; ``todays`` is each library's local date. Returns messages queued."""
        s = self.session
        loans = s.execute(select(*LOAN_COLUMNS).join(Item, Item.id == Loan.item_id)
                          .where(ids_in(s, Loan.id, loan_ids), Loan.status == "open")).all()
        people = self._people({loan.patron_id for loan in loans})
        sent: dict[tuple[int, date], set[str]] = defaultdict(set)
        for loan_id, due, code in s.execute(select(NoticeSent.loan_id, NoticeSent.due_date, NoticeSent.step_code)
                                            .where(ids_in(s, NoticeSent.loan_id, loan_ids))):
            sent[(loan_id, due)].add(code)
        for loan in loans:
            today = todays[loan.library_id]
            if loan.next_notice_on is None or loan.next_notice_on > today:
                continue
            library = self.libraries[loan.library_id]
            self._plan(loan, policy_of(library), library, people, sent[(loan.id, date.fromordinal(loan.due_day))],
                       today)
        self._write()
        return len(self.outbox)

    def _people(self, patron_ids: set[int]) -> dict[int, Person]:
        def load(ids: set[int]) -> None:
            rows = self.session.execute(select(*PERSON_COLUMNS).join(
                PatronCirculation, PatronCirculation.patron_id == Patron.id).where(ids_in(self.session, Patron.id, ids)))
            for row in rows:
                people[row.id] = Person.of(
                    id=row.id, name=row.name, email=row.email, phone=row.phone, language=row.language or "fi",
                    card_number=row.card_number, category=row.category, responsible_patron_id=row.responsible_patron_id,
                    notice_channels=tuple(row.notice_channels or ()), postal_address=row.postal_address,
                    advance_notice_days=row.advance_notice_days, notices_opted_out=row.notices_opted_out)

        people = self.people
        load(patron_ids - set(people))
        missing = {people[p].responsible_patron_id for p in patron_ids
                   if p in people and people[p].responsible_patron_id} - set(people)
        if missing:
            load(missing)
            for row in self.session.execute(select(Patron.id, Patron.name, Patron.email, Patron.phone,
                                                   Patron.language, Patron.card_number)
                                            .where(ids_in(self.session, Patron.id, missing - set(people)))):
                people[row.id] = Person.of(id=row.id, name=row.name, email=row.email, phone=row.phone,
                                           language=row.language or "fi", card_number=row.card_number,
                                           has_circulation=False)
        return people

    def _plan(self, loan: Any, policy: Policy, library: CircLibrary, people: dict[int, Person], sent: set[str],
              today: date) -> None:
        patron = people[loan.patron_id]
        guardian = people.get(patron.responsible_patron_id) if patron.responsible_patron_id else None
        if guardian is not None:
            guardian = guardian.at_household_of(patron)
        due_date = date.fromordinal(loan.due_day)
        facts = PatronNoticeFacts(category=patron.category, contacts=patron.contacts,
                                  guardian=guardian.contacts if guardian else None,
                                  opted_out=patron.notices_opted_out, advance_notice_days=patron.advance_notice_days)
        planned, unreachable = plan_notices_and_unreachable(
            due_date=due_date, today=today, already_sent=sent, patron=facts,
            is_childrens_material=loan.is_childrens_material, policy=policy)
        step_days = _step_days(policy)
        for notice in planned:
            person = guardian if notice.recipient == "guardian" and guardian else patron
            self._notice(loan, library, notice, step_days.get(notice.step_code, -1), patron, person, today)
        for code in unreachable:
            self.notices.append(self._notice_row(loan.id, due_date, code, "none", "patron",
                                                 Money.zero(loan.currency), None, today))
        handled = sent | {n.step_code for n in planned} | set(unreachable)
        next_day = next_notice_date(due_date=due_date, after=today, already_sent=handled, patron=facts,
                                    is_childrens_material=loan.is_childrens_material, policy=policy)
        self.next_days.append((loan.id, next_day))

    def _notice_row(self, loan_id: int, due_date: date, code: str, channel: str, recipient: str, fee: Money,
                    key: str | None, today: date) -> dict[str, Any]:
        return {"loan_id": loan_id, "due_date": due_date, "step_code": code, "channel": channel,
                "recipient": recipient, "fee_minor": fee.minor, "currency": fee.currency, "outbox_key": key,
                "sent_on": today, "created_at": self.now}

    def _notice(self, loan: Any, library: CircLibrary, notice: PlannedNotice, step_days: int, borrower: Person,
                person: Person, today: date) -> None:
        key = f"circ:notice:{loan.id}:{notice.due_date.isoformat()}:{notice.step_code}"
        language = person.language
        channel = "letter" if notice.channel == "registered_letter" else notice.channel
        template, shape = _template(notice, step_days)
        values = {"name": person.name, "borrower": borrower.name, "title": loan.title, "barcode": loan.barcode,
                  "due_date": date_text(notice.due_date, language), "fee": money_in(notice.fee, language),
                  "library": library.name, "days": str(abs((today - notice.due_date).days)),
                  "price": money_text(loan.replacement_price_minor, loan.currency, language)}
        subject, body = self.renderer.render(template, language, channel, values, shape)
        self.outbox.append(notify.outbox_row(
            key=key, channel=channel, recipient=person.address(channel, missing=notice.address_missing),
            language=language, template=template, subject=subject, body=body, now=self.now,
            context={"loan_id": loan.id, "step": notice.step_code, "registered": notice.channel == "registered_letter",
                     "address_missing": notice.address_missing}))
        self.notices.append(self._notice_row(loan.id, notice.due_date, notice.step_code, notice.channel,
                                             notice.recipient, notice.fee, key, today))
        if notice.fee.is_positive:
            self.fees.append(fee_row(
                patron_id=loan.patron_id, library_id=loan.library_id,
                kind="invoice_fee" if notice.triggers == "invoice" else "notice_fee", amount=notice.fee,
                reason=f"notice {notice.step_code}", now=self.now, actor=SYSTEM, loan_id=loan.id,
                notice_step=notice.step_code,
                dedup_key=f"notice:{loan.id}:{notice.due_date.isoformat()}:{notice.step_code}"))
        if notice.triggers in ("invoice", "collection"):
            self.referrals.append({"patron_id": loan.patron_id, "loan_id": loan.id, "kind": notice.triggers,
                                   "amount_minor": loan.replacement_price_minor, "currency": loan.currency,
                                   "opened_at": self.now, "settled_at": None})
            if notice.triggers == "collection":
                self.collection_patrons.add(loan.patron_id)

    def _write(self) -> None:
        s = self.session
        insert_once(s, NoticeSent.__table__, self.notices, ["loan_id", "due_date", "step_code"])
        insert_once(s, OutboxMessage.__table__, self.outbox, ["key"])
        insert_once(s, FeeEntry.__table__, self.fees, ["dedup_key"])
        insert_once(s, Referral.__table__, self.referrals, ["loan_id", "kind"])
        if self.collection_patrons:
            s.execute(update(PatronCirculation).where(ids_in(s, PatronCirculation.patron_id, self.collection_patrons))
                      .values(in_collection=True))
        update_column_by_id(s, Loan.__table__, "next_notice_on", self.next_days)


def enqueue_receipt(session: Session, kind: str, loan: Loan, item: Item, patron: Patron, circ: PatronCirculation,
                    *, now: datetime) -> None:
    """A loan or return receipt by email, for patrons who asked for them [001]."""
    if not circ.receipts_by_email or not patron.email:
        return
    language = patron.language or "fi"
    notify.enqueue(session, key=f"circ:receipt:{kind}:{loan.id}", channel="email", recipient=patron.email,
                   template="circulation_receipt", language=language, now=now,
                   context={"name": patron.name, "kind": kind, "title": item.title, "barcode": item.barcode,
                            "due_date": date_text(due_date_of(loan), language)})


def enqueue_hold_ready(session: Session, hold: Hold, item: Item, branch: Branch, *, now: datetime) -> None:
    """The hold is on the pickup shelf: tell the patron by the channel they chose [001,003]."""
    patron = session.get(Patron, hold.patron_id)
    circ = session.get(PatronCirculation, hold.patron_id)
    if patron is None or circ is None:
        return
    channel = contacts_of(patron, circ).first_usable(tuple(circ.notice_channels or ()))
    if channel is None:
        return
    language = patron.language or "fi"
    assert hold.last_pickup_day is not None
    notify.enqueue(session, key=f"circ:hold-ready:{hold.id}", channel=channel,
                   recipient=_address(channel, patron, circ), template="circulation_hold_ready",
                   language=language, now=now,
                   context={"name": patron.name, "title": item.title, "branch": branch.name,
                            "last_day": date_text(hold.last_pickup_day, language),
                            "identifier": hold.hold_identifier or ""})


def enqueue_stack_ready(session: Session, request_id: int, patron_id: int, title: str, place: str, last_day: date,
                        *, now: datetime) -> None:
    """A copy fetched from the closed stacks waits for the patron: tell her by the channel she chose [003]
    (once: the outbox key is the request's)."""
    patron = session.get(Patron, patron_id)
    circ = session.get(PatronCirculation, patron_id)
    if patron is None or circ is None:
        return
    channel = contacts_of(patron, circ).first_usable(tuple(circ.notice_channels or ()))
    if channel is None:
        return
    language = patron.language or "fi"
    notify.enqueue(session, key=f"circ:stack-ready:{request_id}", channel=channel,
                   recipient=_address(channel, patron, circ), template="circulation_stack_ready",
                   language=language, now=now,
                   context={"name": patron.name, "title": title, "place": place,
                            "last_day": date_text(last_day, language)})


def _address(channel: str, patron: Patron, circ: PatronCirculation) -> str:
    if channel == "email":
        return patron.email
    if channel == "sms":
        return patron.phone
    return f"{patron.name}\n{circ.postal_address}".strip()


def batches(ids: Iterable[int], size: int) -> Iterable[list[int]]:
    chunk: list[int] = []
    for loan_id in ids:
        chunk.append(loan_id)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
