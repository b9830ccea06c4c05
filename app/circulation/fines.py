"""Overdue fines, computed from the due time, an as-of time and the loan's fine model.

Fines are counted in calendar days after the due date in the branch's local time [001]: a book
due at Tuesday's closing time and returned on Wednesday morning is one day late; returned later on
Tuesday evening (through a self-service station) it is late but still on the due date, so no day
is charged.

Fines *register* (become debts) when the item is returned or renewed [003]; until then the patron
sees them as accruing. ``fine_delta_to_register`` makes registration idempotent, so registering at
renewal and again at return, or a retried request, never charges the same days twice.
"""

from __future__ import annotations

from datetime import datetime

from app.circulation.money import Money
from app.circulation.policy import CirculationRules, FineModel

# Models that charge for time passing; the children's-material exemption [001] covers these.
# An interlibrary-loan flat fee passes on another library's charge, so it is not exempt [004].
TIME_BASED_FINE_MODELS = frozenset({"per_day", "per_started_week"})
DAYS_PER_WEEK = 7


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment!r}")


def days_overdue(due_at: datetime, as_of: datetime) -> int:
    """Calendar days after the due date, counted in the due time's own (branch) timezone."""
    _require_aware(due_at, "due_at")
    _require_aware(as_of, "as_of")
    if as_of <= due_at:
        return 0
    return (as_of.astimezone(due_at.tzinfo).date() - due_at.date()).days


def fine_for_days(days_late: int, fine: FineModel, currency: str) -> Money:
    """The fine for ``days_late`` whole calendar days late under one fine model.

    per_day: amount × days, at most the per-item cap [001].
    per_started_week: amount × started weeks; 8 days = 2 started weeks [004].
    flat_first_day: the amount from the first overdue day on (interlibrary loans) [004].
    """
    if days_late < 0:
        raise ValueError(f"days_late cannot be negative, got {days_late}")
    zero = Money.zero(currency)
    if days_late == 0 or fine.model == "none" or fine.amount is None:
        return zero
    if fine.amount.currency != currency:
        raise ValueError(f"fine amount {fine.amount} is not in {currency}")
    if fine.model == "per_day":
        amount = fine.amount * days_late
    elif fine.model == "per_started_week":
        started_weeks = -(-days_late // DAYS_PER_WEEK)  # ceiling division, exact in ints
        amount = fine.amount * started_weeks
    elif fine.model == "flat_first_day":
        amount = fine.amount
    else:  # pragma: no cover - FineModel validates its model
        raise ValueError(f"unknown fine model {fine.model!r}")
    if fine.cap is not None and amount > fine.cap:
        return fine.cap
    return amount


def accrued_fine(
    *,
    due_at: datetime,
    as_of: datetime,
    rules: CirculationRules,
    currency: str,
    is_childrens_material: bool = False,
) -> Money:
    """The fine a loan has accrued by ``as_of`` for the due period ending at ``due_at``.

    - Children's and young people's material pays no time-based fine where the rules say so,
      only notice fees [001] (OUTI and the Czech library do not exempt it [000,004]).
    - Grace days: a loan returned within ``grace_days`` after the due date pays nothing; after
      that every day counts from the due date (Koha's grace period). All presets use 0.
    - The cap applies per item per due period; a renewal starts a new period with its own due
      time (as Koha closes the overdue fine at renewal and starts a new one).
    """
    fine = effective_fine_model(rules, is_childrens_material=is_childrens_material)
    return fine_as_of(due_at=due_at, as_of=as_of, fine=fine, grace_days=rules.grace_days, currency=currency)


def effective_fine_model(rules: CirculationRules, *, is_childrens_material: bool) -> FineModel:
    """The fine model a loan of this item is fined under: "none" for children's material where
    the rules exempt it from time-based fines [001]. Stored on a loan at checkout, so the rules in
    force when the item was borrowed are the ones it is fined by."""
    if is_childrens_material and rules.childrens_material_fine_exempt:
        if rules.fine.model in TIME_BASED_FINE_MODELS:
            return FineModel("none")
    return rules.fine


def fine_as_of(*, due_at: datetime, as_of: datetime, fine: FineModel, grace_days: int, currency: str) -> Money:
    """The fine under ``fine`` for the due period ending at ``due_at``, as of ``as_of``."""
    days_late = days_overdue(due_at, as_of)
    if days_late <= grace_days:
        return Money.zero(currency)
    return fine_for_days(days_late, fine, currency)


def fine_delta_to_register(*, accrued: Money, already_registered: Money) -> Money:
    """What to add to the patron's debts now for one due period of one loan.

    ``already_registered`` is what was registered earlier for the same loan and due period (for
    example by a renewal attempt that registered the fine, or a retried return). The result is
    never negative: a smaller accrued amount (a staff correction, a changed due time) is a refund
    decision for staff, not something registration quietly does.
    """
    if accrued.currency != already_registered.currency:
        raise ValueError(f"currency mismatch: {accrued.currency} vs {already_registered.currency}")
    delta = accrued - already_registered
    return delta if delta.is_positive else Money.zero(accrued.currency)
