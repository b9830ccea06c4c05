"""The DAISY Online Delivery Protocol endpoint: ``POST /daisy-online`` (SOAP 1.1, document/literal), its WSDL
(``GET /daisy-online?wsdl``; v2: ``?wsdl=2``), the schemas the WSDL imports, and the files of borrowed books
(``/daisy-online/content/<book>/<file>``, HTTP Range, authorised by the session cookie).

A session is an HTTP cookie issued at logOn (``kuulo_dodp``, path /daisy-online) naming a server-side row.
It speaks one protocol version, fixed at logOn: v2's SOAPAction form (``urn:http://www.daisy.org/ns/
daisy-online/logOn``) or a logOn carrying readingSystemAttributes makes a v2 session, the v1 form
(``"/logOn"``) a v1 one. Everything a player needs to keep playing its loans stays open during a
maintenance break; borrowing and returning belong to the "Reader apps" component and are refused then.
What players poll most (getContentList, getContentResources) is answered from one SQL statement and a
remembered answer (polled.py); the other operations go through the request's database session.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, request, url_for
from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from lxml import etree

from app import clock, db, gate, storage
from app.accounts import credentials
from app.accounts import service as accounts
from app.accounts.models import Patron
from app.accounts.views import throttle_policy
from app.errors import DomainError
from app.lending import service as lending
from app.lending.dodp import content, polled, soap
from app.lending.dodp import service as dodp
from app.lending.dodp.soap import BOOKMARK, DO, Fault, el, invalid, label
from app.lending.http import policy
from app.lending.models import Audiobook
from app.lending.streaming import Unsatisfiable, parse_range, track_response, unsatisfiable

bp = Blueprint("dodp", __name__)
COOKIE = "kuulo_dodp"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
SCHEMA_FILES = {"1": ("do-wsdl-10.wsdl", "do-types-10.xsd"), "2": ("do-wsdl-20.wsdl", "do-types-20.xsd")}
XML_XSD_URLS = ("http://www.w3.org/2001/xml.xsd", "http://www.w3.org/2009/01/xml.xsd")
UI_LANGUAGES = ("fi", "sv", "en")
SEARCH_LIST = "search-"
MAX_QUERY = 100

V1_OPERATIONS = {"logOn", "logOff", "getServiceAttributes", "setReadingSystemAttributes", "getContentList",
                 "getContentMetadata", "issueContent", "getContentResources", "returnContent",
                 "getServiceAnnouncements", "markAnnouncementsAsRead", "setBookmarks", "getBookmarks",
                 "getQuestions", "getKeyExchangeObject"}
V2_OPERATIONS = {"logOn", "logOff", "getServiceAnnouncements", "getContentResources", "getContentList",
                 "returnContent", "markAnnouncementsAsRead", "updateBookmarks", "getBookmarks",
                 "addContentToBookshelf", "getQuestions", "getUserCredentials", "getKeyExchangeObject",
                 "getTermsOfService", "acceptTermsOfService", "setProgressState"}
POLLED = {"getContentList", "getContentResources"}  # answered from one statement: see polled.py
GATED = {"issueContent", "addContentToBookshelf", "returnContent"}  # the "Reader apps" component's new work
SET_UP = {"logOn", "logOff", "getServiceAttributes", "setReadingSystemAttributes"}  # v1, before the set-up ends


def start() -> None:
    """Called when the app is created: a changed PIN or password ends every DAISY player session of the
    patron, and the remembered answers start empty (they belong to one database)."""
    credentials.on_change(dodp.revoke_sessions)
    polled.forget()


def lifetime() -> timedelta:
    return timedelta(minutes=int(current_app.config.get("DODP_SESSION_MINUTES", 12 * 60)))


# -- WSDL and schemas -------------------------------------------------------------------------------

def _schema_url(version: str, name: str) -> str:
    return url_for("dodp.schema", version=version, name=name, _external=True)


def _served(version: str, name: str) -> bytes:
    """A WSDL or schema file with our endpoint address and absolute schema locations."""
    text = (SCHEMAS / f"v{version}" / name).read_text(encoding="utf-8")
    text = text.replace("SERVICE_WSDL_URI_PLACEHOLDER", url_for("dodp.endpoint", _external=True))
    for url in XML_XSD_URLS:
        text = text.replace(f'"{url}"', f'"{_schema_url(version, "xml.xsd")}"')
    for path in sorted((SCHEMAS / f"v{version}").iterdir()):
        if path.suffix == ".xsd":
            for quote in ('"', "'"):
                text = text.replace(f"schemaLocation={quote}{path.name}{quote}",
                                    f'schemaLocation="{_schema_url(version, path.name)}"')
    return text.encode()


@bp.get("/daisy-online")
@gate.always_open
def wsdl() -> Any:
    if "wsdl" not in request.args:
        abort(404)
    version = "2" if request.args.get("wsdl", "").lower() in ("2", "v2") else "1"
    return Response(_served(version, SCHEMA_FILES[version][0]), mimetype="text/xml")


@bp.get("/daisy-online/schemas/<version>/<name>")
@gate.always_open
def schema(version: str, name: str) -> Any:
    folder = SCHEMAS / f"v{version}" if version in SCHEMA_FILES else None
    if folder is None or name not in {p.name for p in folder.iterdir() if p.suffix in (".xsd", ".wsdl")}:
        abort(404)
    return Response(_served(version, name), mimetype="text/xml")


# -- the SOAP endpoint ------------------------------------------------------------------------------

def no_session() -> Fault:
    return Fault("noActiveSession", _l("No active session: log on first."))


def no_content() -> Fault:
    return invalid(_l("No such content"))


def no_list() -> Fault:
    return invalid(_l("No such content list"))


def not_issued(version: str) -> Fault:
    return Fault("invalidOperation" if version == "1" else "invalidParameter",
                 _l("The content is not issued to this user"))


def ui_language(player: str, patron: str) -> str:
    """The language of the answers: the player's preferredUILanguage, else the patron's, else Finnish."""
    lang = (player or patron or "").split("-")[0].lower()
    return lang if lang in UI_LANGUAGES else "fi"


def fault_language() -> str:
    """A fault's language: the session's when it is known, else the request's Accept-Language."""
    return g.get("dodp_language") or request.accept_languages.best_match(UI_LANGUAGES) or "fi"


