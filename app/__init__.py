"""Kuulo: the application factory. Configuration, extensions, blueprints — nothing else."""
from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    from app import (
        cli,
        config,
        core,
        db,
        domains,
        errors,
        gate,
        i18n,
        navigation,
        ratelimit,
        scheduler,
        security,
        storage,
    )
    from app.accounts import api as accounts_api
    from app.accounts import auth
    from app.accounts import views as accounts_views
    from app.notify import channels
    from app.platform import contract, health, identity_key, links, logs, metrics, proxy

    app.config = links.LinkSettings(app.config.root_path, app.config)  # an empty BASE_URL: the request's host
    app.config.from_object(config.DefaultConfig)
    app.config.from_prefixed_env("KUULO")
    if test_config:
        app.config.update(test_config)
    config.check_production_settings(app.config)
    if app.config["DATABASE_URL"].startswith("sqlite:///"):
        _ensure_parent_dir(app.config["DATABASE_URL"].removeprefix("sqlite:///"))
    app.config["SESSION_COOKIE_SECURE"] = bool(app.config["SESSION_COOKIE_SECURE"])

    logs.init_app(app)  # first: the hooks and records after it carry the request id
    metrics.init_app(app)
    channels.init_app(app)
    db.init_app(app)
    identity_key.init_app(app)  # once per process: refuses another KUULO_IDENTITY_HASH_KEY than the database's
    proxy.init_app(app)  # KUULO_PROXY_COUNT: client address, scheme and host from trusted X-Forwarded-*
    storage.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    gate.init_app(app)
    cli.init_app(app)
    navigation.init_app(app)
    contract.install_converters(app)  # before any blueprint: ids beyond the database's range are 404
    contract.init_app(app)
    for blueprint in (core.bp, health.bp, metrics.bp, accounts_views.bp, accounts_api.bp):
        app.register_blueprint(blueprint)
    for blueprint in (accounts_api.bp,):
        security.csrf.exempt(blueprint)  # bearer/basic-authenticated JSON: no cookies, no CSRF
    for domain in domains.installed():
        domain.init_app(app)  # each domain registers its blueprints (JSON ones CSRF-exempt)
    channels.check_sms_gateway(app.config, lambda: _presets_sending_sms(app))  # production: no silent SMS
    scheduler.start_in_process(app)  # KUULO_SCHEDULER_IN_PROCESS: `flask run` in development
    ratelimit.init_app(app)  # last: it wraps view functions the blueprints registered
    return app


def _presets_sending_sms(app: Flask | None = None) -> list[str]:
    """The circulation presets in use (by a library in the database; every preset when ``app`` is None) whose
    notices may go by SMS. None in use when circulation is not installed or its tables cannot be read yet
    (before ``db upgrade``, or the database is down: then it is logged)."""
    try:
        from app.circulation.models import CircLibrary
        from app.circulation.presets import available_presets, load_preset
    except ModuleNotFoundError:
        return []
    names = available_presets()
    if app is not None:
        from sqlalchemy import select
        from sqlalchemy.exc import SQLAlchemyError

        from app import db

        try:
            with db.get_sessionmaker(app)() as session:
                names = sorted(set(session.scalars(select(CircLibrary.preset))) & set(names))
        except SQLAlchemyError:
            app.logger.warning("SMS gateway check: the circulation libraries could not be read; not checked")
            return []
    found = []
    for name in names:
        policy = load_preset(name)
        steps = list(policy.notices) + ([policy.advance_notice] if policy.advance_notice else [])
        if any("sms" in step.channels for step in steps):
            found.append(name)
    return found


def _ensure_parent_dir(path: str) -> None:
    from pathlib import Path

    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
