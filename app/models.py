"""Imports every domain's models so that ``metadata`` knows all tables (Alembic, tests)."""
from app.accounts import models as _accounts  # noqa: F401
from app.audit import AuditEvent  # noqa: F401
from app.db import Base
from app.notify import models as _notify  # noqa: F401
from app.scheduler_models import JobLock, JobRun  # noqa: F401

metadata = Base.metadata
