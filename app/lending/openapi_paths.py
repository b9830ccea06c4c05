"""The reader-app lending API in the OpenAPI document (/api/openapi.json)."""
from __future__ import annotations

from typing import Any

from app import openapi

BOOK = {"name": "book_id", "in": "path", "required": True, "schema": {"type": "integer"}}
SECURITY = [{"bearer": []}, {"cardPin": []}]
UNAUTHORIZED = openapi.problem_response(
    "No valid token or card+PIN; WWW-Authenticate and a Link to the Authentication for OPDS document")
CLOSED = openapi.problem_response("Closed for a maintenance break (Retry-After, announcement_url)")


def _json(ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


def _op(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "tags": ["reader app"], "security": SECURITY,
            "responses": {**responses, "401": UNAUTHORIZED}, **extra}


LOAN_CHANGE = {"403": openapi.problem_response("Refused by the loan policy (reason: limit_total, max_renewals …)"),
               "404": openapi.problem_response("No such book"), "503": CLOSED}

PATHS: dict[str, Any] = {
    "/api/v1/loans": {"get": _op(
        "The patron's active loans, each with its absolute `until` (send If-None-Match for cheap polling)",
        {"200": {"description": "Loans", "headers": {"ETag": {"schema": {"type": "string"}}},
                 "content": {"application/json": {"schema": {"type": "object", "properties": {
                     "loans": {"type": "array", "items": {"$ref": "#/components/schemas/Loan"}}}}}}},
         "304": {"description": "Not modified since the ETag sent in If-None-Match"}})},
    "/api/v1/books/{book_id}/borrow": {"post": _op(
        "Borrow a book (the href of the OPDS borrow link); borrowing it again returns the same loan",
        {"201": {"description": "New loan", "content": _json("Loan")},
         "200": {"description": "Already on loan: the existing loan", "content": _json("Loan")}, **LOAN_CHANGE},
        parameters=[BOOK])},
    "/api/v1/books/{book_id}/renew": {"post": _op(
        "Renew a loan: a new loan period from now, within the renewal limit",
        {"200": {"description": "Renewed", "content": _json("Loan")}, **LOAN_CHANGE}, parameters=[BOOK])},
    "/api/v1/books/{book_id}/return": {"post": _op(
        "Return a book early (idempotent)", {"204": {"description": "Not on loan any more"}, "503": CLOSED},
        parameters=[BOOK])},
    "/api/v1/books/{book_id}/manifest": {"get": _op(
        "Readium Web Publication Manifest, audiobook profile (application/audiobook+json); the loan's until "
        "is in links[rel=self].properties.availability",
        {"200": {"description": "Manifest", "content": {"application/audiobook+json": {"schema": {"type": "object"}}}},
         "403": openapi.problem_response("Not on loan to this patron")}, parameters=[BOOK])},
    "/api/v1/books/{book_id}/tracks/{number}": {"get": _op(
        "Download or stream a track; supports Range (206, Content-Range; 416 when unsatisfiable). With "
        "KUULO_LENDING_TRACK_DELIVERY=redirect and S3 storage: 302 to a short-lived presigned URL",
        {"200": {"description": "The whole track"}, "206": {"description": "The requested byte range"},
         "302": {"description": "Presigned URL (S3, redirect mode)"},
         "403": openapi.problem_response("Not on loan to this patron"),
         "416": openapi.problem_response("Range not satisfiable (Content-Range: bytes */size)")},
        parameters=[BOOK, {"name": "number", "in": "path", "required": True, "schema": {"type": "integer"}},
                    {"name": "Range", "in": "header", "required": False, "schema": {"type": "string"}}])},
    "/api/v1/books/{book_id}/position": {
        "get": _op("The listening position (kept across loans)",
                   {"200": {"description": "Position or null", "content": {"application/json": {"schema": {
                       "type": "object", "properties": {"position": {"$ref": "#/components/schemas/Position"}}}}}}},
                   parameters=[BOOK]),
        "put": _op("Save the listening position; the latest recorded_at wins (the answer is the position that holds)",
                   {"200": {"description": "The winning position; accepted=false when a newer one was kept"},
                    "422": openapi.problem_response("Invalid track, offset or recorded_at")},
                   parameters=[BOOK], requestBody={"required": True, "content": {"application/json": {"schema": {
                       "type": "object", "required": ["track", "offset"], "properties": {
                           "track": {"type": "integer"}, "offset": {"type": "number"},
                           "recorded_at": {"type": "string", "format": "date-time"},
                           "device": {"type": "string"}}}}}})},
}

SCHEMAS: dict[str, Any] = {
    "Loan": {"type": "object", "required": ["id", "until", "manifest_url", "book"], "properties": {
        "id": {"type": "integer"}, "since": {"type": "string", "format": "date-time"},
        "until": {"type": "string", "format": "date-time", "description": "The loan ends by itself then"},
        "renewals": {"type": "integer"}, "renewals_left": {"type": "integer"},
        "manifest_url": {"type": "string", "format": "uri"},
        "book": {"type": "object", "properties": {
            "id": {"type": "integer"}, "identifier": {"type": "string"}, "title": {"type": "string"},
            "author": {"type": "string"}, "narrator": {"type": "string"}, "language": {"type": "string"},
            "duration": {"type": "number"}}},
        "links": {"type": "object", "additionalProperties": {"type": "string", "format": "uri"}}}},
    "Position": {"type": ["object", "null"], "properties": {
        "track": {"type": "integer"}, "offset": {"type": "number"},
        "recorded_at": {"type": "string", "format": "date-time"}, "device": {"type": "string"},
        "locator": {"type": "object", "description": "The same position as a Readium Locator"}}},
}


def register() -> None:
    openapi.add_paths(PATHS, SCHEMAS)
