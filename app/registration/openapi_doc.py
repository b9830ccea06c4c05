"""The OpenAPI description of POST /api/v1/registrations (served at /api/openapi.json)."""
from __future__ import annotations

from app import openapi
from app.registration.models import ELIGIBILITY_BASES, FORMATS, LANGUAGES

TEXT = {"type": "string"}
REQUEST = {
    "type": "object",
    "required": ["given_names", "surname", "national_id", "email", "street_address", "postal_code", "city",
                 "language", "eligibility_basis"],
    "properties": {
        "given_names": {**TEXT, "maxLength": 100},
        "surname": {**TEXT, "maxLength": 100},
        "national_id": {**TEXT, "description": "Finnish personal identity code (henkilötunnus), checked with its "
                        "check character; the 2023 century signs A–F and U–Y are accepted and kept as given. "
                        "Temporary codes (individual number 900–999) are refused. Never returned."},
        "email": {**TEXT, "format": "email", "description": "The credentials (card number and a one-time link "
                  "to set a PIN) are emailed here once."},
        "phone": TEXT,
        "street_address": {**TEXT, "maxLength": 200},
        "postal_code": {**TEXT, "pattern": "^[0-9]{5}$"},
        "city": {**TEXT, "maxLength": 100},
        "language": {"type": "string", "enum": list(LANGUAGES)},
        "eligibility_basis": {"type": "string", "enum": list(ELIGIBILITY_BASES)},
        "eligibility_note": {**TEXT, "maxLength": 500},
        "preferred_formats": {"type": "array", "items": {"type": "string", "enum": list(FORMATS)}},
        "guardian_name": {**TEXT, "description": "Required when the patron is under 15 (age from the code)."},
        "guardian_contact": {**TEXT, "description": "Guardian's phone or email; required under 15."},
        "guardian_consent": {"type": "boolean", "description": "Must be true when the patron is under 15."},
    },
}
RESULT = {
    "type": "object",
    "required": ["patron_id", "card_number", "created", "registered_at", "registered_by_library"],
    "properties": {
        "patron_id": {"type": "integer"},
        "card_number": TEXT,
        "created": {"type": "boolean", "description": "false: this identity code was already registered; the "
                    "existing patron is returned and no second credentials email is sent."},
        "registered_at": {"type": "string", "format": "date-time"},
        "registered_by_library": TEXT,
    },
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 257},
    "description": "draft-ietf-httpapi-idempotency-key-header: a Structured Field string such as "
                   "\"8e03978e-40d5-43e8-bc93-6894a57f9324\" (a UUID is recommended). Keys are per staff user and "
                   "kept at least 24 hours. Same key and same body: the stored response is replayed (same status "
                   "and body). Same key, different body: 422. Same key while the first request runs: 409.",
}


def describe() -> None:
    openapi.add_paths({"/api/v1/registrations": {"post": {
        "summary": "Register a patron (remote registration by a librarian of a member library)",
        "description": "Registers a person once. An identity code already registered is an answer, not an "
                       "error: 200 with created=false and the existing patron. Concurrent identical requests "
                       "create exactly one patron.",
        "tags": ["registration"],
        "security": [{"bearer": []}],
        "parameters": [IDEMPOTENCY_KEY],
        "requestBody": {"required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RegistrationRequest"}}}},
        "responses": {
            "201": {"description": "Registered; credentials are emailed once",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RegistrationResult"}}}},
            "200": {"description": "Already registered (created=false): the existing patron",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RegistrationResult"}}}},
            "400": openapi.problem_response("Not a JSON object, or a malformed Idempotency-Key"),
            "401": openapi.problem_response("No valid staff bearer token"),
            "403": openapi.problem_response("Not a librarian, or the staff account belongs to no library"),
            "409": openapi.problem_response("A request with this Idempotency-Key is still running"),
            "422": openapi.problem_response("Field errors (`errors`: field and message), or an Idempotency-Key "
                                            "reused with another body"),
            "503": openapi.problem_response("Registration is closed for maintenance (Retry-After)"),
        },
    }}}, {"RegistrationRequest": REQUEST, "RegistrationResult": RESULT})
