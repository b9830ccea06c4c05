"""Helpers shared by the HTML pages and the JSON API: settings, uploads, the submit transaction."""
from __future__ import annotations

from typing import Any

from flask import current_app
from werkzeug.datastructures import FileStorage

from app import clock, db, storage
from app.errors import DomainError
from app.i18n import current_language, format_moment
from app.institutions import documents, service, texts, validation
from app.institutions.documents import InvalidDocument, StoredUploads, Upload


def settings() -> service.Settings:
    c = current_app.config
    return service.Settings(
        base_url=c["BASE_URL"].rstrip("/"), identity_key=c["IDENTITY_HASH_KEY"],
        claim_minutes=int(c.get("INSTITUTIONS_CLAIM_MINUTES", 120)),
        credentials_link_hours=int(c.get("INSTITUTIONS_CREDENTIALS_LINK_HOURS", 168)),
        target_business_days=int(c.get("INSTITUTIONS_TARGET_BUSINESS_DAYS", 2)))


def max_document_bytes() -> int:
    return int(current_app.config.get("INSTITUTIONS_DOCUMENT_MAX_BYTES", documents.DEFAULT_MAX_BYTES))


def read_upload(file: FileStorage | None) -> Upload | None:
    """The checked upload, or None when no file was chosen. Raises InvalidDocument."""
    if file is None or not file.filename:
        return None
    limit = max_document_bytes()
    return documents.check_upload(file.filename, documents.read_limited(file.stream, limit), limit)


def submit(raw: dict[str, Any], file: FileStorage | None) -> service.Submission:
    """Check everything, then save and commit; a stored document is removed again if saving fails.

    Raises InvalidApplication with every field's problem at once (nothing saved or stored).
    """
    errors: dict[str, list[str]] = {}
    data = document = None
    try:
        data = validation.parse_application(raw)
    except validation.InvalidApplication as invalid:
        errors.update(invalid.errors)
    try:
        document = read_upload(file)
    except InvalidDocument as bad:
        errors["document"] = [bad.code]
    if errors or data is None:
        raise validation.InvalidApplication(errors)
    session = db.session()
    uploads = StoredUploads(storage.store())
    with uploads.kept_only_on_success():
        result = service.submit_application(session, data, settings=settings(), language=_language(raw),
                                            now=clock.now(), document=document, uploads=uploads)
        session.commit()
    return result


def _language(raw: dict[str, Any]) -> str:
    """The applicant's language for emails: the API's optional ``language``, else the page's language."""
    chosen = raw.get("language")
    return chosen if chosen in current_app.config["LANGUAGES"] else current_language()


def conflict_text(err: DomainError) -> str:
    """A DomainError from a queue action, in words."""
    if err.code == "claimed-by-other":
        until = err.params.get("claimed_until")
        when = format_moment(_parse(until)) if until else ""
        return str(texts.CONFLICTS["claimed-by-other"] % {"name": err.params.get("claimed_by", ""), "until": when})
    if err.code == "already-decided":
        state = texts.STATE_LABELS.get(err.params.get("state", ""), "")
        return f"{texts.CONFLICTS['already-decided']} ({state})"
    return str(texts.CONFLICTS.get(err.code, err.code))


def _parse(value: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(value)
