"""The institution endpoints in the OpenAPI description (/api/openapi.json)."""
from __future__ import annotations

from typing import Any

from app import openapi
from app.institutions.models import INSTITUTION_TYPES, STATES

BASE = "/api/v1/institution-applications"
STAFF = [{"bearer": []}]


def _text(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


SCHEMAS: dict[str, Any] = {
    "InstitutionApplicationInput": {
        "type": "object",
        "required": ["name", "type", "business_id", "street_address", "postal_code", "city", "email", "phone",
                     "responsible_person", "consent"],
        "properties": {
            "name": _text("Name of the institution", maxLength=200),
            "type": {"type": "string", "enum": list(INSTITUTION_TYPES)},
            "business_id": _text("Finnish business ID (Y-tunnus), checked with its check digit", example="7654321-2"),
            "street_address": _text("Street address", maxLength=200),
            "postal_code": _text("Finnish postal code, five digits", pattern="^[0-9]{5}$"),
            "city": _text("Town or city", maxLength=100),
            "email": _text("The institution's email: the follow-up link and the credentials go here", format="email"),
            "phone": _text("The institution's phone number"),
            "responsible_person": {
                "type": "object", "required": ["given_names", "surname", "national_id", "email"],
                "properties": {
                    "given_names": _text("Given names"), "surname": _text("Surname"),
                    "national_id": _text("Finnish personal identity code (henkilötunnus), century signs of 2023 "
                                         "included; must be an adult's. Stored only as a keyed hash and a "
                                         "masked form"),
                    "email": _text("Email address", format="email"),
                    "phone": _text("Phone number (optional)")}},
            "consent": {"type": "boolean", "const": True,
                        "description": "The responsible person's written consent has been given"},
            "language": {"type": "string", "enum": ["fi", "sv", "en"],
                         "description": "Language of the emails to the applicant (default: Accept-Language)"},
        },
    },
    "InstitutionApplicationReceipt": {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "reference": {"type": "string"},
                       "state": {"type": "string", "enum": list(STATES)},
                       "submitted_at": {"type": "string", "format": "date-time"},
                       "created": {"type": "boolean", "description": "false: the same application was already "
                                                                     "waiting; nothing was sent again"}},
    },
    "InstitutionApplication": {
        "type": "object",
        "description": "An application as reviewers see it (identity codes masked).",
        "properties": {
            "id": {"type": "integer"}, "reference": {"type": "string"},
            "state": {"type": "string", "enum": list(STATES)}, "name": {"type": "string"},
            "type": {"type": "string", "enum": list(INSTITUTION_TYPES)}, "business_id": {"type": "string"},
            "submitted_at": {"type": "string", "format": "date-time"},
            "age_business_days": {"type": "integer", "description": "Finnish business days on the clock "
                                                                    "(paused while waiting for the applicant)"},
            "past_target": {"type": "boolean"},
            "claimed_by": {"type": ["object", "null"]},
            "claim_expires_at": {"type": ["string", "null"], "format": "date-time"},
            "decided_at": {"type": ["string", "null"], "format": "date-time"},
            "rejection_reason": {"type": ["string", "null"]},
            "card_number": {"type": ["string", "null"]},
        },
    },
}


def _json(ref: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def _staff_action(summary: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary, "tags": ["institutions"], "security": STAFF,
        "parameters": [{"name": "application_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "The application after the action", **_json("InstitutionApplication")},
                      "401": openapi.problem_response("No valid staff token"),
                      "403": openapi.problem_response("The token's user is not a reviewer"),
                      "404": openapi.problem_response("No such application"),
                      "409": openapi.problem_response("Claimed by another reviewer (claimed_by, claimed_until), "
                                                      "not claimed, or already decided")}}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


def register() -> None:
    approve = _staff_action("Approve: creates the account and sends its credentials once (again: no-op)")
    approve["responses"]["422"] = openapi.problem_response(
        "Refused: the responsible person is not an adult or is under a billing ban (reason)")
    openapi.add_paths({
        BASE: {
            "post": {"summary": "Apply for an institution account (public, no login)", "tags": ["institutions"],
                     "requestBody": {"required": True, **_json("InstitutionApplicationInput")},
                     "responses": {"201": {"description": "Received; the applicant gets an email with a private "
                                                          "link", **_json("InstitutionApplicationReceipt")},
                                   "200": {"description": "The same application was already waiting",
                                           **_json("InstitutionApplicationReceipt")},
                                   "422": openapi.problem_response("Field errors: `errors[].field` names the field "
                                                                   "(e.g. business_id, responsible_person.national_id)"),
                                   "503": openapi.problem_response("Applications are closed for a maintenance "
                                                                   "break (Retry-After)")}},
            "get": {"summary": "The review queue, oldest first", "tags": ["institutions"], "security": STAFF,
                    "parameters": [
                        {"name": "state", "in": "query", "schema": {"enum": ["open", "all", *STATES]}},
                        {"name": "type", "in": "query", "schema": {"enum": list(INSTITUTION_TYPES)}},
                        {"name": "age", "in": "query", "schema": {"enum": ["within_target", "past_target"]}}],
                    "responses": {"200": {"description": "{applications: [...]}"},
                                  "401": openapi.problem_response("No valid staff token")}},
        },
        BASE + "/figures": {"get": {"summary": "Throughput: received, decided, median and 90th percentile "
                                               "processing time in business days, past target now",
                                    "tags": ["institutions"], "security": STAFF,
                                    "parameters": [{"name": "days", "in": "query", "schema": {"type": "integer"}}],
                                    "responses": {"200": {"description": "Figures"}}}},
        BASE + "/{application_id}": {"get": _staff_action("One application with duplicates, checks and messages")},
        BASE + "/{application_id}/claim": {"post": _staff_action("Claim for review (the claim expires)")},
        BASE + "/{application_id}/release": {"post": _staff_action("Give the claim back")},
        BASE + "/{application_id}/request-information": {"post": _staff_action(
            "Ask the applicant for information (pauses the clock)",
            {"type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}})},
        BASE + "/{application_id}/approve": {"post": approve},
        BASE + "/{application_id}/reject": {"post": _staff_action(
            "Reject with a reason, which is sent to the applicant",
            {"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}})},
    }, SCHEMAS)
