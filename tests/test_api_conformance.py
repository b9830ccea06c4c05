"""Conformance of the running API to its own document, checked by schemathesis against the demo data:
every operation, with a staff (admin) token and with a patron's device token, every check schemathesis has
(no 5xx; no undocumented status code, content type or header; every answer valid against its schema;
schema-invalid requests refused; schema-valid requests accepted; credentials honoured).

Bounded for CI (KUULO_CONFORMANCE_EXAMPLES examples per operation and caller, derandomized so a run is
repeatable); the README says how to run it in full against a server with the schemathesis CLI."""
from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

from app import create_app, db  # noqa: E402
from app.accounts import service as accounts  # noqa: E402
from tests.conftest import FIXED_NOW, empty_database_url  # noqa: E402

EXAMPLES = int(os.environ.get("KUULO_CONFORMANCE_EXAMPLES", "12"))
DEMO_CARD, DEMO_PIN = "2000000001", "1234"

# Rules no JSON schema can state (an identity code's or business ID's check character, a patron's address
# for CDs, a circulation rule, a position past the end of the book) answer 422 to data that is schema-valid:
# that is documented on each of these operations, so schemathesis is told to expect it there.
DOMAIN_RULES_422 = ("/api/v1/registrations", "/api/v1/institution-applications",
                    "/api/v1/club-memberships", "/api/v1/clubs/{club_id}/members",
                    "/api/v1/circulation/", "/api/v1/books/{book_id}/position",
                    "/api/v1/institution-applications/{application_id}/approve",
                    "/api/v1/status/",  # status management: a window in the past, an empty update
                    "/api/v1/catalogue/me/")  # favourites and saved searches: a list or search of another patron
POSITIVE = ["2xx", "3xx", "401", "403", "404", "409", "429"]


def config() -> Any:
    operations = [{"include-path-regex": "^" + path.replace("{", r"\{").replace("}", r"\}"),
                   "checks": {"positive_data_acceptance": {"expected-statuses": [*POSITIVE, "422"]}}}
                  for path in DOMAIN_RULES_422]
    return schemathesis.config.SchemathesisConfig.from_dict({
        "checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE}},
        "operations": operations,
    })


@pytest.fixture()
def demo_app(tmp_path_factory) -> Iterator[Any]:
    """A fresh demo per caller: the staff run may announce breaks through the status management API, which
    would close the patron's operations."""
    from app.demo import load_demo

    root = tmp_path_factory.mktemp("conformance")
    url = empty_database_url(root, "kuulo_conformance_" + os.environ.get("PYTEST_XDIST_WORKER", "main"))
    application = create_app({"DATABASE_URL": url, "TESTING": True, "WTF_CSRF_ENABLED": False,
                              "SECRET_KEY": "conformance", "MEDIA_ROOT": str(root / "media"),
                              "BASE_URL": "http://kuulo.test", "FAKE_NOW": FIXED_NOW.isoformat(), "SMTP_PORT": 1})
    db.create_schema(application)
    with application.app_context():
        load_demo(application, FIXED_NOW)
    yield application
    db.engine(application).dispose()


@pytest.fixture()
def api_schema(demo_app) -> Any:
    return schemathesis.openapi.from_wsgi("/api/openapi.json", demo_app, config=config())


def _token(app: Any, *, staff_email: str | None = None) -> str:
    from sqlalchemy import select

    from app.accounts.models import Patron, StaffUser

    with app.app_context():
        with db.get_sessionmaker()() as session:
            if staff_email:
                user = session.scalar(select(StaffUser).where(StaffUser.email == staff_email))
                raw, _ = accounts.issue_token(session, now=FIXED_NOW, days=30, staff=user, name="conformance")
            else:
                patron = session.scalar(select(Patron).where(Patron.card_number == DEMO_CARD))
                raw, _ = accounts.issue_token(session, now=FIXED_NOW, days=30, patron=patron, name="conformance")
            session.commit()
    return raw


SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                    phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@pytest.mark.parametrize("caller", ["staff", "patron"])
def test_every_operation_keeps_its_contract(api_schema, demo_app, caller):
    staff_email = "admin@demo.kuulo.test" if caller == "staff" else None
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    # Status management last: the breaks and incidents it announces close other operations (503 by design).
    operations.sort(key=lambda op: op.path.startswith("/api/v1/status/"))
    for operation in operations:
        for mode in MODES:

            @SETTINGS
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                call_and_validate(case, demo_app, staff_email)

            try:
                run()
            except Unsatisfiable:  # nothing to make invalid (no parameters, no body): nothing to test
                continue
            except (Exception, BaseExceptionGroup) as failure:  # each operation's first failure, all listed at the end
                failures.append(f"{operation.label} ({mode}): {str(failure)[:1500]}")
    assert not failures, "\n\n".join(failures)


def call_and_validate(case: Any, app: Any, staff_email: str | None = None) -> None:
    schemes = {name for req in case.operation.definition.raw.get("security", []) for name in req}
    headers: dict[str, str] = {}
    if "bearer" in schemes:
        headers["Authorization"] = f"Bearer {_token(app, staff_email=staff_email)}"
    elif "cardPin" in schemes:
        card_pin = base64.b64encode(f"{DEMO_CARD}:{DEMO_PIN}".encode()).decode()
        headers["Authorization"] = f"Basic {card_pin}"
    case.call_and_validate(headers=headers)
