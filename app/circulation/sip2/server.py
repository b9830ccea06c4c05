"""The SIP2 TCP server: asyncio for many idle connections, a thread pool for the database work.

Each connection is one terminal session; its messages are answered in order, each in one database
transaction in a worker thread. Nothing a terminal sends crashes the server or hangs the connection:
a malformed message is answered with 96, an oversized one too (and the rest of it skipped), a request
before login other than 93/99 is logged and ignored, and an idle connection is closed. Log lines name the
terminal and the message code, never a card number, PIN or name.
"""
from __future__ import annotations

import asyncio
import logging
import signal
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from datetime import timedelta
from typing import Any

from flask import Flask
from flask_babel import force_locale

from app import clock, gate
from app.accounts.throttle import ThrottlePolicy
from app.circulation import service_selfservice as selfservice
from app.circulation.sip2 import dispatch, protocol
from app.circulation.sip2.handlers import Context, TerminalState

log = logging.getLogger("kuulo.sip2")
BEFORE_LOGIN = ("93", "99")
WRITE_LOCK = "kuulo.sip2_write_lock"


def throttle_policy(app: Flask) -> ThrottlePolicy:
    c = app.config  # the web's own lockout settings: the same card locks the same way everywhere
    return ThrottlePolicy(c["LOGIN_MAX_FAILURES"], timedelta(minutes=c["LOGIN_FAILURE_WINDOW_MINUTES"]),
                          timedelta(minutes=c["LOGIN_LOCKOUT_MINUTES"]))


def process(app: Flask, state: TerminalState, text: str) -> str | None:
    """The answer to one request (without the terminator), or None when it is not to be answered."""
    try:
        msg = protocol.parse(text, charset=state.charset)
    except protocol.MalformedMessage as exc:
        log.info("sip2: malformed message from terminal %s (%s)", state.name or "-", exc)
        return "96"
    if msg.code == "97":
        return state.last_response or "96"
    if not state.logged_in and msg.code not in BEFORE_LOGIN:
        log.info("sip2: message %s before login ignored", msg.code)
        return None
    # An administrator's disabling of a terminal is seen within this many seconds by its open session.
    recheck = float(app.config.get("SIP2_TERMINAL_RECHECK_SECONDS", 10))
    with app.app_context():
        now = clock.now()
        try:
            # Before the transaction: on SQLite the status provider's session would wait for this one's lock.
            closed = gate.closure_for("self_service", now, state.language) is not None
            reads = dispatch.reads_only(msg)
            factory = app.extensions["kuulo.read_sessionmaker" if reads else "kuulo.sessionmaker"]
            # SQLite has one writer at a time and makes the others poll (sleeping up to 100 ms a try, unfairly):
            # under load that gave multi-second tails and lock timeouts. The server's own writers queue on a
            # lock instead and start the moment the previous one commits. PostgreSQL: no such lock.
            serial = app.extensions.get(WRITE_LOCK) if not reads else None
            with serial or nullcontext(), force_locale(state.language), factory.begin() as session:
                if state.logged_in and time.monotonic() - state.checked_at >= recheck:
                    if selfservice.terminal_active(session, state.terminal_id or 0):
                        state.checked_at = time.monotonic()
                    else:
                        log.info("sip2: terminal %s was disabled; its session is answered no more", state.name)
                        state.log_out()  # only 93/99 are answered now
                        if msg.code not in BEFORE_LOGIN:
                            return None
                ctx = Context(session, now, throttle_policy(app), closed)
                answer = dispatch.answer(ctx, state, msg)
        except Exception as exc:  # noqa: BLE001 — one bad message must not end the session or the server
            log.error("sip2: message %s from terminal %s failed: %s", msg.code, state.name or "-",
                      type(exc).__name__)
            return "96"
    response = protocol.trail(answer, msg.sequence, state.charset)
    state.last_response = response
    return response


