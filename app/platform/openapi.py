"""/api/openapi.json, generated from the routes themselves: their rules and methods (Flask's URL map),
their declared operations (app/platform/contract.py), who may call them (the auth decorators' marks)
and whether a break can close them (the status gate). Nothing here is written per path."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, request
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from werkzeug.routing import Rule

from app.platform.contract import PG_INT_MAX, IdConverter, Operation, Problem, declared

API_PREFIX = "/api/"
SELF = ("/api/openapi.json", "/api/docs")
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer",
               "description": "A staff API token (`flask --app app accounts token EMAIL`) or a patron's device "
                              "token (POST /api/v1/token)."},
    "cardPin": {"type": "http", "scheme": "basic", "description": "Library card number and PIN."},
    "sipTerminal": {"type": "http", "scheme": "basic",
                    "description": "A self-service terminal's name and password (`flask --app app sip2 terminals add`)."},
}
# What each kind of caller is, in the document's security schemes.
AUTH_SCHEMES = {"staff": ("bearer",), "patron": ("bearer",), "reader": ("bearer", "cardPin"),
                "card": ("cardPin",)}
GENERIC = {
    400: "The body is not a JSON object (malformed, not UTF-8, nested too deeply, or of another type)",
    401: "No valid credentials (WWW-Authenticate says which are accepted)",
    403: "The credentials are valid but not for this (another kind of token, or a missing role)",
    404: "Nothing with this id, or not yours",
    413: "The body is larger than the API accepts (1 MiB)",
    422: "Field errors: `errors` lists each field and its message",
    429: "Too many requests (Retry-After)",
    503: "Closed for a maintenance break, or the database cannot be reached (Retry-After, Link rel=status)",
}


@dataclass(frozen=True)
class Route:
    path: str  # OpenAPI form: /api/v1/books/{book_id}
    method: str
    endpoint: str
    rule: Rule
    op: Operation | None


def api_routes(app: Flask) -> Iterator[Route]:
    """Every (path, method) under /api/ that the document covers, with its declaration (None: undeclared)."""
    for rule in app.url_map.iter_rules():
        path = openapi_path(rule.rule)
        if not path.startswith(API_PREFIX) or path in SELF:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield Route(path, method, rule.endpoint, rule, declared(app.view_functions.get(rule.endpoint)))


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-zA-Z_]+(?:\([^)]*\))?:)?([a-zA-Z_]+)>", r"{\1}", rule)


# -- the document -------------------------------------------------------------------------------


def document(app: Flask, base_url: str) -> dict[str, Any]:
    cached = app.extensions.get("kuulo_openapi")
    if cached is None:
        cached = app.extensions["kuulo_openapi"] = build(app)
    return {**cached, "servers": [{"url": base_url}]}


def build(app: Flask) -> dict[str, Any]:
    routes = [r for r in api_routes(app) if r.op is not None]
    models: list[tuple[type[BaseModel], str]] = [(Problem, "serialization")]
    for route in routes:
        assert route.op is not None
        if route.op.body is not None:
            models.append((route.op.body, "validation"))
        models.extend((reply.model, "serialization") for reply in route.op.replies.values() if reply.model)
    keys, top = models_json_schema(list(dict.fromkeys(models)), ref_template="#/components/schemas/{model}")
    schemas = dict(sorted(top.get("$defs", {}).items()))
    refs = {model: schema for (model, _mode), schema in keys.items()}
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(app, route, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Kuulo API", "version": "1",
                 "description": "JSON APIs of Kuulo for reader apps and library systems. Errors are "
                                "application/problem+json (RFC 9457) with a stable `type`; field errors list "
                                "each field in `errors`. Generated from the routes' own declarations."},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas, "securitySchemes": SCHEMES},
    }


def _operation(app: Flask, route: Route, refs: dict[Any, Any]) -> dict[str, Any]:
    op = route.op
    assert op is not None
    view = app.view_functions[route.endpoint]
    out: dict[str, Any] = {"operationId": route.endpoint.replace(".", "_") + "_" + route.method.lower(),
                           "summary": op.summary, "tags": list(op.tags)}
    if op.description:
        out["description"] = op.description
    schemes = security_of(view, op)
    out["security"] = [{name: []} for name in schemes]
    params = _path_parameters(route.rule) + _query_parameters(op) + [
        {"name": h.name, "in": "header", "required": False, "description": h.description,
         "schema": {"type": "string", "minLength": 1, "maxLength": h.max_length,
                    **({"pattern": h.pattern} if h.pattern else {})}} for h in op.headers]
    if params:
        out["parameters"] = params
    if op.body is not None:
        out["requestBody"] = {"required": op.body_required,
                              "content": {"application/json": {"schema": refs[op.body]}}}
    out["responses"] = {str(status): reply for status, reply in sorted(responses(app, route, refs).items())}
    return out


def security_of(view: Any, op: Operation) -> tuple[str, ...]:
    if op.security is not None:
        return op.security
    return AUTH_SCHEMES.get(getattr(view, "api_auth", ""), ())


def responses(app: Flask, route: Route, refs: dict[Any, Any]) -> dict[int, dict[str, Any]]:
    """Every answer the route can give: its declared ones and those its body, path, callers and gate bring."""
    op = route.op
    assert op is not None
    view = app.view_functions[route.endpoint]
    out: dict[int, dict[str, Any]] = {}
    for status, reply in op.replies.items():
        entry: dict[str, Any] = {"description": reply.description}
        if reply.model is not None:
            content = {reply.content_type: {"schema": refs[reply.model]}}
            content.update({kind: {"schema": {"type": "object"}} for kind in reply.also})
            entry["content"] = content
        elif reply.content_type != "application/json" or reply.also:  # bytes (audio, HTML): types, no schema
            entry["content"] = {kind: {} for kind in (reply.content_type, *reply.also)}
        if reply.headers:
            entry["headers"] = {name: {"schema": {"type": "string"}} for name in reply.headers}
        out[status] = entry
    generic: dict[int, str] = {503: GENERIC[503]}
    if op.body is not None:
        generic.update({400: GENERIC[400], 413: GENERIC[413], 422: GENERIC[422]})
    if op.query is not None or op.headers:
        generic[422] = GENERIC[422]
    if route.rule.arguments:
        generic[404] = GENERIC[404]
    kind = getattr(view, "api_auth", None)
    if kind or op.security:
        generic[401] = GENERIC[401]
    if kind in ("staff", "patron"):
        generic[403] = GENERIC[403]
    if kind in ("reader", "card") or "cardPin" in (op.security or ()):
        generic[429] = "Too many wrong PINs: the card is locked for a while (Retry-After)"
    if getattr(view, "rate_limited", False) or route.endpoint in app.extensions.get("kuulo_rate_limited", ()):
        generic[429] = GENERIC[429]
    # The 503 of a maintenance break and of a database outage are documented alike, for every route.
    for status, text in {**generic, **op.problems}.items():
        if status in out:
            continue
        entry = {"description": text, "content": {"application/problem+json": {"schema": PROBLEM_REF}}}
        if status in (401,):
            entry["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        if status in (429, 503):
            entry["headers"] = {"Retry-After": {"schema": {"type": "string"}}}
        out[status] = entry
    return out


def _path_parameters(rule: Rule) -> list[dict[str, Any]]:
    params = []
    for name in sorted(rule.arguments, key=rule.rule.find):
        converter = rule._converters.get(name)  # noqa: SLF001 - werkzeug keeps them here
        if isinstance(converter, IdConverter):
            schema: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": PG_INT_MAX}
        else:
            schema = {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return params


def _query_parameters(op: Operation) -> list[dict[str, Any]]:
    if op.query is None:
        return []
    schema = op.query.model_json_schema()
    required = set(schema.get("required", ()))
    return [{"name": name, "in": "query", "required": name in required,
             **({"description": prop.pop("description")} if "description" in prop else {}),
             "schema": {k: v for k, v in prop.items() if k != "title"}}
            for name, prop in schema.get("properties", {}).items()]


# -- answers checked against the document (tests; API_CHECK_RESPONSES) ----------------------------


class ContractBroken(AssertionError):
    """An answer the document does not describe: the code and its declaration have drifted apart."""


def check_response(resp: Response) -> Response:
    view = current_app.view_functions.get(request.endpoint or "")
    op = declared(view)
    if op is None or request.method in ("HEAD", "OPTIONS") or resp.status_code == 500:
        return resp  # a 500 is a failure of its own kind, never part of a contract
    doc = document(current_app, "")
    path = openapi_path(request.url_rule.rule) if request.url_rule else ""
    entry = doc["paths"].get(path, {}).get(request.method.lower())
    where = f"{request.method} {path}"
    if entry is None:
        raise ContractBroken(f"{where} is not in the document")
    answer = entry["responses"].get(str(resp.status_code))
    if answer is None:
        raise ContractBroken(f"{where} answered {resp.status_code}, which its declaration does not list")
    content = answer.get("content")
    if not content:
        if resp.status_code not in (204, 304) and resp.calculate_content_length():
            raise ContractBroken(f"{where} answered {resp.status_code} with a body its declaration does not have")
        return resp
    if resp.mimetype not in content:
        raise ContractBroken(f"{where} answered {resp.status_code} as {resp.mimetype}, declared {sorted(content)}")
    schema = content[resp.mimetype].get("schema")
    if schema is None or resp.direct_passthrough or resp.is_streamed or not resp.mimetype.endswith("json"):
        return resp
    _validator(doc, schema).validate(resp.get_json(force=True))
    return resp


def _validator(doc: dict[str, Any], schema: dict[str, Any]) -> Any:
    from jsonschema import Draft202012Validator

    cache = current_app.extensions.setdefault("kuulo_openapi_validators", {})
    key = repr(schema)
    if key not in cache:
        cache[key] = Draft202012Validator({**schema, "components": doc["components"]})
    return cache[key]
