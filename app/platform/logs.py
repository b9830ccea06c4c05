"""Logs: one line per record, text or JSON (KUULO_LOG_FORMAT), each carrying its request's id.

Every request has an id: the client's ``X-Request-ID`` when it is sane (1–128 characters of
``REQUEST_ID_CHARACTERS``), echoed unchanged, or a new random one; the response names it in
``X-Request-ID`` and every log record made during the request carries it as ``request_id``. The access
log (gunicorn, ``GunicornJsonLogger``; the development server) shows paths, never query strings, and no
client addresses. Exception texts come from ``app.log_privacy`` in both formats.
"""
from __future__ import annotations

import inspect
import logging
import re
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request
from flask.logging import default_handler
from gunicorn.glogging import Logger as GunicornLogger
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from app import log_privacy
from app.config import is_production

HEADER = "X-Request-ID"
REQUEST_ID_CHARACTERS = "letters, digits and . _ : = + / -"
_SANE = re.compile(r"[A-Za-z0-9._:=+/-]{1,128}")
_INSTALLED = "kuulo_request_id"
_TEXT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
_JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"
_RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}
OWN_LOGGERS = ("app", "kuulo")


def sane_request_id(value: str | None) -> str | None:
    """``value`` when it may be echoed and logged as it is: bounded, and no character that could forge a
    header or a log line."""
    return value if value and _SANE.fullmatch(value) else None


def current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def _iso_time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class JsonFormatter(_JsonFormatter):
    """One JSON object per record: time, level, logger, message, request_id (null outside a request),
    exc_info (without personal data), and any ``extra`` fields."""

    def __init__(self) -> None:
        super().__init__(_JSON_FIELDS, rename_fields=_RENAMED, json_ensure_ascii=False)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return _iso_time(record)

    def formatException(self, ei: Any) -> str:  # noqa: N802  (python-json-logger ignores record.exc_text)
        return log_privacy.exception_text(ei)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(_TEXT)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return _iso_time(record)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = "-"
        return super().format(record)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (as logging's last resort does), so a process that
    swaps its stderr — a test's capture — still gets the lines."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def log_format(config: Any) -> str:
    name = str(config.get("LOG_FORMAT") or "").strip().lower() or ("json" if is_production(config) else "text")
    if name not in ("json", "text"):
        raise ValueError(f"KUULO_LOG_FORMAT must be json or text, not {name!r}")
    return name


def formatter(name: str) -> logging.Formatter:
    return JsonFormatter() if name == "json" else TextFormatter()


def install_request_ids() -> None:
    """Wrap the process's log record factory (once): records made during a request get ``request_id``.
    ``log_privacy``'s factory goes in first; the wrapper keeps its mark, so it is not installed twice."""
    log_privacy.install()
    current = logging.getLogRecordFactory()
    if getattr(current, _INSTALLED, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        request_id = current_request_id()
        if request_id is not None:
            record.request_id = request_id
        return record

    if inspect.isfunction(current):
        factory.__dict__.update(current.__dict__)
    setattr(factory, _INSTALLED, True)
    logging.setLogRecordFactory(factory)


class PathsOnly(logging.Filter):
    """The development server's access lines ("GET /path?query HTTP/1.1") without the query string."""

    _REQUEST_LINE = re.compile(r"^(\S+ [^?\s]*)\?\S*( HTTP/\S+)$")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args and isinstance(record.args[0], str):
            record.args = (self._REQUEST_LINE.sub(r"\1\2", record.args[0]), *record.args[1:])
        return True


def configure(config: Any) -> logging.Handler:
    """One handler on the root logger (replacing the one an earlier app in this process installed), in the
    configured format; Flask's own handler goes, so the app's records are written once. The development
    server's access lines keep their own level (werkzeug sets INFO) and lose their query strings."""
    handler = _StderrHandler()
    handler.setFormatter(formatter(log_format(config)))
    handler.kuulo = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "kuulo", False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    # Libraries speak up when something is wrong; Kuulo's own loggers (Flask's "app", "kuulo.*") at LOG_LEVEL.
    root.setLevel(logging.WARNING)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(str(config.get("LOG_LEVEL") or "INFO").upper())
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, PathsOnly) for f in werkzeug.filters):
        werkzeug.addFilter(PathsOnly())
    return handler


def init_app(app: Flask) -> None:
    install_request_ids()
    configure(app.config)
    app.logger.removeHandler(default_handler)

    def _take_request_id() -> None:
        g.request_id = sane_request_id(request.headers.get(HEADER)) or uuid.uuid4().hex

    # First of all before-request hooks: a request the gate or a failing loader answers has its id too.
    app.before_request_funcs.setdefault(None, []).insert(0, _take_request_id)

    @app.after_request
    def _name_request_id(resp: Response) -> Response:
        if "request_id" in g:
            resp.headers[HEADER] = g.request_id
        return resp


class GunicornJsonLogger(GunicornLogger):
    """gunicorn's logger (``logger_class`` in gunicorn.conf.py) writing JSON: its error log in the app's
    format, and an access line per request with method, path (no query string), status, bytes, duration
    and the request id the app answered with — no client address, referrer or user agent."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers + self.access_log.handlers:
            handler.setFormatter(JsonFormatter())

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.access_log.handlers:
            return  # no access log configured
        status = str(getattr(resp, "status", "") or "").split(" ", 1)[0]
        headers = {str(k).lower(): v for k, v in (getattr(resp, "headers", None) or [])}
        duration_ms = round(request_time.total_seconds() * 1000, 1)
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "")
        fields = dict(method=method, path=path, status=int(status) if status.isdigit() else status,
                      bytes=getattr(resp, "sent", None), duration_ms=duration_ms,
                      request_id=sane_request_id(headers.get(HEADER.lower())))
        # Built by hand: ``extra`` may not name an attribute that the record factory already set.
        record = self.access_log.makeRecord(self.access_log.name, logging.INFO, __file__, 0, "%s %s %s",
                                            (method, path, status), None)
        record.__dict__.update(fields)
        try:
            self.access_log.handle(record)
        except Exception:  # gunicorn's own access() never lets a log line fail a request
            self.error_log.exception("access log line failed")
