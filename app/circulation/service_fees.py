"""Fees, bans and desk payments: the ledger's outstanding debits, billing-ban recomputation and
lifting, waivers, premises bans, and the two questions other domains ask (responsible person,
billing ban)."""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from app import audit
from app.circulation.decisions import Decision, PatronFacts, age_on, can_be_responsible_person
from app.circulation.decisions import is_under_billing_ban as facts_under_billing_ban
from app.circulation.models import Ban, FeeEntry, Loan, PatronCirculation, Payment, Referral
from app.circulation.money import Money
from app.circulation.service_common import (
    actor_text,
    balance_of,
    borrower,
    fee_row,
    local_today,
    patron_facts,
    policy_of,
)
from app.errors import DomainError

# Age of majority when the person is not a patron yet (every preset says 18 [001]).
DEFAULT_RESPONSIBLE_PERSON_MIN_AGE = 18
PREMISES_BAN_MAX_DAYS = 30  # "Käyttöoikeuden voi menettää enintään 30 päiväksi" [001]
SYSTEM = "system:circulation"


@dataclass(frozen=True)
class OutstandingDebit:
    id: int
    kind: str
    reason: str
    amount: Money
    outstanding: Money
    created_at: datetime
    loan_id: int | None
    notice_step: str | None


def currency_of(session: Session, patron_id: int) -> str:
    """The currency the patron's library charges in."""
    return policy_of(borrower(session, patron_id)[2]).currency


def outstanding_debits(session: Session, patron_id: int) -> list[OutstandingDebit]:
    """The patron's debits that are not fully paid or waived, oldest first."""
    credited = (select(FeeEntry.applies_to_id.label("debit_id"), func.sum(FeeEntry.amount_minor).label("credited"))
                .where(FeeEntry.patron_id == patron_id, FeeEntry.applies_to_id.is_not(None))
                .group_by(FeeEntry.applies_to_id).subquery())
    rows = session.execute(
        select(FeeEntry, func.coalesce(credited.c.credited, 0))
        .outerjoin(credited, credited.c.debit_id == FeeEntry.id)
        .where(FeeEntry.patron_id == patron_id, FeeEntry.entry == "debit")
        .order_by(FeeEntry.created_at, FeeEntry.id))
    result = []
    for fee, credited_minor in rows:
        left = fee.amount_minor + int(credited_minor)
        if left > 0:
            result.append(OutstandingDebit(fee.id, fee.kind, fee.reason, Money(fee.amount_minor, fee.currency),
                                           Money(left, fee.currency), fee.created_at, fee.loan_id, fee.notice_step))
    return result


def allocate_credit(session: Session, *, patron_id: int, library_id: int, amount: Money, kind: str,
                    debits: Iterable[OutstandingDebit], now: datetime, actor: Any, payment_id: int | None = None,
                    reason: str = "") -> Money:
    """Credit ``amount`` against ``debits`` in order; what is left over stays as an unallocated credit.
    Returns the amount allocated to debits."""
    rows, left = [], amount.minor
    for debit in debits:
        if left <= 0:
            break
        part = min(left, debit.outstanding.minor)
        rows.append(fee_row(patron_id=patron_id, library_id=library_id, kind=kind, amount=Money(-part, amount.currency),
                            reason=reason or debit.reason, now=now, actor=actor, dedup_key=None,
                            loan_id=debit.loan_id, payment_id=payment_id, applies_to_id=debit.id))
        left -= part
    if left > 0:
        rows.append(fee_row(patron_id=patron_id, library_id=library_id, kind=kind, amount=Money(-left, amount.currency),
                            reason=reason or "credit", now=now, actor=actor, dedup_key=None, payment_id=payment_id))
    session.execute(insert(FeeEntry), rows)
    return Money(amount.minor - left, amount.currency)


# -- bans -----------------------------------------------------------------------------------------


def recompute_billing_ban(session: Session, patron_id: int, *, now: datetime, actor: Any = SYSTEM) -> bool:
    """Bring the stored billing-ban state in line with the ledger; returns whether the patron is barred.

    Settles invoices and collection referrals whose loan is closed once nothing is owed, which
    lifts a collection ban [001].
    """
    _patron, circ, library = borrower(session, patron_id)
    policy = policy_of(library)
    balance = balance_of(session, patron_id, policy.currency)
    if not balance.is_positive:
        settle_referrals(session, [patron_id], now=now)
        session.refresh(circ)
    banned = circ.in_collection or policy.billing_ban.bans(balance)
    apply_ban_state(session, {patron_id: (banned, balance)}, {patron_id: circ.billing_banned}, now=now, actor=actor)
    return banned