class Sip2Server:
    """``await start()`` binds and returns the port; ``serve_forever`` until ``stop``."""

    def __init__(self, app: Flask, host: str, port: int, *, ssl_context: ssl.SSLContext | None = None,
                 idle_timeout: float | None = None, workers: int | None = None) -> None:
        self.app, self.host, self.port, self.ssl_context = app, host, port, ssl_context
        self.idle_timeout = float(idle_timeout or app.config.get("SIP2_IDLE_TIMEOUT_SECONDS", 300))
        self.executor = ThreadPoolExecutor(max_workers=int(workers or app.config.get("SIP2_WORKERS", 8)),
                                           thread_name_prefix="sip2")
        if app.extensions["kuulo.engine"].dialect.name == "sqlite":
            app.extensions.setdefault(WRITE_LOCK, threading.Lock())
        self.server: asyncio.base_events.Server | None = None
        self.sessions: set[asyncio.Task[Any]] = set()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._connection, self.host, self.port, ssl=self.ssl_context,
                                                 limit=protocol.MAX_MESSAGE_BYTES)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        # Open sessions end now; a message already in a worker thread still finishes its transaction (the
        # executor is shut down with wait=True), so a stop never leaves one half done.
        for task in list(self.sessions):
            task.cancel()
        await asyncio.gather(*self.sessions, return_exceptions=True)
        self.executor.shutdown(wait=True)

    async def _read(self, reader: asyncio.StreamReader) -> bytes | None:
        """One message up to ``\\r``; None at end of stream or idle timeout; b"" for an oversized one."""
        # asyncio.timeout, not wait_for: no extra task per message.
        try:
            async with asyncio.timeout(self.idle_timeout):
                return await reader.readuntil(b"\r")
        except asyncio.LimitOverrunError as exc:
            await reader.readexactly(exc.consumed)  # drop what was read; the rest up to \r next time round
            while True:
                try:
                    async with asyncio.timeout(self.idle_timeout):
                        await reader.readuntil(b"\r")
                    return b""
                except asyncio.LimitOverrunError as more:
                    await reader.readexactly(more.consumed)
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError, ssl.SSLError):
            return None

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state = TerminalState()
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        if task is not None:
            self.sessions.add(task)
            task.add_done_callback(self.sessions.discard)
        try:
            while True:
                try:
                    raw = await self._read(reader)
                except (asyncio.IncompleteReadError, TimeoutError, ConnectionError, ssl.SSLError):
                    raw = None
                if raw is None:
                    break
                if raw == b"":
                    log.info("sip2: oversized message from terminal %s", state.name or "-")
                    response: str | None = "96"
                else:
                    text = protocol.decode(raw, state.charset).lstrip("\n")
                    if not text.strip():
                        continue
                    response = await loop.run_in_executor(self.executor, process, self.app, state, text)
                if response is not None:
                    writer.write(protocol.encode(response, state.charset))
                    await writer.drain()
                if response is not None and response.startswith("36"):
                    break
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, ssl.SSLError):
                pass


def tls_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    if not cert and not key:
        return None
    if not cert or not key:
        raise ValueError("TLS needs both --tls-cert and --tls-key")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def serve(app: Flask, host: str, port: int, ssl_context: ssl.SSLContext | None = None) -> None:
    """Run until SIGTERM or SIGINT; messages in progress are answered before the process ends."""
    async def main() -> None:
        server = Sip2Server(app, host, port, ssl_context=ssl_context)
        bound = await server.start()
        log.info("sip2: listening on %s:%s%s", host, bound, " (TLS)" if ssl_context else "")
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        await stopping.wait()
        await server.stop()

    asyncio.run(main())


class BackgroundServer:
    """The server on its own event loop in a daemon thread (tests, benchmarks)."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", **options: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = Sip2Server(app, host, 0, **options)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="sip2-loop")
        self.port = 0

    def __enter__(self) -> BackgroundServer:
        self.thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)
        return self

    def __exit__(self, *exc: Any) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
