"""The HTTP API contract: one declaration per operation validates its request and documents it.

A JSON route says what it takes and what it answers::

    @bp.post("/registrations")
    @api_staff("librarian")
    @operation("Register a patron", tags=["registration"], body=RegistrationRequest,
               responses={201: (RegistrationResult, "Registered"), 200: (RegistrationResult, "Known")})
    def create_registration(body: RegistrationRequest) -> Any: ...

The decorator reads the body through app/platform/bodies.py, validates it with the model (a 422
problem+json naming each field, translated), passes the model to the view and turns a returned model
into JSON. The same declaration, with what the route's decorators say about who may call it and
whether a maintenance break closes it, is the route's entry in /api/openapi.json
(app/platform/openapi.py) — the document is generated, never written by hand. With
``API_CHECK_RESPONSES`` (on in tests) every answer of a declared route is checked against its entry:
an undocumented status, content type or a body that breaks its schema fails loudly.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Annotated, Any, ClassVar, TypeVar

from flask import Flask, Response, json, request
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from werkzeug.routing import IntegerConverter

from app.errors import problem, validation_problem
from app.platform.bodies import BodyUnreadable, UnsafeText, is_storable, parse_json

F = TypeVar("F", bound=Callable[..., Any])
PG_INT_MAX = 2_147_483_647  # ids are PostgreSQL integers: a larger one names nothing

# A whole number that can be a row id; the same bound as the URL converter below.
Id = Annotated[int, Field(ge=1, le=PG_INT_MAX)]


def Text(max_length: int, description: str | None = None) -> Any:  # noqa: N802 - used as a type
    """Text of at most ``max_length`` characters (the limit of the column or the domain's rule)."""
    return Annotated[str, Field(max_length=max_length, description=description or None)]


class Body(BaseModel):
    """Base of request bodies: JSON types as they are (no "5" for 5), unknown fields ignored."""

    model_config = ConfigDict(strict=True, extra="ignore", str_max_length=100_000)


class Query(BaseModel):
    """Base of query-string models: values arrive as text, so numbers are read from it. A parameter the
    operation does not take is refused (422), so a misspelt filter never silently lists everything."""

    model_config = ConfigDict(extra="forbid", str_max_length=1000)


class Answer(BaseModel):
    """Base of response bodies. ``omit_none``: members that are None are left out of the JSON (for optional
    members that only some answers carry, such as a token's secret)."""

    model_config = ConfigDict(extra="forbid")
    omit_none: ClassVar[bool] = False


class Problem(BaseModel):
    """RFC 9457 problem details; ``type`` is a stable URI per kind of problem, extra members may follow."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})
    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


@dataclass(frozen=True)
class Reply:
    """One documented answer: a model (JSON) or none, and what it means."""

    description: str
    model: type[BaseModel] | None = None
    content_type: str = "application/json"
    headers: tuple[str, ...] = ()  # names of response headers worth documenting (ETag, Location …)
    also: tuple[str, ...] = ()  # further content types the same answer may come in


@dataclass(frozen=True)
class Header:
    """A request header the operation reads."""

    name: str
    description: str
    max_length: int = 1000
    pattern: str | None = None  # a regular expression the whole value must match


@dataclass
class Operation:
    summary: str
    tags: tuple[str, ...]
    replies: dict[int, Reply]
    description: str = ""
    body: type[BaseModel] | None = None
    body_required: bool = True
    query: type[BaseModel] | None = None
    headers: tuple[Header, ...] = ()
    security: tuple[str, ...] | None = None  # only for routes whose auth no decorator declares
    problems: dict[int, str] = field(default_factory=dict)  # refusals specific to this operation


ReplySpec = Reply | str | tuple[type[BaseModel] | None, str]


def operation(summary: str, *, tags: list[str] | tuple[str, ...], responses: dict[int, ReplySpec],
              description: str = "", body: type[BaseModel] | None = None, body_required: bool = True,
              query: type[BaseModel] | None = None, headers: tuple[Header, ...] = (),
              security: tuple[str, ...] | None = None) -> Callable[[F], F]:
    """Declare a JSON operation (see the module docstring). ``responses``: status → Reply, a (model,
    description) pair for success answers, or a description for a problem+json answer."""
    replies: dict[int, Reply] = {}
    problems: dict[int, str] = {}
    for status, spec in responses.items():
        if isinstance(spec, Reply):
            replies[status] = spec
        elif isinstance(spec, str):
            problems[status] = spec
        else:
            model, text = spec
            replies[status] = Reply(text, model)
    op = Operation(summary, tuple(tags), replies, description, body, body_required, query, headers, security,
                   problems)

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if op.body is not None:
                parsed = read_body(op.body, op.body_required)
                if isinstance(parsed, Response):
                    return parsed
                kwargs["body"] = parsed
            if op.query is not None:
                parsed = read_query(op.query)
                if isinstance(parsed, Response):
                    return parsed
                kwargs["query"] = parsed
            return render(view(*args, **kwargs), op)

        wrapped.api_operation = op  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorate


# -- reading requests ---------------------------------------------------------------------------

UNREADABLE = {
    "not-json": _l("The body is not valid JSON: %(reason)s."),
    "not-utf8": _l("The body must be JSON in UTF-8."),
    "too-deep": _l("The JSON is nested too deeply (at most %(max_depth)d levels)."),
    "not-object": _l("Send a JSON object."),
    "empty": _l("Send a JSON object in the body."),
}


def bad_body(code: str, **params: Any) -> Response:
    return problem(400, "bad-request", str(UNREADABLE[code]) % params if params else str(UNREADABLE[code]),
                   reason=code)


def read_body(model: type[BaseModel], required: bool = True) -> BaseModel | Response:
    """The request body as ``model``, or the 400/422 problem that answers it."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            return bad_body("empty")
        return model.model_validate({})
    try:
        value = parse_json(raw)
    except BodyUnreadable as err:
        return bad_body(err.code, **err.params)
    except UnsafeText as err:
        return validation_problem({err.field: [str(MESSAGES["unsafe_text"])]})
    if not isinstance(value, dict):
        return bad_body("not-object")
    try:
        return model.model_validate_json(raw, strict=True)
    except ValidationError as err:
        return validation_problem(field_messages(err))


def read_query(model: type[BaseModel]) -> BaseModel | Response:
    values = {key: request.args.get(key) for key in request.args}
    for key, text in values.items():
        if text is not None and not is_storable(text):
            return validation_problem({key: [str(MESSAGES["unsafe_text"])]})
    try:
        return model.model_validate(values)
    except ValidationError as err:
        return validation_problem(field_messages(err))


MESSAGES: dict[str, Any] = {
    "missing": _l("This field is required."),
    "string_type": _l("Send text."),
    "string_too_short": _l("At least %(min_length)s characters."),
    "string_too_long": _l("At most %(max_length)s characters."),
    "string_pattern_mismatch": _l("The format is not valid."),
    "int_type": _l("Send a whole number."),
    "int_parsing": _l("Send a whole number."),
    "int_from_float": _l("Send a whole number."),
    "float_type": _l("Send a number."),
    "float_parsing": _l("Send a number."),
    "greater_than_equal": _l("At least %(ge)s."),
    "greater_than": _l("More than %(gt)s."),
    "less_than_equal": _l("At most %(le)s."),
    "less_than": _l("Less than %(lt)s."),
    "bool_type": _l("Send true or false."),
    "bool_parsing": _l("Send true or false."),
    "literal_error": _l("Use one of: %(expected)s."),
    "enum": _l("Use one of: %(expected)s."),
    "list_type": _l("Send a list."),
    "too_short": _l("At least %(min_length)s items."),
    "too_long": _l("At most %(max_length)s items."),
    "dict_type": _l("Send an object."),
    "model_type": _l("Send an object."),
    "model_attributes_type": _l("Send an object."),
    "datetime_type": _l("Send a date and time such as 2026-12-03T10:00:00+02:00."),
    "datetime_parsing": _l("Send a date and time such as 2026-12-03T10:00:00+02:00."),
    "datetime_from_date_parsing": _l("Send a date and time such as 2026-12-03T10:00:00+02:00."),
    "timezone_aware": _l("Send a date and time with its time zone, such as 2026-12-03T10:00:00+02:00."),
    "date_type": _l("Send a date such as 2026-12-03."),
    "date_parsing": _l("Send a date such as 2026-12-03."),
    "date_from_datetime_parsing": _l("Send a date such as 2026-12-03."),
    "value_error": _l("This value is not valid."),
    "extra_forbidden": _l("This parameter is not accepted here."),
    "unsafe_text": _l("Contains a character that cannot be stored (a NUL byte or an unpaired surrogate)."),
    "invalid": _l("This value is not valid."),
}


def field_messages(err: ValidationError) -> dict[str, list[str]]:
    """Field path ("responsible_person.email", "loan_ids.2") → translated messages."""
    out: dict[str, list[str]] = {}
    for item in err.errors(include_url=False, include_input=False):
        loc = [str(part) for part in item["loc"] if not _is_type_tag(part)]
        name = ".".join(loc) or "body"
        template = MESSAGES.get(item["type"], MESSAGES["invalid"])
        ctx = {k: _readable(v) for k, v in (item.get("ctx") or {}).items()}
        try:
            text = str(template) % ctx if "%(" in str(template) else str(template)
        except (KeyError, ValueError):
            text = str(MESSAGES["invalid"])
        messages = out.setdefault(name, [])
        if text not in messages:
            messages.append(text)
    return out


def _is_type_tag(part: Any) -> bool:
    # pydantic puts the member type of a union into the location ("function-after[...]", "str")
    return isinstance(part, str) and ("[" in part or part in ("str", "int", "bool", "list", "dict", "none"))


def _readable(value: Any) -> str:
    return value.replace("'", "") if isinstance(value, str) else str(value)


# -- answering ----------------------------------------------------------------------------------


def render(result: Any, op: Operation) -> Any:
    """A returned model (or (model, status[, headers])) becomes JSON; anything else passes through."""
    status, headers = None, None
    if isinstance(result, tuple) and result and isinstance(result[0], BaseModel):
        result, status, *rest = result
        headers = rest[0] if rest else None
    if not isinstance(result, BaseModel):
        return result
    if status is None:
        status = next((s for s in sorted(op.replies) if 200 <= s < 300), 200)
    body = result.model_dump(mode="json", exclude_none=bool(getattr(result, "omit_none", False)))
    resp = Response(json.dumps(body), status=status, mimetype="application/json")
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


# -- ids in paths -------------------------------------------------------------------------------


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: at most PostgreSQL's integer, so a larger id is a 404, not a crash.

    The bound is in the regular expression itself: a number out of range then matches no rule at all (a
    converter that refused it later would make werkzeug answer 405 for the rule's other methods)."""

    regex = (r"(?:\d{1,9}|1\d{9}|20\d{8}|21[0-3]\d{7}|214[0-6]\d{6}|2147[0-3]\d{5}|21474[0-7]\d{4}"
             r"|214748[0-2]\d{3}|2147483[0-5]\d{2}|21474836[0-3]\d|214748364[0-7])")


def install_converters(app: Flask) -> None:
    """Before any blueprint is registered: its rules are compiled with the converters of this moment."""
    app.url_map.converters["int"] = IdConverter


def init_app(app: Flask) -> None:
    app.config.setdefault("API_CHECK_RESPONSES", bool(app.config.get("TESTING")))
    limit = int(app.config.get("API_JSON_MAX_BYTES", 1024 * 1024))
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = int(app.config["INSTITUTIONS_DOCUMENT_MAX_BYTES"]) + 1024 * 1024

    @app.before_request
    def _json_body_limit() -> None:
        if request.path.startswith("/api/"):
            request.max_content_length = limit

    if app.config["API_CHECK_RESPONSES"]:
        from app.platform.openapi import check_response

        app.after_request(check_response)


def declared(view: Callable[..., Any] | None) -> Operation | None:
    return getattr(view, "api_operation", None) if view is not None else None
