"""Running the nightly job in tests, as the scheduler would."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from app.circulation.service_nightly import NightlySummary, run_nightly


def nightly(app: Any, sm: Any, at: datetime, **options: Any) -> NightlySummary:
    with app.app_context():
        return run_nightly(sm, at, **options)