def settle_referrals(session: Session, patron_ids: list[int], *, now: datetime) -> None:
    """Close referrals of closed loans for patrons who owe nothing; clear their collection flag."""
    closed = select(Loan.id).where(Loan.status != "open")
    session.execute(update(Referral).where(Referral.patron_id.in_(patron_ids), Referral.settled_at.is_(None),
                                           Referral.loan_id.in_(closed)).values(settled_at=now))
    still_open = select(Referral.patron_id).where(Referral.patron_id.in_(patron_ids), Referral.kind == "collection",
                                                  Referral.settled_at.is_(None))
    session.execute(update(PatronCirculation).where(PatronCirculation.patron_id.in_(patron_ids),
                                                    PatronCirculation.in_collection.is_(True),
                                                    PatronCirculation.patron_id.not_in(still_open))
                    .values(in_collection=False))


def apply_ban_state(session: Session, wanted: dict[int, tuple[bool, Money]], stored: dict[int, bool], *,
                    now: datetime, actor: Any) -> tuple[int, int]:
    """Start or lift billing bans where ``wanted`` differs from ``stored``; returns (started, lifted)."""
    start = [pid for pid, (banned, _b) in wanted.items() if banned and not stored.get(pid)]
    lift = [pid for pid, (banned, _b) in wanted.items() if not banned and stored.get(pid)]
    if start:
        session.execute(insert(Ban), [
            {"patron_id": pid, "kind": "billing", "started_at": now, "balance_minor": wanted[pid][1].minor,
             "currency": wanted[pid][1].currency, "decision_maker": "", "decision_reference": "", "reason": "",
             "created_by": actor_text(actor)} for pid in start])
        session.execute(update(PatronCirculation).where(PatronCirculation.patron_id.in_(start))
                        .values(billing_banned=True))
    if lift:
        session.execute(update(Ban).where(Ban.patron_id.in_(lift), Ban.kind == "billing", Ban.lifted_at.is_(None))
                        .values(lifted_at=now))
        session.execute(update(PatronCirculation).where(PatronCirculation.patron_id.in_(lift))
                        .values(billing_banned=False))
    session.flush()
    return len(start), len(lift)


def is_under_billing_ban(session: Session, patron_id: int, now: datetime) -> bool:
    """Barred from borrowing, renewing and holds for unpaid fees or collection [001,003].
    A person who is not a borrower has no fees and is not barred."""
    circ = session.get(PatronCirculation, patron_id)
    if circ is None:
        return False
    patron, circ, library = borrower(session, patron_id)
    policy = policy_of(library)
    return facts_under_billing_ban(patron_facts(session, patron, circ, policy, now), policy)


def responsible_person_decision(session: Session, *, patron_id: int | None, birth_date: date,
                                now: datetime) -> Decision:
    """May this person answer for a child's or an institution's loans? [001]

    Refused "billing_ban" for a patron barred for billing or collection (per their library's
    preset), "not_adult" under the age of majority. ``patron_id=None``: not a patron yet, so only
    the age is checked (against 18, what every preset says).
    """
    circ = session.get(PatronCirculation, patron_id) if patron_id is not None else None
    if circ is None:
        minimum = DEFAULT_RESPONSIBLE_PERSON_MIN_AGE
        if age_on(birth_date, now.date()) < minimum:
            return Decision.refuse("not_adult", minimum_age=minimum)
        return Decision.allow()
    patron, circ, library = borrower(session, circ.patron_id)
    policy = policy_of(library)
    facts = patron_facts(session, patron, circ, policy, now)
    person = PatronFacts(category=facts.category, balance=facts.balance, birth_date=birth_date,
                         in_collection=facts.in_collection)
    return can_be_responsible_person(person=person, policy=policy, today=local_today(policy.timezone, now))


def record_premises_ban(session: Session, *, patron_id: int, hearing_held_on: date, decided_on: date,
                        decision_maker: str, starts_on: date, ends_on: date, reason: str, now: datetime,
                        actor: Any, decision_reference: str = "") -> Ban:
    """Record an official decision banning a patron from the premises, at most 30 days, after a
    hearing [001]. The patron may ask for rectification; ``lift_premises_ban`` records its outcome."""
    problems: dict[str, str] = {}
    if not decision_maker.strip():
        problems["decision_maker"] = "required"
    if hearing_held_on > decided_on:
        problems["hearing_held_on"] = "hearing_after_decision"
    if starts_on < decided_on:
        problems["starts_on"] = "starts_before_decision"
    if ends_on < starts_on:
        problems["ends_on"] = "ends_before_start"
    elif (ends_on - starts_on) + timedelta(days=1) > timedelta(days=PREMISES_BAN_MAX_DAYS):
        problems["ends_on"] = "longer_than_30_days"
    if problems:
        raise DomainError("premises-ban-invalid", 422, fields=problems)
    borrower(session, patron_id)
    ban = Ban(patron_id=patron_id, kind="premises", started_at=now, starts_on=starts_on, ends_on=ends_on,
              hearing_held_on=hearing_held_on, decided_on=decided_on, decision_maker=decision_maker.strip(),
              decision_reference=decision_reference, reason=reason, created_by=actor_text(actor))
    session.add(ban)
    session.flush()
    audit.record(session, actor=actor, action="circulation.premises_ban", now=now, record_type="circ_ban",
                 record_id=ban.id, patron_id=patron_id, starts_on=starts_on.isoformat(), ends_on=ends_on.isoformat())
    return ban


