"""Online payment of fees [003]: only borrowing-related fees, the whole payable balance, at least
the preset's minimum, never while a replacement fee is outstanding — through a payment provider's
signed redirect and callback, booked exactly once."""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import audit
from app.circulation.decisions import Decision, OutstandingFee, online_payment_decision
from app.circulation.models import Payment
from app.circulation.money import Money
from app.circulation.paytrail import PaymentProvider, ProviderError
from app.circulation.service_common import actor_text, borrower, policy_of
from app.circulation.service_fees import allocate_credit, outstanding_debits, recompute_billing_ban
from app.errors import DomainError


@dataclass(frozen=True)
class OnlinePaymentStart:
    decision: Decision
    payment: Payment | None = None
    href: str | None = None  # send the patron's browser here


@dataclass(frozen=True)
class BookingResult:
    outcome: str  # booked | already_booked | failed | pending | unknown_payment | amount_mismatch
    payment: Payment | None = None


def online_payment_preview(session: Session, patron_id: int) -> Decision:
    """May the patron pay online now, and how much (``details["amount"]``)? [003]"""
    _patron, _circ, library = borrower(session, patron_id)
    policy = policy_of(library)
    debits = outstanding_debits(session, patron_id)
    return online_payment_decision(outstanding=[OutstandingFee(d.kind, d.outstanding) for d in debits],
                                   amount=None, policy=policy)


def start_online_payment(session: Session, *, patron_id: int, provider: PaymentProvider, return_url: str,
                         callback_url: str, now: datetime, actor: Any, amount: Money | None = None,
                         language: str = "fi") -> OnlinePaymentStart:
    """Open a pending payment of the whole payable balance and ask the provider for a payment page.

    Refusals: online_payment_unavailable, replacement_fee_outstanding, nothing_to_pay,
    partial_not_allowed, more_than_owed, below_minimum (2.99 EUR at Tampere [003]).
    """
    _patron, _circ, library = borrower(session, patron_id)
    policy = policy_of(library)
    debits = outstanding_debits(session, patron_id)
    decision = online_payment_decision(outstanding=[OutstandingFee(d.kind, d.outstanding) for d in debits],
                                       amount=amount, policy=policy)
    if not decision.allowed:
        return OnlinePaymentStart(decision)
    assert policy.online_payment is not None
    payable = [d for d in debits if d.kind in policy.online_payment.payable_fee_kinds]
    to_pay = decision.details["amount"]
    assert isinstance(to_pay, Money)
    payment = Payment(patron_id=patron_id, library_id=library.id, method="online", provider=provider.name,
                      stamp=uuid.uuid4().hex, amount_minor=to_pay.minor, currency=to_pay.currency, status="pending",
                      fee_ids=[d.id for d in payable], created_at=now, actor=actor_text(actor), details={})
    session.add(payment)
    session.flush()
    try:
        created = provider.create_payment(stamp=payment.stamp, reference=str(payment.id), amount=to_pay,
                                          language=language, description=f"{library.name}: library fees",
                                          return_url=return_url, callback_url=callback_url, now=now)
    except ProviderError as error:
        raise DomainError("payment-provider-unavailable", 503, detail=str(error)[:200]) from error
    payment.details = {"transaction_id": created.transaction_id, "href": created.href}
    audit.record(session, actor=actor, action="circulation.online_payment_started", now=now,
                 record_type="circ_payment", record_id=payment.id, amount=str(to_pay))
    session.flush()
    return OnlinePaymentStart(decision, payment, created.href)


def book_online_payment(session: Session, params: Mapping[str, str], *, provider: PaymentProvider, now: datetime,
                        actor: Any = "system:payment-provider") -> BookingResult:
    """Book a payment from the provider's signed return or callback parameters.

    Exactly once: the state changes pending → paid, together with the provider's reference
    (unique), in one conditional UPDATE; only the request whose UPDATE changed the row writes
    the credits. A second arrival (the callback after the return, a reload, both at the same
    moment on two app instances) finds nothing to change and answers "already_booked".
    Raises DomainError("invalid-signature", 401) for unsigned or tampered parameters.
    """
    result = provider.verify_return(params)
    if result is None:
        raise DomainError("invalid-signature", 401)
    payment = session.scalar(select(Payment).where(Payment.stamp == result.stamp, Payment.provider == provider.name))
    if payment is None or payment.details.get("transaction_id") not in (None, result.transaction_id):
        return BookingResult("unknown_payment")
    if result.status == "fail":
        session.execute(update(Payment).where(Payment.id == payment.id, Payment.status == "pending")
                        .values(status="failed"))
        session.refresh(payment)
        return BookingResult("failed", payment)
    if result.status != "ok":
        return BookingResult("pending", payment)
    if result.amount_minor != payment.amount_minor:
        audit.record(session, actor=actor, action="circulation.online_payment_amount_mismatch", now=now,
                     record_type="circ_payment", record_id=payment.id, reported=result.amount_minor)
        return BookingResult("amount_mismatch", payment)
    changed = session.execute(update(Payment).where(Payment.id == payment.id, Payment.status == "pending")
                              .values(status="paid", booked_at=now, provider_reference=result.transaction_id))
    session.refresh(payment)
    if changed.rowcount != 1:
        return BookingResult("already_booked" if payment.status == "paid" else payment.status, payment)
    ordered = {fee_id: index for index, fee_id in enumerate(payment.fee_ids)}
    debits = sorted((d for d in outstanding_debits(session, payment.patron_id) if d.id in ordered),
                    key=lambda d: ordered[d.id])
    allocate_credit(session, patron_id=payment.patron_id, library_id=payment.library_id,
                    amount=Money(payment.amount_minor, payment.currency), kind="payment", debits=debits, now=now,
                    actor=actor, payment_id=payment.id, reason="online payment")
    audit.record(session, actor=actor, action="circulation.payment", now=now, record_type="circ_payment",
                 record_id=payment.id, method="online", amount=str(Money(payment.amount_minor, payment.currency)))
    recompute_billing_ban(session, payment.patron_id, now=now, actor=actor)
    return BookingResult("booked", payment)
