"""The CD club paths and schemas of the OpenAPI document (served at /api/openapi.json)."""
from __future__ import annotations

from typing import Any

from app import openapi

TAG_APP, TAG_SYSTEMS = "reader app", "library systems"


def _json(ref: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def _ok(description: str, ref: str) -> dict[str, Any]:
    return {"description": description, **_json(ref)}


ERRORS = {"401": openapi.problem_response("No or invalid token"),
          "404": openapi.problem_response("No such club or membership"),
          "409": openapi.problem_response("Refused in this state (already a member, not paused …)"),
          "422": openapi.problem_response("Field errors (`errors[].field`, e.g. `address.postal_code`)"),
          "503": openapi.problem_response("The CD club service is closed by a maintenance window that names it")}
ID = {"name": "member_id", "in": "path", "required": True, "schema": {"type": "integer"}}
CLUB = {"name": "club_id", "in": "path", "required": True, "schema": {"type": "integer"}}
CARD = {"name": "card_number", "in": "path", "required": True, "schema": {"type": "string"}}
PATRON_SECURITY = [{"bearer": []}]

SCHEMAS: dict[str, Any] = {
    "ClubPeriod": {"type": "object", "properties": {
        "period": {"type": "string", "description": "YYYY-MM, the month of delivery"},
        "production_start": {"type": "string", "format": "date", "description": "cut-off: members are frozen"},
        "delivery_date": {"type": "string", "format": "date"}}},
    "Club": {"type": "object", "properties": {
        "id": {"type": "integer"}, "code": {"type": "string"},
        "name": {"type": "string", "description": "in the request's language (Accept-Language or ?lang=)"},
        "description": {"type": "string"},
        "names": {"type": "object", "properties": {k: {"type": "string"} for k in ("fi", "sv", "en")}},
        "descriptions": {"type": "object", "properties": {k: {"type": "string"} for k in ("fi", "sv", "en")}},
        "books_per_period": {"type": "integer", "maximum": 5}, "disc_cap": {"type": "integer"},
        "delivery_format": {"type": "string", "enum": ["cd", "online"]},
        "accepts_members": {"type": "boolean"},
        "upcoming_periods": {"type": "array", "items": {"$ref": "#/components/schemas/ClubPeriod"}},
        "first_delivery_if_joining_now": {"$ref": "#/components/schemas/ClubPeriod"}}},
    "ClubAddress": {"type": "object", "description": "Postal address for the CDs; required for CD clubs",
                    "properties": {"recipient_name": {"type": "string"}, "street_address": {"type": "string"},
                                   "address_extra": {"type": "string", "description": "c/o line"},
                                   "postal_code": {"type": "string"}, "city": {"type": "string"},
                                   "country": {"type": "string", "description": "ISO 3166-1 alpha-2, default FI"}}},
    "ClubMembership": {"type": "object", "properties": {
        "id": {"type": "integer"},
        "club": {"type": "object", "properties": {"id": {"type": "integer"}, "code": {"type": "string"},
                                                  "name": {"type": "string"}}},
        "card_number": {"type": "string", "description": "library-system answers only"},
        "status": {"type": "string", "enum": ["active", "paused", "left"]},
        "joined_at": {"type": "string", "format": "date-time"},
        "first_period": {"type": "string"},
        "next_delivery": {"type": ["object", "null"], "properties": {
            "period": {"type": "string"}, "delivery_date": {"type": "string", "format": "date"}}},
        "still_receiving": {"type": "array", "description": "runs frozen before pausing/leaving that still come",
                            "items": {"type": "object"}},
        "address": {"$ref": "#/components/schemas/ClubAddress"}}},
    "ClubMembershipChange": {"type": "object", "properties": {
        "status": {"type": "string", "enum": ["active", "paused"]},
        "address": {"$ref": "#/components/schemas/ClubAddress"}}},
}


def _body(ref: str) -> dict[str, Any]:
    return {"required": True, **_json(ref)}


def register() -> None:
    list_schema = {"type": "object", "properties": {"clubs": {"type": "array",
                                                              "items": {"$ref": "#/components/schemas/Club"}}}}
    memberships = {"type": "object", "properties": {"memberships": {
        "type": "array", "items": {"$ref": "#/components/schemas/ClubMembership"}}}}
    members = {"type": "object", "properties": {"members": {
        "type": "array", "items": {"$ref": "#/components/schemas/ClubMembership"}}}}
    SCHEMAS.update({"ClubList": list_schema, "ClubMembershipList": memberships, "ClubMemberList": members,
                    "ClubJoin": {"type": "object", "required": ["club_id"], "properties": {
                        "club_id": {"type": "integer"}, "address": {"$ref": "#/components/schemas/ClubAddress"}}},
                    "ClubMemberAdd": {"type": "object", "required": ["card_number"], "properties": {
                        "card_number": {"type": "string"},
                        "address": {"$ref": "#/components/schemas/ClubAddress"}}}})
    staff = {"tags": [TAG_SYSTEMS], "security": [{"bearer": []}], "parameters": [CLUB, CARD]}
    openapi.add_paths({
        "/api/v1/clubs": {"get": {"summary": "CD book clubs, with their next periods (no login needed)",
                                  "tags": ["clubs"], "security": [],
                                  "responses": {"200": _ok("The clubs that take members", "ClubList")}}},
        "/api/v1/clubs/{club_id}": {"get": {"summary": "One club", "tags": ["clubs"], "security": [],
                                            "parameters": [CLUB],
                                            "responses": {"200": _ok("The club", "Club"), "404": ERRORS["404"]}}},
        "/api/v1/club-memberships": {
            "get": {"summary": "The patron's club memberships", "tags": [TAG_APP], "security": PATRON_SECURITY,
                    "responses": {"200": _ok("Memberships", "ClubMembershipList"), "401": ERRORS["401"]}},
            "post": {"summary": "Join a club (the first books come in the first period cut off after today)",
                     "tags": [TAG_APP], "security": PATRON_SECURITY, "requestBody": _body("ClubJoin"),
                     "responses": {"201": _ok("Joined", "ClubMembership"), **ERRORS}}},
        "/api/v1/club-memberships/{member_id}": {
            "get": {"summary": "One membership", "tags": [TAG_APP], "security": PATRON_SECURITY,
                    "parameters": [ID], "responses": {"200": _ok("Membership", "ClubMembership"), **ERRORS}},
            "patch": {"summary": "Pause, resume, or change the postal address", "tags": [TAG_APP],
                      "security": PATRON_SECURITY, "parameters": [ID], "requestBody": _body("ClubMembershipChange"),
                      "responses": {"200": _ok("Changed", "ClubMembership"), **ERRORS}},
            "delete": {"summary": "Leave the club (runs already frozen still come: see still_receiving)",
                       "tags": [TAG_APP], "security": PATRON_SECURITY, "parameters": [ID],
                       "responses": {"200": _ok("Left", "ClubMembership"), **ERRORS}}},
        "/api/v1/clubs/{club_id}/members": {
            "get": {"summary": "A club's members (librarian or producer token)", "tags": [TAG_SYSTEMS],
                    "security": [{"bearer": []}], "parameters": [CLUB,
                                                                 {"name": "status", "in": "query",
                                                                  "schema": {"type": "string",
                                                                             "enum": ["active", "paused", "left"]}}],
                    "responses": {"200": _ok("Members", "ClubMemberList"), **ERRORS}},
            "post": {"summary": "Join a patron to the club", "tags": [TAG_SYSTEMS], "security": [{"bearer": []}],
                     "parameters": [CLUB], "requestBody": _body("ClubMemberAdd"),
                     "responses": {"201": _ok("Joined", "ClubMembership"), **ERRORS}}},
        "/api/v1/clubs/{club_id}/members/{card_number}": {
            "get": {"summary": "A patron's membership", **staff,
                    "responses": {"200": _ok("Membership", "ClubMembership"), **ERRORS}},
            "patch": {"summary": "Pause, resume, or change the address", **staff,
                      "requestBody": _body("ClubMembershipChange"),
                      "responses": {"200": _ok("Changed", "ClubMembership"), **ERRORS}},
            "delete": {"summary": "End the membership", **staff,
                       "responses": {"200": _ok("Left", "ClubMembership"), **ERRORS}}},
    }, SCHEMAS)
