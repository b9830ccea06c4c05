"""CORS for the routes browser-based reader apps call (web players, Thorium Web, a library's own site).

These routes are authenticated by a bearer token or HTTP Basic in the Authorization header, never by a
cookie, so any origin may call them: a page on another site cannot use a patron's credentials without
having them. Responses say ``Access-Control-Allow-Origin: *`` (no credentials mode) and expose the
headers apps need (ETag for polling, Content-Range for tracks, Retry-After and Link during a break,
WWW-Authenticate on 401). Preflight OPTIONS requests are answered here, before any gate or login check.
"""
from __future__ import annotations

from flask import Blueprint, Response, request

ALLOW_METHODS = "GET, HEAD, POST, PUT, DELETE, OPTIONS"
ALLOW_HEADERS = "Authorization, Content-Type, If-None-Match, Range, Accept, Accept-Language"
EXPOSE_HEADERS = "ETag, Content-Range, Content-Length, Accept-Ranges, Retry-After, Link, WWW-Authenticate, Location"
MAX_AGE = "86400"


def allow_any_origin(bp: Blueprint) -> None:
    """Answer preflights and add the CORS headers on every route of ``bp``."""

    @bp.before_request
    def _preflight() -> Response | None:
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            return Response(status=204, headers={"Access-Control-Allow-Methods": ALLOW_METHODS,
                                                 "Access-Control-Allow-Headers": ALLOW_HEADERS,
                                                 "Access-Control-Max-Age": MAX_AGE})
        return None

    @bp.after_request
    def _headers(resp: Response) -> Response:
        # Always, not only when an Origin header came: the answer is then the same for every origin,
        # and a cache never hands a browser the copy made for a same-origin request.
        resp.headers["Access-Control-Allow-Origin"] = "*"
        resp.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        return resp
