"""The status gate: every route belongs to a service component; closed components refuse new work.

Domains declare, the status package decides (architecture rule 6): a blueprint or a route names
its component with ``declare(bp, "registration")`` or ``@component("reader_apps")``; routes that
must stay open during a break (downloads of books already on loan, the status page itself) say
``@always_open``. The status package registers a ``ClosureProvider`` that answers, for a component
and a moment, whether it is closed and until when. Without a provider nothing is ever closed.

Users learn of a closure before they start: every page shows a banner (``errors/_status_banner.html``,
``gate_announcements()``) while a break runs or starts within the hour; a page whose GET stays open
replaces its form or button with the closure notice (``errors/_closure.html``: ``closable(component)``,
``gate_closed(component)``); a form sent across the start of a break is answered with what was typed.
Every 503 carries ``Link: <…/status>; rel="status"``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from flask import Blueprint, Flask, Response, current_app, has_request_context, render_template, request

F = TypeVar("F", bound=Callable[..., Any])

# Kuulo's services, as shown on the status page (codes are stable; names are translated there).
COMPONENTS = ("login", "search", "web_library", "reader_apps", "registration", "password_reset",
              "institution_applications", "self_service", "online_payment", "cd_clubs")
READ_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Closure:
    component: str
    until: datetime | None  # expected end (for Retry-After); None when unknown
    url: str  # the announcement
    title: str  # in the request's language
    reads_open: bool = False  # the window lets people read (GET) while new work is refused


class ClosureProvider(Protocol):
    def closure(self, component: str, now: datetime, language: str) -> Closure | None: ...


_provider: ClosureProvider | None = None
_blueprint_components: dict[str, str] = {}


def set_provider(provider: ClosureProvider | None) -> None:
    global _provider
    _provider = provider


def declare(bp: Blueprint, component_code: str) -> None:
    """Every route of ``bp`` belongs to ``component_code`` unless the route says otherwise."""
    if component_code not in COMPONENTS:
        raise ValueError(component_code)
    _blueprint_components[bp.name] = component_code


def component(code: str, reads_open: bool = False) -> Callable[[F], F]:
    """This route belongs to ``code``; with ``reads_open`` its GETs stay open during a closure."""
    if code not in COMPONENTS:
        raise ValueError(code)

    def mark(view: F) -> F:
        view.gate_component = code  # type: ignore[attr-defined]
        view.gate_reads_open = reads_open  # type: ignore[attr-defined]
        return view

    return mark


def always_open(view: F) -> F:
    """This route keeps working during any closure (e.g. streaming a book already on loan)."""
    view.gate_component = None  # type: ignore[attr-defined]
    return view


def component_of_endpoint(app: Flask, endpoint: str | None) -> tuple[str | None, bool]:
    if not endpoint:
        return None, False
    view = app.view_functions.get(endpoint)
    if view is not None and hasattr(view, "gate_component"):
        return view.gate_component, bool(getattr(view, "gate_reads_open", False))
    return _blueprint_components.get(endpoint.rpartition(".")[0]), False


@dataclass(frozen=True)
class Notice:
    """A planned break or an open incident touching a component, current or coming (for announcements)."""

    key: str  # stable per event ("maintenance-7", "incident-3")
    component: str
    starts: datetime
    until: datetime | None
    url: str
    title: str
    language: str  # the language the title is in
    ongoing: bool


def notices_for(component_code: str, now: datetime, language: str) -> list[Notice]:
    """The status provider's current and coming breaks of ``component_code`` (none without a provider)."""
    notices = getattr(_provider, "notices", None)
    return list(notices(component_code, now, language)) if notices is not None else []


@dataclass(frozen=True)
class Announcement:
    """One break or incident for the banner on every page: what closes (in users' words), when, the link."""

    key: str
    title: str
    language: str  # the language the title is in
    services: tuple[str, ...]  # the closed components' names, in the reader's language
    starts: datetime
    until: datetime | None
    url: str
    ongoing: bool


BANNER_AHEAD = timedelta(hours=1)  # a break is announced on every page from an hour before it starts


def component_label(component_code: str, language: str) -> str:
    """The component's name as users say it (from the provider), else its code."""
    name = getattr(_provider, "component_name", None)
    return name(component_code, language) if name is not None else component_code


def status_url() -> str | None:
    """The public status page (the provider's), for ``Link: <…>; rel="status"`` on every 503."""
    url = getattr(_provider, "status_url", None)
    return url() if url is not None else None