def lift_premises_ban(session: Session, ban_id: int, *, now: datetime, actor: Any, reason: str) -> Ban:
    ban = session.get(Ban, ban_id)
    if ban is None or ban.kind != "premises":
        raise DomainError("not-found", 404, what="ban")
    if ban.lifted_at is None:
        ban.lifted_at = now
        audit.record(session, actor=actor, action="circulation.premises_ban_lifted", now=now,
                     record_type="circ_ban", record_id=ban.id, reason=reason[:200])
    session.flush()
    return ban


# -- desk payments and waivers --------------------------------------------------------------------


def pay_at_desk(session: Session, *, patron_id: int, amount: Money, now: datetime, actor: Any,
                fee_ids: list[int] | None = None) -> Payment:
    """A payment at the desk: any amount, allocated to the chosen (or the oldest) debits first."""
    _patron, _circ, library = borrower(session, patron_id)
    policy = policy_of(library)
    if amount.currency != policy.currency or not amount.is_positive:
        raise DomainError("invalid-amount", 422, currency=policy.currency)
    debits = outstanding_debits(session, patron_id)
    if fee_ids:
        chosen = [d for d in debits if d.id in fee_ids]
        debits = chosen + [d for d in debits if d.id not in fee_ids]
    payment = Payment(patron_id=patron_id, library_id=library.id, method="desk", provider=None,
                      stamp=f"desk-{uuid.uuid4().hex}", amount_minor=amount.minor, currency=amount.currency,
                      status="paid", fee_ids=[d.id for d in debits], created_at=now, booked_at=now,
                      actor=actor_text(actor))
    session.add(payment)
    session.flush()
    allocate_credit(session, patron_id=patron_id, library_id=library.id, amount=amount, kind="payment",
                    debits=debits, now=now, actor=actor, payment_id=payment.id, reason="payment at the desk")
    audit.record(session, actor=actor, action="circulation.payment", now=now, record_type="circ_payment",
                 record_id=payment.id, method="desk", amount=str(amount))
    recompute_billing_ban(session, patron_id, now=now, actor=actor)
    return payment


def waive_fee(session: Session, fee_id: int, *, now: datetime, actor: Any, reason: str) -> Money:
    """Waive what is left of one debit; returns the amount waived (audited)."""
    fee = session.get(FeeEntry, fee_id)
    if fee is None or fee.entry != "debit":
        raise DomainError("not-found", 404, what="fee")
    debit = next((d for d in outstanding_debits(session, fee.patron_id) if d.id == fee_id), None)
    if debit is None:
        return Money.zero(fee.currency)
    allocate_credit(session, patron_id=fee.patron_id, library_id=fee.library_id, amount=debit.outstanding,
                    kind="waiver", debits=[debit], now=now, actor=actor, reason=reason or "waived")
    audit.record(session, actor=actor, action="circulation.fee_waived", now=now, record_type="circ_fee",
                 record_id=fee_id, amount=str(debit.outstanding), reason=reason[:200])
    recompute_billing_ban(session, fee.patron_id, now=now, actor=actor)
    return debit.outstanding


# -- refunds and receipts -------------------------------------------------------------------------


@dataclass(frozen=True)
class PaidLine:
    reason: str
    amount: Money


@dataclass(frozen=True)
class PaymentRecord:
    """A booked payment as a receipt tells it: what it paid, and what of it was refunded."""

    id: int
    method: str  # desk | online
    means: str  # cash | card | "" (online)
    amount: Money
    refunded: Money
    booked_at: datetime
    lines: list[PaidLine]

    @property
    def refundable(self) -> Money:
        return self.amount - self.refunded


def _refunded(session: Session, payment: Payment) -> Money:
    total = session.scalar(select(func.coalesce(func.sum(FeeEntry.amount_minor), 0)).where(
        FeeEntry.payment_id == payment.id, FeeEntry.kind == "refund", FeeEntry.entry == "debit"))
    return Money(int(total or 0), payment.currency)


