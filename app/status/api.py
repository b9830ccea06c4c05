"""/api/v2/*.json: the status in the shape of Statuspage's public API (see statuspage.py).

Open during any closure and answered from the snapshot when the database is down.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint

from app import gate
from app.platform.contract import operation
from app.status import rendering, statuspage
from app.status.schemas import StatusDocument, StatusQuery
from app.status.serving import serve

bp = Blueprint("status_api", __name__)

_LISTS = {"summary": "page, components, unresolved incidents, upcoming and active maintenances, status",
          "status": "page and the roll-up status (indicator none/minor/major/critical)",
          "components": "page and every component with its status",
          "incidents": "the 50 most recent incidents", "incidents/unresolved": "incidents not yet resolved",
          "scheduled-maintenances": "the 50 most recent maintenance windows",
          "scheduled-maintenances/upcoming": "windows still scheduled",
          "scheduled-maintenances/active": "windows in progress or verifying"}


def _view(endpoint: str) -> Any:
    def answer(query: StatusQuery) -> Any:
        return serve(rendering.api_key(endpoint))

    answer.__name__ = "document_" + endpoint.replace("/", "_").replace("-", "_")
    return operation(f"Status page (Statuspage v2 shape): {_LISTS[endpoint]}", tags=["status"],
                     query=StatusQuery,
                     responses={200: (StatusDocument, "The document, in the shape of Atlassian Statuspage's "
                                                      "public API v2 (answered from a snapshot while the "
                                                      "database is down)")})(gate.always_open(answer))


assert tuple(_LISTS) == statuspage.ENDPOINTS  # every endpoint the renderer makes has its route
for _endpoint in _LISTS:
    bp.add_url_rule(f"/api/v2/{_endpoint}.json", view_func=_view(_endpoint), methods=["GET"])
