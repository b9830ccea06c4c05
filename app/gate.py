"""The status gate: every route belongs to a service component; closed components refuse new work.

Domains declare, the status package decides (architecture rule 6): a blueprint or a route names
its component with ``declare(bp, "registration")`` or ``@component("reader_apps")``; routes that
must stay open during a break (downloads of books already on loan, the status page itself) say
``@always_open``. The status package registers a ``ClosureProvider`` that answers, for a component
and a moment, whether it is closed and until when. Without a provider nothing is ever closed.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from flask import Blueprint, Flask, current_app, render_template, request

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
        body = render_template("errors/closed.html", closure=closure)
        return body, 503, headers
