"""The patron's own ``me`` endpoints beyond the account summary (issue 18): profile and the settings she may
change, library cards and reporting one lost, dependants, pausing and resuming a hold, the opt-in loan
history. On the patron blueprint of api.py: a device token or the browser's login (with its CSRF token)."""
from __future__ import annotations

from typing import Any

from flask import Response, g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel

from app import clock, db
from app.accounts.auth import api_patron_or_session
from app.circulation import api_json, schemas, service, service_cards, service_history, service_requests
from app.circulation import schemas_me as me
from app.circulation.api import MINE, NOT_BORROWER, patron_bp, record_key_of, refusals
from app.circulation.decisions import Decision
from app.errors import problem, validation_problem
from app.platform.contract import Reply, operation

# The texts of the refusals only these endpoints give (the same words as the account pages).
REASONS: dict[str, Any] = {
    "card_not_active": _l("This card is not in use, so there is nothing to block."),
    "hold_not_waiting": _l("This can be done only while the hold is waiting for a copy."),
    "suspension_date_invalid": _l("Choose a day after today and at most a year ahead."),
    "hold_not_suspended": _l("The hold is not paused."),
    "already_requested": _l("You have already asked for this title from the closed stacks."),
    "no_stack_copy": _l("No copy of this title can be fetched from the closed stacks now."),
    "stack_request_not_cancellable": _l("The library is already fetching this copy or it waits for you: contact "
                                        "the library to cancel the request."),
}
ADVANCE_DAYS_INVALID = "`type` …/advance-notice-days-invalid: the library allows other days (`allowed`: [min, max])"


def _refusal(decision: Decision, answer: type[BaseModel]) -> Response:
    """409 problem+json as api_json.refusal, with the details the answer model knows (dates of a pause are
    said in the text)."""
    reason = decision.reason or "refused"
    known = {k: v for k, v in decision.details.items() if k in schemas.DecisionDetails.model_fields}
    text = REASONS.get(reason) or api_json.REASONS.get(reason, reason)
    resp = problem(409, "circulation-" + reason.replace("_", "-"), str(text), reason=reason,
                   details=api_json.details(known).model_dump(mode="json"))
    answer.model_validate_json(resp.get_data())
    return resp


# -- profile -------------------------------------------------------------------------------------------


def _profile(patron_id: int) -> me.Profile:
    data = service.profile_of(db.session(), patron_id)
    days = data.advance_notice_range
    editable = [name for name in me.EDITABLE_FIELDS if name != "advance_notice_days" or days is not None]
    return me.Profile(
        name=data.name, card_number=data.card_number, email=data.email, phone=data.phone,
        postal_address=data.postal_address, category=data.category, library=data.library_name,
        home_branch=data.home_branch_name, card_expires_on=data.card_expires_on,
        notice_channels=[c for c in data.notice_channels if c in me.CHANNELS],
        advance_notice_days=data.advance_notice_days,
        advance_notice_range=me.DayRange(min=days[0], max=days[1]) if days else None,
        receipts_by_email=data.receipts_by_email, hold_nickname=data.hold_nickname, language=data.language,
        editable=editable)


@patron_bp.get("/profile")
@api_patron_or_session
@operation("My details: what the library holds and my own settings (`editable` says what I may change)",
           tags=MINE, responses={200: (me.Profile, "The profile"), 404: NOT_BORROWER})
def my_profile() -> Any:
    return _profile(g.api_patron.id)


@patron_bp.patch("/profile")
@api_patron_or_session
@operation("Change my email, phone and notice settings (name and address only at the desk)", tags=MINE,
           body=me.ProfileChange, responses={200: (me.Profile, "The profile as changed"), 404: NOT_BORROWER,
                                             422: ADVANCE_DAYS_INVALID})
def change_my_profile(body: me.ProfileChange) -> Any:
    patron_id, now, session = g.api_patron.id, clock.now(), db.session()
    given = body.model_fields_set
    current = service.profile_of(session, patron_id)
    if given & {"email", "phone"}:
        service.update_contact(session, patron_id, email=(body.email if body.email is not None else current.email),
                               phone=(body.phone if body.phone is not None else current.phone).strip(), now=now,
                               actor=g.api_patron)
    if given & {"notice_channels", "advance_notice_days", "receipts_by_email", "hold_nickname"}:
        clear = "advance_notice_days" in given and body.advance_notice_days is None
        service.set_notice_preferences(session, patron_id, now=now, actor=g.api_patron,
                                       notice_channels=body.notice_channels,
                                       advance_notice_days=body.advance_notice_days, clear_advance_notice=clear,
                                       receipts_by_email=body.receipts_by_email, hold_nickname=body.hold_nickname)
    session.commit()
    return _profile(patron_id)


