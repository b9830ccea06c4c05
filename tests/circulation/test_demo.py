"""`flask demo` gives circulation data in all four presets and is idempotent."""
from __future__ import annotations

from sqlalchemy import func, select

from app.accounts.models import Patron
from app.circulation.models import CircLibrary, Hold, Item, Loan, PatronCirculation


def counts(s):
    return tuple(s.scalar(select(func.count()).select_from(model)) for model in
                 (CircLibrary, Item, PatronCirculation, Loan, Hold))


def test_demo_loads_the_four_presets_once(app, sm):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    with sm.begin() as s:
        first = counts(s)
        assert sorted(s.scalars(select(CircLibrary.preset))) == ["czech", "lumme", "outi", "tampere"]
        presets = dict(s.execute(select(Patron.card_number, CircLibrary.preset)
                                 .join(PatronCirculation, PatronCirculation.patron_id == Patron.id)
                                 .join(CircLibrary, CircLibrary.id == PatronCirculation.library_id)).all())
        assert {presets[card] for card in ("2000000001", "2000000002", "2000000003", "2000000004")} == {
            "lumme", "outi", "tampere", "czech"}
    assert runner.invoke(args=["demo"]).exit_code == 0
    with sm.begin() as s:
        assert counts(s) == first and first[3] >= 5
    run = runner.invoke(args=["jobs", "run-once", "circulation-nightly"])
    assert run.exit_code == 0 and "messages queued" in run.output