class Call:
    """One request: the parsed operation, the session (if any) and the patron."""

    def __init__(self, req: soap.Request, now: datetime) -> None:
        self.req, self.now = req, now
        self.session = db.session()
        self.row: dodp.DodpSession | None = None
        self.patron: Patron | None = None
        self.cookie: str | None = None  # a new cookie to set
        self.clear_cookie = False
        self.closures: dict[str, gate.Closure | None] = {}
        self.notices: dict[str, list[gate.Notice]] = {}

    def ask_status(self) -> None:
        """What the status page says, asked before this request's own database session starts (the status
        provider reads with a session of its own, which must not wait for this request's writes)."""
        if self.req.operation in GATED:
            self.closures = {lang: gate.closure_for("reader_apps", self.now, lang) for lang in UI_LANGUAGES}
        if self.req.operation in ("getServiceAnnouncements", "markAnnouncementsAsRead"):
            self.notices = {lang: gate.notices_for("reader_apps", self.now, lang) for lang in UI_LANGUAGES}

    @property
    def version(self) -> str:
        return self.row.version if self.row is not None else "1"

    @property
    def language(self) -> str:
        return ui_language(self.row.language if self.row is not None else "",
                           self.patron.language if self.patron is not None else "")


@bp.post("/daisy-online")
@gate.always_open
def endpoint() -> Any:
    now = clock.now()
    call: Call | None = None
    try:
        if (request.content_length or 0) > soap.MAX_BODY:
            raise soap.too_large()
        req = soap.parse(request.stream.read(soap.MAX_BODY + 1), request.headers.get("SOAPAction"))
        if req.operation in POLLED:
            return _xml(polled_operation(req, now), 200)
        call = Call(req, now)
        call.ask_status()
        root = dispatch(call)
        db.session().commit()
    except Fault as fault:
        db.session().rollback()
        return _xml(soap.fault_document(fault, fault_language()), 500)
    except Exception:  # a player understands a SOAP fault, not an HTML error page
        db.session().rollback()
        current_app.logger.exception("DAISY Online: an operation failed")
        return _xml(soap.fault_document(Fault("internalServerError", _l("The service failed; try again later"),
                                              client=False), fault_language()), 500)
    resp = _xml(soap.serialize(root), 200)
    if call.cookie is not None:
        resp.set_cookie(COOKIE, call.cookie, path="/daisy-online", httponly=True, samesite="Lax",
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    elif call.clear_cookie:
        resp.delete_cookie(COOKIE, path="/daisy-online")
    return resp


def _xml(body: bytes, status: int) -> Response:
    resp = Response(body, status=status)
    resp.headers["Content-Type"] = "text/xml; charset=utf-8"
    resp.headers["Cache-Control"] = "no-store"
    return resp


def check(op: str, action_version: str | None, version: str, state: str, terms: Callable[[], bool]) -> None:
    """The rules every operation of a live session passes: one protocol version per session, the
    operations of that version, v1's set-up order, v2's terms of service (``terms``: accepted?)."""
    if action_version is not None and action_version != version:
        raise Fault("invalidOperation", _l("This session speaks DAISY Online version %(version)s", version=version))
    if op not in (V1_OPERATIONS if version == "1" else V2_OPERATIONS):
        raise Fault("invalidOperation" if op in V1_OPERATIONS | V2_OPERATIONS else "operationNotSupported",
                    _l("%(operation)s is not an operation of DAISY Online version %(version)s",
                       operation=op, version=version))
    if op not in POLLED and op not in (V1 if version == "1" else V2):
        raise Fault("operationNotSupported", _l("%(operation)s is not supported by this service", operation=op))
    if version == "1" and state != "ready" and op not in SET_UP:
        raise Fault("invalidOperation", _l("Call getServiceAttributes and setReadingSystemAttributes first"))
    if version == "2" and op not in TERMS_FREE and not terms():
        raise Fault("termsOfServiceNotAccepted", _l("Accept the terms of service first (acceptTermsOfService)"))


def dispatch(call: Call) -> Any:
    op = call.req.operation
    if op == "logOn":
        return log_on(call)
    found = dodp.find_session_and_patron(call.session, request.cookies.get(COOKIE, ""), call.now)
    if found is None:
        raise no_session()
    row, patron = found
    call.row, call.patron = row, patron
    g.dodp_language = call.language
    dodp.touch(row, call.now, lifetime())
    check(op, call.req.action_version, row.version, row.state,
          lambda: dodp.terms_accepted(call.session, patron.id))
    return (V1 if row.version == "1" else V2)[op](call)


def _authenticate(call: Call, card: str, pin: str) -> Patron | None:
    """Card number and PIN, with the web login's throttle and lockout; a failure is committed at once."""
    result = accounts.authenticate_patron(call.session, card[:40], pin[:200], call.now, throttle_policy(),
                                          allow=("pin",))
    call.session.commit()
    return result.user if isinstance(result.user, Patron) else None


def log_on(call: Call) -> Any:
    req = call.req
    rsa = req.element.find(f"{{{DO}}}readingSystemAttributes")
    version = req.action_version or ("2" if rsa is not None else "1")
    card, pin = req.text("username"), req.text("password")
    if version == "2" and rsa is None:
        raise invalid(_l("%(name)s is missing", name="readingSystemAttributes"))
    old = dodp.find_session(call.session, request.cookies.get(COOKIE, ""), call.now)
    if old is not None:
        dodp.end_session(old, call.now)
    patron = _authenticate(call, card, pin)
    if patron is None:
        call.clear_cookie = old is not None
        if version == "2":
            raise Fault("unauthorized", _l("The card number or PIN is wrong, or the card is locked for a while"))
        root, resp = soap.answer("logOn")
        el(resp, "logOnResult", False)
        return root
    raw, row = dodp.start_session(call.session, patron, version, now=call.now, lifetime=lifetime())
    call.row, call.patron, call.cookie = row, patron, raw
    if version == "2":
        _set_reading_system(call, rsa)
        row.state = "ready"
        root, resp = soap.answer("logOn")
        _service_attributes(resp, "2")
        return root
    root, resp = soap.answer("logOn")
    el(resp, "logOnResult", True)
    return root


def log_off(call: Call) -> Any:
    assert call.row is not None
    dodp.end_session(call.row, call.now)
    call.clear_cookie = True
    root, resp = soap.answer("logOff")
    el(resp, "logOffResult", True)
    return root


def _service_attributes(parent: Any, version: str) -> None:
    attrs = el(parent, "serviceAttributes")
    provider = el(attrs, "serviceProvider", id="kuulo")
    label(provider, "Kuulo", "fi")
    service = el(attrs, "service", id="kuulo-daisy-online")
    label(service, "Kuulo", "fi")
    if version == "1":
        methods = el(attrs, "supportedContentSelectionMethods")
        el(methods, "method", "OUT_OF_BAND")
        el(methods, "method", "BROWSE")
    el(attrs, "supportsServerSideBack", False)
    el(attrs, "supportsSearch", True)
    el(attrs, "supportedUplinkAudioCodecs")
    el(attrs, "supportsAudioLabels", False)
    ops = el(attrs, "supportedOptionalOperations")
    for name in ("SET_BOOKMARKS", "GET_BOOKMARKS", "DYNAMIC_MENUS", "SERVICE_ANNOUNCEMENTS"):
        el(ops, "operation", name)
    if version == "2":
        el(attrs, "accessConfig", "STREAM_AND_DOWNLOAD")
        el(attrs, "announcementsPullFrequency", 720)  # minutes
        el(attrs, "progressStateOperationAllowed", True)


def get_service_attributes(call: Call) -> Any:
    assert call.row is not None
    if call.row.state == "logged_on":
        call.row.state = "attributes_read"
    root, resp = soap.answer("getServiceAttributes")
    _service_attributes(resp, call.version)
    return root


def _set_reading_system(call: Call, rsa: Any) -> None:
    assert call.row is not None
    values = {name: (rsa.findtext(f"{{{DO}}}{name}") or "").strip() for name in ("manufacturer", "model", "version")}
    if not values["manufacturer"] or not values["model"]:
        raise invalid(_l("readingSystemAttributes needs manufacturer and model"))
    language = (rsa.findtext(f"{{{DO}}}config/{{{DO}}}preferredUILanguage") or "").strip()[:35]
    call.row.reading_system = dodp.reading_system(values)
    call.row.language = language
    g.dodp_language = call.language


def set_reading_system_attributes(call: Call) -> Any:
    assert call.row is not None
    if call.row.state == "logged_on":
        raise Fault("invalidOperation", _l("Call getServiceAttributes before setReadingSystemAttributes"))
    _set_reading_system(call, call.req.child(DO, "readingSystemAttributes"))
    call.row.state = "ready"
    root, resp = soap.answer("setReadingSystemAttributes")
    el(resp, "setReadingSystemAttributesResult", True)
    return root


# -- what players poll: content lists and resources (one statement, a remembered answer) --------------

def polled_operation(req: soap.Request, now: datetime) -> bytes:
    """getContentList and getContentResources from ``polled.poll``'s one statement: the session, its
    patron and their loans. The request's database session is used only when the answer needs more than
    the loans (another list, a book not seen before) or when the session's idle time is to run on."""
    found = polled.poll(db.engine(), request.cookies.get(COOKIE, ""), now)
    if found is None:
        raise no_session()
    live, loans = found
    language = g.dodp_language = ui_language(live.language, live.patron_language)
    check(req.operation, req.action_version, live.version, live.state,
          lambda: dodp.accepted_version_holds(live.terms_version))
    if req.operation == "getContentList":
        body = content_list(req, live, loans, language)
    else:
        body = content_resources(req, live, loans)
    if now - live.last_seen_at >= timedelta(minutes=1):  # as dodp.touch: written at most once a minute
        dodp.touch_by_id(db.session(), live.id, now, lifetime())
        db.session().commit()
    return body


def content_list(req: soap.Request, live: polled.Live, loans: tuple[polled.LoanRow, ...], language: str) -> bytes:
    list_id = req.text("id")
    first, last = req.integer("firstItem"), req.integer("lastItem")
    if list_id == ("bookshelf" if live.version == "1" else "issued"):
        raise no_list()
    if first < 0 or (last != -1 and last < first):
        raise invalid(_l("firstItem and lastItem do not make a range"))
    query = ""
    if list_id in ("issued", "bookshelf"):
        entries = tuple(polled.Entry.of_loan(row) for row in loans)
    elif list_id == "clubs" and dodp.has_club_books():
        on_loan = {row[0]: row for row in loans}
        entries = tuple(polled.Entry.of_loan(on_loan[book_id])
                        for book_id in dodp.club_book_ids(db.session(), live.patron_id) if book_id in on_loan)
    else:
        active = {row[0] for row in loans}
        if list_id == "new":
            items = dodp.new_books(db.session(), active)
        elif list_id == "expired":
            items = dodp.expired(db.session(), live.patron_id, clock.now(), active)
        elif list_id.startswith(SEARCH_LIST):
            try:
                query = bytes.fromhex(list_id[len(SEARCH_LIST):]).decode()[:MAX_QUERY]
            except (ValueError, UnicodeDecodeError):
                raise no_list() from None
            items = dodp.search(db.session(), query)
        else:
            raise no_list()
        on_loan = {row[0]: row for row in loans}
        entries = tuple(polled.Entry(i.book_id, i.title, i.author, i.language, i.modified, i.content_hash,
                                     on_loan.get(i.book_id)) for i in items)
    title = polled.list_title(list_id, language, query)
    return polled.list_answer(db.session, live.version, language, list_id, title, entries, first, last)


def content_resources(req: soap.Request, live: polled.Live, loans: tuple[polled.LoanRow, ...]) -> bytes:
    book_id = dodp.book_id_of(req.text("contentID"))
    if book_id is None:
        raise no_content()
    if live.version == "2" and req.text("accessType") not in ("STREAM", "DOWNLOAD", "AUTOMATIC_DOWNLOAD"):
        raise invalid(_l("accessType must be STREAM, DOWNLOAD or AUTOMATIC_DOWNLOAD"))
    loan = next((row for row in loans if row[0] == book_id), None)
    if loan is None:
        raise not_issued(live.version) if db.session().get(Audiobook, book_id) is not None else no_content()
    # As url_for("dodp.resource", …, _external=True), without building the whole request URL.
    base = f"{request.scheme}://{request.host}{request.root_path}/daisy-online/content/{book_id}"
    return polled.resources_answer(db.session, live.version, base, (book_id, loan[6], loan[5]), loan[1])


# -- other operations on content ------------------------------------------------------------------

def _book(call: Call, required_loan: bool) -> tuple[Any, Any]:
    """(book, active loan or None) for the request's contentID."""
    assert call.patron is not None
    book_id = dodp.book_id_of(call.req.text("contentID"))
    if book_id is None:
        raise no_content()
    try:
        book = lending.get_book(call.session, book_id, with_tracks=True)
    except DomainError:
        raise no_content() from None
    loan = lending.active_loan(call.session, call.patron.id, book.id, call.now)
    if required_loan and loan is None:
        raise not_issued(call.version)
    return book, loan


def get_content_metadata(call: Call) -> Any:
    book, _loan = _book(call, required_loan=False)
    root, resp = soap.answer("getContentMetadata")
    node = el(resp, "contentMetadata", category="BOOK", requiresReturn=True)
    polled.metadata(node, polled.facts_of(book))
    return root


def _closed(call: Call) -> None:
    """Borrowing and returning belong to the Reader apps component: refused during a break."""
    closure = call.closures.get(call.language)
    if closure is not None:
        raise Fault("internalServerError" if call.version == "1" else "operationFailed",
                    _l("Borrowing and returning are closed during a service break: %(title)s", title=closure.title),
                    client=False)


def issue_content(call: Call) -> Any:
    book, loan = _book(call, required_loan=False)
    ok = loan is not None
    if not ok:
        _closed(call)
        assert call.patron is not None
        try:
            lending.borrow(call.session, call.patron, book, now=call.now, policy=policy())
            ok = True
        except DomainError:
            ok = False  # withdrawn, or the loan policy says no (the limit of loans at once)
    name = "issueContent" if call.version == "1" else "addContentToBookshelf"
    root, resp = soap.answer(name)
    el(resp, name + "Result", ok)
    return root


def return_content(call: Call) -> Any:
    book, loan = _book(call, required_loan=False)
    if loan is not None:
        _closed(call)
        assert call.patron is not None
        lending.return_loan(call.session, call.patron, book, now=call.now)
    root, resp = soap.answer("returnContent")
    el(resp, "returnContentResult", True)
    return root


# -- the files of a borrowed book -------------------------------------------------------------------

@bp.route("/daisy-online/content/<int:book_id>/<name>", methods=["GET", "HEAD"])
@db.read_only
@gate.always_open
def resource(book_id: int, name: str) -> Any:
    now = clock.now()
    session = db.session()
    row = dodp.find_session(session, request.cookies.get(COOKIE, ""), now)
    if row is None:
        return Response("No active DAISY Online session\n", status=401, mimetype="text/plain")
    loan = lending.active_loan(session, row.patron_id, book_id, now)
    if loan is None:
        return Response("Not on loan\n", status=403, mimetype="text/plain")
    book = lending.get_book(session, book_id, with_tracks=True)
    files = content.fileset(book)
    until = loan.until
    session.commit()
    if name in files.tracks:
        return track_response(storage.store(), files.tracks[name], until=until, now=now)
    if name not in files.documents:
        abort(404)
    data = files.documents[name]
    try:
        byte_range = parse_range(request.headers.get("Range"), len(data))
    except Unsatisfiable:
        return unsatisfiable(len(data))
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, max-age=0", "Vary": "Cookie"}
    if byte_range is None:
        return Response(data, mimetype=content.media_type(name), headers=headers)
    first, last = byte_range
    headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
    return Response(data[first:last + 1], status=206, mimetype=content.media_type(name), headers=headers)


# -- announcements ----------------------------------------------------------------------------------

def _announcement_text(notice: gate.Notice, language: str) -> str:
    with force_locale(language):
        starts = format_datetime(notice.starts, "short")
        if notice.ongoing:
            if notice.until is not None:
                return _("Service break until %(until)s: %(title)s. Books on loan keep playing.",
                         until=format_datetime(notice.until, "short"), title=notice.title)
            return _("Service break: %(title)s. Books on loan keep playing.", title=notice.title)
        if notice.until is not None:
            return _("Planned service break %(starts)s–%(until)s: %(title)s. Books on loan keep playing.",
                     starts=starts, until=format_datetime(notice.until, "short"), title=notice.title)
        return _("Planned service break from %(starts)s: %(title)s. Books on loan keep playing.",
                 starts=starts, title=notice.title)


def get_service_announcements(call: Call) -> Any:
    assert call.patron is not None
    read = dodp.read_announcements(call.session, call.patron.id)
    notices = [n for n in call.notices.get(call.language, []) if n.key not in read]
    root, resp = soap.answer("getServiceAnnouncements")
    node = el(resp, "announcements")
    for notice in notices:
        if call.version == "1":
            kind, priority = ("WARNING", 1) if notice.ongoing else ("INFORMATION", 2)
        else:
            kind, priority = ("SYSTEM", "HIGH") if notice.ongoing else ("INFORMATION", "MEDIUM")
        item = el(node, "announcement", id=notice.key, type=kind, priority=priority)
        label(item, _announcement_text(notice, call.language), call.language)
    return root


def mark_announcements_as_read(call: Call) -> Any:
    assert call.patron is not None
    keys = [(item.text or "").strip() for item in call.req.child(DO, "read").findall(f"{{{DO}}}item")]
    known = {n.key for n in call.notices.get(call.language, [])}
    if any(key not in known for key in keys):
        raise invalid(_l("No such announcement"))
    dodp.mark_read(call.session, call.patron.id, keys, call.now)
    root, resp = soap.answer("markAnnouncementsAsRead")
    el(resp, "markAnnouncementsAsReadResult", True)
    return root


# -- bookmarks: the lastmark is the listening position ---------------------------------------------

BOOKMARK_ITEMS_MAX = 64 * 1024


def _bookmark_set(parent: Any, call: Call, book: Any, files: content.Fileset, *, lastmark: bool = True,
                  bookmarks: bool = True, hilites: bool = True) -> None:
    assert call.patron is not None
    node = el(parent, "bookmarkSet", namespace=BOOKMARK)
    title = el(node, "title", namespace=BOOKMARK)
    el(title, "text", book.title, namespace=BOOKMARK)
    el(node, "uid", book.identifier, namespace=BOOKMARK)
    position = lending.get_position(call.session, call.patron.id, book.id)
    if lastmark and position is not None:
        polled.lastmark(node, files.chapters, position.track, position.offset_seconds)
    for item in _stored_items(call, book):
        kind = etree.QName(item).localname
        if (kind == "bookmark" and bookmarks) or (kind == "hilite" and hilites):
            node.append(item)


def outside_book() -> Fault:
    return invalid(_l("The lastmark does not point into this book"))


def _stored_items(call: Call, book: Any) -> list[Any]:
    assert call.patron is not None
    stored = dodp.stored_bookmarks(call.session, call.patron.id, book.id)
    if not stored:
        return []
    wrapper = etree.fromstring(f"<w>{stored}</w>".encode(), etree.XMLParser(resolve_entities=False, no_network=True))
    return list(wrapper)


def _store_set(call: Call, book: Any, files: content.Fileset, bookmark_set: Any, replace_items: bool,
               keep: str = "") -> None:
    assert call.patron is not None
    mark = bookmark_set.find(f"{{{BOOKMARK}}}lastmark")
    if mark is not None:
        position = content.mark_to_position(files.chapters, mark.findtext(f"{{{BOOKMARK}}}URI") or "",
                                            mark.findtext(f"{{{BOOKMARK}}}timeOffset") or "")
        if position is None:
            raise outside_book()
        track, offset = position
        duration = next(t.duration for t in book.tracks if t.number == track)
        try:
            lending.save_position(call.session, call.patron, book, track=track, offset=min(offset, duration),
                                  recorded_at=call.now, device=_device(call), now=call.now)
        except DomainError:
            raise outside_book() from None
    items = [child for child in bookmark_set if etree.QName(child).localname in ("bookmark", "hilite")]
    if replace_items or items:
        text = keep + "".join(etree.tostring(item, encoding="unicode") for item in items)
        if len(text) > BOOKMARK_ITEMS_MAX:
            raise invalid(_l("Too many bookmarks"))
        dodp.store_bookmarks(call.session, call.patron.id, book.id, text, call.now)


def _device(call: Call) -> str:
    assert call.row is not None
    rs = call.row.reading_system or {}
    return ("DAISY Online: " + " ".join(str(rs.get(k, "")) for k in ("manufacturer", "model")).strip())[:100]


def set_bookmarks(call: Call) -> Any:
    book, _loan = _book(call, required_loan=True)
    files = content.fileset(book)
    _store_set(call, book, files, call.req.child(BOOKMARK, "bookmarkSet"), replace_items=True)
    root, resp = soap.answer("setBookmarks")
    el(resp, "setBookmarksResult", True)
    return root


def get_bookmarks(call: Call) -> Any:
    book, _loan = _book(call, required_loan=True)
    files = content.fileset(book)
    root, resp = soap.answer("getBookmarks")
    if call.version == "1":
        _bookmark_set(resp, call, book, files)
        return root
    action = call.req.text("action")
    if action not in ("LASTMARK", "HILITE", "BOOKMARK", "ALL"):
        raise invalid(_l("action must be LASTMARK, HILITE, BOOKMARK or ALL"))
    wrapper = el(resp, "bookmarkObject")
    _bookmark_set(wrapper, call, book, files, lastmark=action in ("LASTMARK", "ALL"),
                  bookmarks=action in ("BOOKMARK", "ALL"), hilites=action in ("HILITE", "ALL"))
    return root


# -- dynamic menus ----------------------------------------------------------------------------------

def _choice_question(parent: Any, qid: str, title: str, choices: list[tuple[str, str]], lang: str) -> None:
    question = el(parent, "multipleChoiceQuestion", id=qid)
    label(question, title, lang)
    node = el(question, "choices")
    for cid, text in choices:
        label(el(node, "choice", id=cid), text, lang)


def _search_question(parent: Any, lang: str) -> None:
    question = el(parent, "inputQuestion", id="search-text")
    el(el(question, "inputTypes"), "input", type="TEXT_ALPHANUMERIC")
    label(question, _("Write words of the title or the author"), lang)


def get_questions(call: Call) -> Any:
    responses = call.req.child(DO, "userResponses").findall(f"{{{DO}}}userResponse")
    if not responses:
        raise invalid(_l("userResponses is empty"))
    root, resp = soap.answer("getQuestions")
    questions = el(resp, "questions")
    lang = call.language
    with force_locale(lang):
        first = responses[0]
        qid, value = first.get("questionID", ""), (first.get("value") or "").strip()
        if qid in ("default", "back"):
            choices = [("search", _("Search by title or author")), ("new", _("New books")), ("mine", _("My books"))]
            if dodp.has_club_books():
                choices.append(("clubs", _("My club books")))
            choices.append(("expired", _("Returned and expired books")))
            _choice_question(questions, "main", _("Kuulo audiobooks"), choices, lang)
        elif qid == "search" or (qid == "main" and value == "search"):
            _search_question(questions, lang)
        elif qid == "main" and (value in ("new", "expired") or value == "clubs" and dodp.has_club_books()):
            el(questions, "contentListRef", value)
        elif qid == "main" and value == "mine":
            el(questions, "contentListRef", "issued" if call.version == "1" else "bookshelf")
        elif qid == "search-text":
            query = " ".join(value.split())[:MAX_QUERY]
            if not query:
                _search_question(questions, lang)
            else:
                el(questions, "contentListRef", SEARCH_LIST + query.encode().hex())
        else:
            raise invalid(_l("No such question or choice"))
    return root


def get_key_exchange_object(call: Call) -> Any:
    raise Fault("operationNotSupported", _l("Kuulo's books are not protected: PDTB2 keys are not provided"))


# -- v2 only ----------------------------------------------------------------------------------------

TERMS_FREE = {"logOff", "getServiceAnnouncements", "markAnnouncementsAsRead", "getTermsOfService",
              "acceptTermsOfService"}


def get_terms_of_service(call: Call) -> Any:
    root, resp = soap.answer("getTermsOfService")
    with force_locale(call.language):
        text = _("Kuulo lends audiobooks to its registered patrons for their own listening. A loan ends by "
                 "itself on its return date, and the player then deletes the book. Your listening position and "
                 "bookmarks are kept for you only.")
    label(resp, text, call.language)
    return root


def accept_terms_of_service(call: Call) -> Any:
    assert call.patron is not None
    dodp.accept_terms(call.session, call.patron.id, call.now)
    root, resp = soap.answer("acceptTermsOfService")
    el(resp, "acceptTermsOfServiceResult", True)
    return root


def set_progress_state(call: Call) -> Any:
    assert call.patron is not None
    book, _loan = _book(call, required_loan=True)
    state = call.req.text("state")
    if state not in ("START", "PAUSE", "RESUME", "FINISH"):
        raise invalid(_l("state must be START, PAUSE, RESUME or FINISH"))
    dodp.set_progress(call.session, call.patron.id, book.id, state, call.now)
    root, resp = soap.answer("setProgressState")
    el(resp, "setProgressStateResult", True)
    return root


def update_bookmarks(call: Call) -> Any:
    assert call.patron is not None
    book, _loan = _book(call, required_loan=True)
    action = call.req.text("action")
    if action not in ("REPLACE_ALL", "ADD", "REMOVE"):
        raise invalid(_l("action must be REPLACE_ALL, ADD or REMOVE"))
    bookmark_set = call.req.child(DO, "bookmarkObject").find(f"{{{BOOKMARK}}}bookmarkSet")
    if bookmark_set is None:
        raise invalid(_l("%(name)s is missing", name="bookmarkSet"))
    files = content.fileset(book)
    if action == "REPLACE_ALL":
        _store_set(call, book, files, bookmark_set, replace_items=True)
    elif action == "ADD":
        stored = dodp.stored_bookmarks(call.session, call.patron.id, book.id)
        _store_set(call, book, files, bookmark_set, replace_items=False, keep=stored)
    else:
        removed = {_canonical(item) for item in bookmark_set
                   if etree.QName(item).localname in ("bookmark", "hilite")}
        kept = [item for item in _stored_items(call, book) if _canonical(item) not in removed]
        dodp.store_bookmarks(call.session, call.patron.id, book.id,
                             "".join(etree.tostring(i, encoding="unicode") for i in kept), call.now)
    root, resp = soap.answer("updateBookmarks")
    el(resp, "updateBookmarksResult", True)
    return root


def _canonical(item: Any) -> bytes:
    return etree.tostring(item, method="c14n")


# The handlers of the operations besides those in POLLED (getContentList, getContentResources).
V1 = {"logOff": log_off, "getServiceAttributes": get_service_attributes,
      "setReadingSystemAttributes": set_reading_system_attributes,
      "getContentMetadata": get_content_metadata, "issueContent": issue_content, "returnContent": return_content,
      "getServiceAnnouncements": get_service_announcements,
      "markAnnouncementsAsRead": mark_announcements_as_read, "setBookmarks": set_bookmarks,
      "getBookmarks": get_bookmarks, "getQuestions": get_questions,
      "getKeyExchangeObject": get_key_exchange_object}
V2 = {"logOff": log_off, "returnContent": return_content, "addContentToBookshelf": issue_content,
      "getServiceAnnouncements": get_service_announcements,
      "markAnnouncementsAsRead": mark_announcements_as_read, "updateBookmarks": update_bookmarks,
      "getBookmarks": get_bookmarks, "getQuestions": get_questions,
      "getKeyExchangeObject": get_key_exchange_object, "getTermsOfService": get_terms_of_service,
      "acceptTermsOfService": accept_terms_of_service, "setProgressState": set_progress_state}