# -- cards ---------------------------------------------------------------------------------------------


def _card(line: service_cards.CardLine) -> me.Card:
    return me.Card(card_id=line.card_id, number=line.number, status=line.status, library=line.library,
                   issued_at=line.issued_at, lost_at=line.lost_at, valid_until=line.valid_until, primary=line.primary)


@patron_bp.get("/cards")
@api_patron_or_session
@operation("My library cards and their state", tags=MINE,
           responses={200: (me.Cards, "The cards, those in use first"), 404: NOT_BORROWER})
def my_cards() -> Any:
    lines = service_cards.patron_cards(db.session(), g.api_patron.id, now=clock.now())
    fee = service_cards.replacement_fee(db.session(), g.api_patron.id)
    db.session().commit()  # the primary card's row, made the first time the cards are looked at
    return me.Cards(cards=[_card(line) for line in lines], replacement_fee=api_json.maybe_money(fee))


@patron_bp.post("/cards/<int:card_id>/lost")
@api_patron_or_session
@operation("Report my card lost: it is blocked at once (a new one is issued at the desk)", tags=MINE, responses={
    200: (me.Card, "The card, now blocked"), 404: NOT_BORROWER + ", or no card of yours has this id",
    409: refusals(me.CardRefused, me.CARD_REASONS)})
def report_my_card_lost(card_id: int) -> Any:
    decision = service_cards.report_card_lost(db.session(), g.api_patron.id, card_id, now=clock.now(),
                                              actor=g.api_patron)
    if not decision.allowed:
        db.session().rollback()
        return _refusal(decision, me.CardRefused)
    db.session().commit()
    lines = service_cards.patron_cards(db.session(), g.api_patron.id, now=clock.now())
    return _card(next(line for line in lines if line.card_id == card_id))


# -- dependants ----------------------------------------------------------------------------------------


@patron_bp.get("/dependants")
@api_patron_or_session
@operation("Those I answer for: my under-15 children and the institutions I am responsible for", tags=MINE,
           responses={200: (me.Dependants, "The dependants (none: an empty list)")})
def my_dependants() -> Any:
    return me.Dependants(dependants=[me.DependantItem(patron_id=d.patron_id, name=d.name, kind=d.kind)
                                     for d in service.dependants(db.session(), g.api_patron.id)])


# -- pausing a hold ------------------------------------------------------------------------------------


@patron_bp.post("/holds/<int:hold_id>/pause")
@api_patron_or_session
@operation("Pause my waiting hold (it keeps its place in the queue), until a day or until I resume it",
           tags=MINE, body=me.PauseRequest, body_required=False, responses={
               200: (me.HoldPaused, "Paused"), 404: "No hold of yours has this id",
               409: refusals(me.PauseRefused, me.PAUSE_REASONS)})
def pause_my_hold(hold_id: int, body: me.PauseRequest) -> Any:
    decision = service.suspend_hold(db.session(), hold_id, patron_id=g.api_patron.id, until=body.until,
                                    now=clock.now(), actor=g.api_patron)
    if not decision.allowed:
        db.session().rollback()
        return _refusal(decision, me.PauseRefused)
    db.session().commit()
    return me.HoldPaused(hold_id=hold_id, state="suspended", suspended_until=body.until)


@patron_bp.post("/holds/<int:hold_id>/resume")
@api_patron_or_session
@operation("Resume my paused hold: it waits again in its old place in the queue", tags=MINE, responses={
    200: (me.HoldPaused, "Waiting again"), 404: "No hold of yours has this id",
    409: refusals(me.ResumeRefused, me.RESUME_REASONS)})
def resume_my_hold(hold_id: int) -> Any:
    decision = service.resume_hold(db.session(), hold_id, patron_id=g.api_patron.id, now=clock.now(),
                                   actor=g.api_patron)
    if not decision.allowed:
        db.session().rollback()
        return _refusal(decision, me.ResumeRefused)
    db.session().commit()
    return me.HoldPaused(hold_id=hold_id, state="waiting", suspended_until=None)


# -- loan history --------------------------------------------------------------------------------------


