"""Imports every table (platform and domains) so that ``metadata`` knows them (Alembic, tests)."""
from app import domains
from app.accounts import models as _accounts  # noqa: F401
from app.audit import AuditEvent  # noqa: F401
from app.db import Base
from app.notify import models as _notify  # noqa: F401
from app.platform.identity_key import IdentityKeyFingerprint  # noqa: F401
from app.scheduler_models import JobLock, JobRun  # noqa: F401

domains.submodules("models")
metadata = Base.metadata
