"""What the desk's back-office pages (items, calendars, letters, reports) share: roles, the staff member's
library and desk branch, a PDF or CSV answer, and a validator for text a database can hold."""
from __future__ import annotations

from typing import Any

from flask import Response
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.validators import ValidationError

from app import db
from app.circulation import service
from app.circulation.models import Branch, CircLibrary
from app.platform.bodies import is_storable

DESK_ROLES = ("circulation", "circulation-supervisor")
SUPERVISOR_ROLE = "circulation-supervisor"


def staff() -> Any:
    return current_user._get_current_object()


def library() -> CircLibrary | None:
    """The circulation library of the staff member (None: an administrator without a library)."""
    return service.desk_library(db.session(), staff())


def desk_branch() -> Branch | None:
    return service.desk_branch(db.session(), staff())


def branches() -> list[Branch]:
    return service.desk_branches(db.session(), staff())


def is_supervisor() -> bool:
    return service.is_supervisor(staff())


def storable(_form: Any, field: Any) -> None:
    if isinstance(field.data, str) and not is_storable(field.data):
        raise ValidationError(_l("This field contains a character that cannot be saved."))


def download(body: bytes | str, filename: str, mimetype: str, *, inline: bool = False) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'{disposition}; filename="{filename}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})
