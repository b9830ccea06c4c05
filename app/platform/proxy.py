"""Behind reverse proxies: the client's address, scheme and host from the X-Forwarded-* headers that the last
KUULO_PROXY_COUNT proxies (nginx, a load balancer) set — Werkzeug's ProxyFix; none trusted by default."""
from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask) -> None:
    """Trust X-Forwarded-For, -Proto and -Host from PROXY_COUNT hops. Each hop appends its peer to
    X-Forwarded-For, so the address PROXY_COUNT places from the right is the one the first trusted proxy saw;
    anything a client wrote further left is ignored. -Proto and -Host must be set (overwritten) by the proxy
    next to Kuulo, or a client could choose them. -Port and -Prefix are never trusted."""
    hops = int(app.config.get("PROXY_COUNT") or 0)
    if hops < 0:
        raise ValueError("KUULO_PROXY_COUNT must be 0 (no proxy) or the number of proxies in front of Kuulo")
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