def payment_record(session: Session, payment: Payment) -> PaymentRecord:
    debit = FeeEntry.__table__.alias("debit")
    rows = session.execute(select(debit.c.reason, FeeEntry.amount_minor).select_from(FeeEntry)
                           .outerjoin(debit, debit.c.id == FeeEntry.applies_to_id)
                           .where(FeeEntry.payment_id == payment.id, FeeEntry.kind == "payment")
                           .order_by(FeeEntry.id)).all()
    lines = [PaidLine(reason or "", Money(-amount, payment.currency)) for reason, amount in rows]
    return PaymentRecord(payment.id, payment.method, str((payment.details or {}).get("method", "")),
                         Money(payment.amount_minor, payment.currency), _refunded(session, payment),
                         payment.booked_at or payment.created_at, lines)


def paid_payments(session: Session, patron_id: int, *, limit: int = 20) -> list[PaymentRecord]:
    """The patron's booked payments, newest first."""
    payments = session.scalars(select(Payment).where(Payment.patron_id == patron_id, Payment.status == "paid")
                               .order_by(Payment.id.desc()).limit(limit))
    return [payment_record(session, p) for p in payments]


def payment_of_patron(session: Session, patron_id: int, payment_id: int) -> Payment:
    payment = session.get(Payment, payment_id)
    if payment is None or payment.patron_id != patron_id or payment.status != "paid":
        raise DomainError("not-found", 404, what="payment")
    return payment


def refund_payment(session: Session, *, patron_id: int, payment_id: int, amount: Money | None, reason: str,
                   now: datetime, actor: Any) -> Decision:
    """Pay back (part of) a booked payment, with a reason: the money goes back to the patron and the fees
    it paid stay settled (the ledger gets the refund and its cancellation, so the balance is unchanged).
    ``amount`` None: all that is left to refund. Refusals: nothing_to_refund, more_than_paid;
    DomainError("reason-required", 422), ("invalid-amount", 422). Audited with the reason."""
    payment = payment_of_patron(session, patron_id, payment_id)
    if not reason.strip():
        raise DomainError("reason-required", 422, field="reason")
    left = Money(payment.amount_minor, payment.currency) - _refunded(session, payment)
    if not left.is_positive:
        return Decision.refuse("nothing_to_refund")
    to_refund = left if amount is None else amount
    if to_refund.currency != payment.currency or not to_refund.is_positive:
        raise DomainError("invalid-amount", 422, currency=payment.currency)
    if to_refund > left:
        return Decision.refuse("more_than_paid", refundable=left)
    text = f"refund: {reason.strip()}"[:300]
    refund = FeeEntry(**fee_row(patron_id=patron_id, library_id=payment.library_id, kind="refund", amount=to_refund,
                                reason=text, now=now, actor=actor, dedup_key=None, payment_id=payment.id))
    session.add(refund)
    session.flush()
    session.add(FeeEntry(**fee_row(patron_id=patron_id, library_id=payment.library_id, kind="refund",
                                   amount=Money(-to_refund.minor, to_refund.currency), reason=text, now=now,
                                   actor=actor, dedup_key=None, payment_id=payment.id, applies_to_id=refund.id)))
    session.flush()
    audit.record(session, actor=actor, action="circulation.refund", now=now, record_type="circ_payment",
                 record_id=payment.id, amount=str(to_refund), reason=reason.strip()[:200])
    return Decision.allow(amount=to_refund)


def email_receipt(session: Session, *, patron_id: int, payment_id: int, now: datetime, actor: Any,
                  library_name: str) -> bool:
    """The receipt of a booked payment by email through the outbox, in the patron's language (once per
    payment and refund state: sending again after a refund tells the refund). Refused as
    DomainError("no-email", 409) when the patron has no email address. False: already sent."""
    from app.circulation.messages import date_text, money_text
    from app.notify import service as notify

    patron, _circ, _library = borrower(session, patron_id)
    if not patron.email:
        raise DomainError("no-email", 409, field="email")
    record = payment_record(session, payment_of_patron(session, patron_id, payment_id))
    language = patron.language or "fi"

    def money(minor: int, currency: str) -> str:
        return money_text(minor, currency, language)

    sent = notify.enqueue(
        session, key=f"circ:desk-receipt:{payment_id}:{record.refunded.minor}", channel="email",
        recipient=patron.email, template="circulation_desk_receipt", language=language, now=now,
        context={"name": patron.name, "amount": money(record.amount.minor, record.amount.currency),
                 "paid_on": date_text(record.booked_at.date(), language), "payment_id": record.id,
                 "means": record.means, "library": library_name,
                 "lines": "\n".join(f"- {line.reason}: {money(line.amount.minor, line.amount.currency)}"
                                    for line in record.lines),
                 "refunded": money(record.refunded.minor, record.refunded.currency)
                 if record.refunded.is_positive else ""})
    if sent:
        audit.record(session, actor=actor, action="circulation.receipt_emailed", now=now, record_type="circ_payment",
                     record_id=payment_id)
    return sent
