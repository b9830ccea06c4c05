"""The OpenAPI 3.1 description served at /api/openapi.json, assembled from each domain's paths."""
from __future__ import annotations

from typing import Any

PATHS: dict[str, dict[str, Any]] = {}
SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details",
        "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                       "detail": {"type": "string"}, "instance": {"type": "string"},
                       "errors": {"type": "array", "items": {"type": "object"}}},
    },
}


def add_paths(paths: dict[str, dict[str, Any]], schemas: dict[str, Any] | None = None) -> None:
    for path, ops in paths.items():
        PATHS.setdefault(path, {}).update(ops)
    SCHEMAS.update(schemas or {})


def problem_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def document(base_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Kuulo API", "version": "1",
                 "description": "JSON APIs of Kuulo for reader apps and library systems. Errors are "
                                "application/problem+json (RFC 9457) with a stable `type`."},
        "servers": [{"url": base_url}],
        "paths": dict(sorted(PATHS.items())),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "Staff API token (`flask accounts token EMAIL`) or patron device token"},
                "cardPin": {"type": "http", "scheme": "basic", "description": "Library card number and PIN"},
            },
        },
    }