def announcements(now: datetime, language: str, ahead: timedelta = BANNER_AHEAD) -> list[Announcement]:
    """Every break or incident that closes something now or within ``ahead``, soonest first."""
    found: dict[str, list[Notice]] = {}
    for code in COMPONENTS:
        for notice in notices_for(code, now, language):
            if notice.starts <= now + ahead:
                found.setdefault(notice.key, []).append(notice)
    result = []
    for key, notices in found.items():
        first = notices[0]
        services = tuple(component_label(n.component, language) for n in notices)
        result.append(Announcement(key, first.title, first.language, services, first.starts, first.until,
                                   first.url, first.ongoing))
    return sorted(result, key=lambda a: (a.starts, a.key))


def closed_now(component_code: str) -> Closure | None:
    """For pages: the closure of ``component_code`` now, if its actions (POST) are refused. A page whose
    GET stays open shows this instead of the form or button (``errors/_closure.html``)."""
    from app import clock
    from app.i18n import current_language

    if component_code not in COMPONENTS:
        raise ValueError(component_code)
    return closure_for(component_code, clock.now(), current_language())


def closure_for(component_code: str, now: datetime, language: str) -> Closure | None:
    """Whether ``component_code`` is closed at ``now`` (for documents that announce it, e.g. OPDS auth)."""
    return _provider.closure(component_code, now, language) if _provider is not None else None


def check(now: datetime, language: Callable[[], str]) -> Closure | None:
    """The closure that applies to the current request, if any; ``language()`` (the announcement's
    language) is only worked out for a route that may be closed."""
    if _provider is None or request.method == "OPTIONS":  # a CORS preflight asks nothing of the service
        return None
    code, reads_open = component_of_endpoint(current_app, request.endpoint)
    if code is None:
        return None
    closure = _provider.closure(code, now, language())
    if closure is None:
        return None
    if (reads_open or closure.reads_open) and request.method in READ_METHODS:
        return None
    return closure


def retry_after(closure: Closure, now: datetime) -> str:
    if closure.until is None or closure.until <= now:
        return "300"
    return str(int((closure.until - now).total_seconds()) + 1)


def init_app(app: Flask) -> None:
    from app import clock
    from app.errors import problem, wants_json
    from app.i18n import current_language

    @app.before_request
    def _gate() -> Any:
        now = clock.now()
        closure = check(now, current_language)
        if closure is None:
            return None
        headers = {"Retry-After": retry_after(closure, now)}
        if wants_json():
            return problem(503, "service-unavailable", closure.title, headers=headers,
                           component=closure.component, announcement_url=closure.url,
                           expected_end=closure.until.isoformat() if closure.until else None)
        # A form sent across the start of a break: show what was typed, so nothing has to be typed again.
        submitted = submitted_values() if request.method not in READ_METHODS else []
        body = render_template("errors/closed.html", closure=closure, submitted=submitted,
                               service=component_label(closure.component, current_language()))
        return body, 503, headers | {"Cache-Control": "no-store"}

    @app.after_request
    def _link_status(response: Response) -> Response:
        if response.status_code == 503 and "status" not in response.headers.get("Link", ""):
            url = status_url()
            if url:
                response.headers.add("Link", f'<{url}>; rel="status"')
        return response

    # Globals (not a context processor), so imported macros (errors/_closure.html) see them too.
    app.jinja_env.globals.update(gate_closed=closed_now, gate_announcements=_page_announcements,
                                 gate_service_name=lambda code: component_label(code, current_language()))


def _page_announcements() -> list[Announcement]:
    """The banner's announcements for this request (never fails a page: no request, no banner)."""
    from app import clock
    from app.i18n import current_language

    if not has_request_context() or _provider is None:
        return []
    try:
        return announcements(clock.now(), current_language())
    except Exception:  # the banner is a courtesy: a page renders without it
        current_app.logger.warning("gate: could not read the announcements", exc_info=True)
        return []


# Never shown back: the form's token and anything secret (passwords, PINs).
HIDDEN_FIELDS = ("csrf_token", "password", "secret", "pin", "token")


def submitted_values() -> list[tuple[str, str]]:
    """The text fields of a refused form, as typed (names made readable), to copy into the form later."""
    values = []
    for name, value in request.form.items(multi=True):
        if any(hidden in name.lower() for hidden in HIDDEN_FIELDS) or not value.strip():
            continue
        values.append((name.replace("_", " ").replace("-", " ").strip().capitalize(), value[:5000]))
    return values[:100]