def _setting(patron_id: int) -> me.HistorySetting:
    data = service_history.history_setting(db.session(), patron_id)
    return me.HistorySetting(enabled=data.enabled, entries=data.entries, changed_at=data.changed_at)


@patron_bp.get("/loan-history")
@api_patron_or_session
@operation("My loan history: whether it is kept (off unless I opted in) and what was kept", tags=MINE,
           responses={200: (me.History, "The setting and the entries")})
def my_loan_history() -> Any:
    lines = service_history.history_of(db.session(), g.api_patron.id)
    return me.History(setting=_setting(g.api_patron.id), entries=[
        me.HistoryEntry(kind=line.kind, title=line.title, record_key=line.record_key, borrowed_at=line.borrowed_at,
                        returned_at=line.returned_at) for line in lines])


@patron_bp.put("/loan-history/setting")
@api_patron_or_session
@operation("Keep my loan history from now on, or stop keeping it (what was kept stays until deleted)",
           tags=MINE, body=me.HistoryChange, responses={200: (me.HistorySetting, "The setting")})
def set_my_loan_history(body: me.HistoryChange) -> Any:
    service_history.set_history(db.session(), g.api_patron.id, enabled=body.enabled, now=clock.now(),
                                actor=g.api_patron)
    db.session().commit()
    return _setting(g.api_patron.id)


@patron_bp.delete("/loan-history")
@api_patron_or_session
@operation("Delete my whole loan history", tags=MINE, responses={204: Reply("Deleted")})
def delete_my_loan_history() -> Any:
    service_history.delete_history(db.session(), g.api_patron.id, now=clock.now(), actor=g.api_patron)
    db.session().commit()
    return Response(status=204)


# -- requests from the closed stacks [003] -------------------------------------------------------------


def _stack_line(line: service_requests.StackRequestLine) -> me.StackRequestAnswer:
    return me.StackRequestAnswer(id=line.request_id, record_key=line.record_key, title=line.title, state=line.state,
                                 requested_at=line.requested_at, pickup_place=line.pickup_place,
                                 last_pickup_day=line.last_pickup_day, cancelled_at=line.cancelled_at)


@patron_bp.get("/stack-requests")
@api_patron_or_session
@operation("My requests from the closed stacks: requested → processing → ready (place, last day)", tags=MINE,
           responses={200: (me.StackRequests, "The requests"), 404: NOT_BORROWER})
def my_stack_requests() -> Any:
    lines = service_requests.patron_stack_requests(db.session(), g.api_patron.id, now=clock.now())
    return me.StackRequests(requests=[_stack_line(line) for line in lines])


@patron_bp.post("/stack-requests")
@api_patron_or_session
@operation("Ask for a copy of a title from the library's closed stacks", tags=MINE, body=me.StackRequestBody,
           responses={201: (me.StackRequestAnswer, "Requested"), 404: "No such record, or " + NOT_BORROWER,
                      409: refusals(me.StackRequestRefused, me.STACK_REQUEST_REASONS),
                      422: "Give record_key or record_id (`errors` names record_key)"})
def request_from_my_stacks(body: me.StackRequestBody) -> Any:
    if not body.record_key and body.record_id is None:
        return validation_problem({"record_key": [_("Give record_key or record_id.")]})
    key = record_key_of(body.record_id) if body.record_id is not None else body.record_key
    decision, request = service_requests.request_from_stacks(db.session(), patron_id=g.api_patron.id,
                                                             record_key=key or "", now=clock.now(),
                                                             actor=g.api_patron)
    if request is None:
        db.session().rollback()
        return _refusal(decision, me.StackRequestRefused)
    db.session().commit()
    [line] = [x for x in service_requests.patron_stack_requests(db.session(), g.api_patron.id, now=clock.now())
              if x.request_id == request.id]
    return _stack_line(line), 201


@patron_bp.delete("/stack-requests/<int:request_id>")
@api_patron_or_session
@operation("Cancel my request while it is only requested (then only the library can)", tags=MINE, responses={
    204: Reply("Cancelled"), 404: "No request of yours has this id",
    409: refusals(me.StackCancelRefused, me.STACK_CANCEL_REASONS)})
def cancel_my_stack_request(request_id: int) -> Any:
    decision = service_requests.cancel_stack_request(db.session(), request_id, patron_id=g.api_patron.id,
                                                     now=clock.now(), actor=g.api_patron)
    if not decision.allowed:
        db.session().rollback()
        return _refusal(decision, me.StackCancelRefused)
    db.session().commit()
    return Response(status=204)
