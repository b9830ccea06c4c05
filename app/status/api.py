"""/api/v2/*.json: the status in the shape of Statuspage's public API (see statuspage.py).

Open during any closure and answered from the snapshot when the database is down.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint

from app import gate, openapi
from app.errors import problem
from app.status import rendering, statuspage
from app.status.serving import serve

bp = Blueprint("status_api", __name__)

_LISTS = {"summary": "page, components, unresolved incidents, upcoming and active maintenances, status",
          "status": "page and the roll-up status (indicator none/minor/major/critical)",
          "components": "page and every component with its status",
          "incidents": "the 50 most recent incidents", "incidents/unresolved": "incidents not yet resolved",
          "scheduled-maintenances": "the 50 most recent maintenance windows",
          "scheduled-maintenances/upcoming": "windows still scheduled",
          "scheduled-maintenances/active": "windows in progress or verifying"}
openapi.add_paths({f"/api/v2/{endpoint}.json": {"get": {
    "summary": f"Status page (Statuspage v2 shape): {what}", "tags": ["status"], "security": [],
    "parameters": [{"name": "lang", "in": "query", "required": False,
                    "schema": {"type": "string", "enum": ["fi", "sv", "en"]}}],
    "responses": {"200": {"description": "The document, in the shape of Atlassian Statuspage's public API v2",
                          "content": {"application/json": {"schema": {"type": "object"}}}}}}}
    for endpoint, what in _LISTS.items()})


@bp.get("/api/v2/<path:endpoint>.json")
@gate.always_open
def document(endpoint: str) -> Any:
    if endpoint not in statuspage.ENDPOINTS:
        return problem(404, "not-found")
    return serve(rendering.api_key(endpoint))
