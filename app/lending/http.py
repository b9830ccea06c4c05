"""What the reader-app API, OPDS and the web pages share at the edge: the configured loan policy and JSON
answers with an ETag (cheap polling). The bodies themselves are declared in app/lending/schemas.py."""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

from flask import Response, current_app, request

from app.circulation.policy import Policy
from app.lending import documents, service


def policy() -> Policy:
    """The loan policy preset named by LENDING_POLICY (default "celia")."""
    return service.lending_policy(current_app.config.get("LENDING_POLICY", "celia"))


def json_with_etag(payload: Any, mimetype: str = "application/json") -> Response:
    """200 with a strong ETag over the body, or 304 when the client already has it."""
    return etag_response(*encode(payload), mimetype)


def encode(payload: Any) -> tuple[bytes, str]:
    """The JSON body and its strong ETag."""
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    return body, hashlib.sha256(body).hexdigest()[:32]


def loans_answer(rows: tuple[tuple[Any, ...], ...], max_renewals: int) -> Response:
    """The reader apps' loans list from raw ``LoanView`` rows. Apps poll it, so the encoded answer is
    remembered per exact input — the rows read from the database in this very request, the renewal
    limit and the URL root — and can never be stale: a changed loan or book is a different key."""
    return etag_response(*_encoded_loans(request.scheme, request.host, request.root_path, max_renewals, rows))


@lru_cache(maxsize=1024)  # per process: ≈ 12 kB an entry for 20 loans
def _encoded_loans(_scheme: str, _host: str, _root: str, max_renewals: int,
                   rows: tuple[tuple[Any, ...], ...]) -> tuple[bytes, str]:
    return encode({"loans": [documents.loan_json(service.LoanView.of_row(row), max_renewals) for row in rows]})


def etag_response(body: bytes, etag: str, mimetype: str = "application/json", *, public_seconds: int = 0) -> Response:
    """``body`` with its strong ETag, or 304 when the client has it. Private and revalidated each time (a
    patron's data), unless ``public_seconds``: then anyone may cache it that long (a cover image)."""
    headers = {"ETag": f'"{etag}"', "Cache-Control": "private, no-cache", "Vary": "Authorization"} \
        if not public_seconds else {"ETag": f'"{etag}"', "Cache-Control": f"public, max-age={public_seconds}"}
    if request.if_none_match.contains(etag):
        return Response(status=304, headers=headers)
    return Response(body, mimetype=mimetype, headers=headers)

