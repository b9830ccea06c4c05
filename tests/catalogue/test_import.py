"""`flask catalogue import`: idempotent by control number, holdings become circulation's copies, broken
records are skipped with their position, a dry run stores nothing, export round-trips."""
from __future__ import annotations

import io

import pymarc
from sqlalchemy import func, select

from app.catalogue import marc
from app.catalogue.models import Record
from app.circulation.models import Item
from tests.catalogue.helpers import book, run_import, write

COPY = marc.Holding("K0001", "mikkeli", "", "29.90", "Aikuisten romaanit", "84.2")


def count(sm, model=Record):
    with sm() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_import_stores_records_and_copies_and_again_changes_nothing(app, sm, libraries, tmp_path):
    path = write(tmp_path / "a.mrc", book("1", "Tuntematon sotilas", isbn="9789510000011", holdings=(COPY,)),
                 book("2", "Seitsemän veljestä", subjects=("veljekset",)))
    result = run_import(app, str(path))
    assert result.exit_code == 0, result.output
    assert "2 records read: 2 were added, 0 were updated, 0 unchanged, 0 skipped; copies: 1 new" in result.output
    with sm() as s:
        item = s.scalar(select(Item).where(Item.barcode == "K0001"))
        assert (item.record_key, item.title, item.material_type, item.replacement_price_minor) == \
            ("isbn:9789510000011", "Tuntematon sotilas", "book", 2990)
    again = run_import(app, str(path))
    assert "2 records read: 0 were added, 0 were updated, 2 unchanged" in again.output
    assert count(sm) == 2 and count(sm, Item) == 1


def test_a_changed_record_is_updated_and_its_copy_follows(app, sm, libraries, tmp_path):
    run_import(app, str(write(tmp_path / "a.mrc", book("1", "Vanha nimi", holdings=(COPY,)), book("2", "Toinen"))))
    moved = marc.Holding("K0001", "savonlinna", "", "35.00", "Varasto", "")
    result = run_import(app, str(write(tmp_path / "b.mrc", book("1", "Uusi nimi", holdings=(moved,)),
                                       book("2", "Toinen"))))
    assert "0 were added, 1 were updated, 1 unchanged" in result.output
    with sm() as s:
        assert s.scalar(select(Record.title).where(Record.control_number == "KUULO:1")) == "Uusi nimi"
        item = s.scalar(select(Item).where(Item.barcode == "K0001"))
        assert item.title == "Uusi nimi" and item.replacement_price_minor == 3500
    assert count(sm) == 2


def test_a_broken_record_is_reported_with_position_and_the_rest_imported(app, sm, libraries, tmp_path):
    body = b"nam a2200037 a 4500" + b"001000900000" + b"\x1e" + b"bro\x1d"
    path = tmp_path / "mixed.mrc"
    path.write_bytes(book("ok1", "Ehjä").as_marc() + b"%05d" % (5 + len(body)) + body + book("ok2", "Ehjä 2").as_marc())
    result = run_import(app, str(path))
    assert result.exit_code == 0, result.output
    assert "skipped: mixed.mrc record 2 (control number bro)" in result.output
    assert count(sm) == 2


def test_a_copy_at_an_unknown_branch_skips_its_record_only(app, sm, libraries, tmp_path):
    nowhere = marc.Holding("K0009", "atlantis", "", "1.00", "", "")
    result = run_import(app, str(write(tmp_path / "a.mrc", book("1", "Hyvä"), book("2", "Huono", holdings=(nowhere,)))))
    assert "record 2 (control number KUULO:2): catalogue-unknown-branch (branch=atlantis)" in result.output
    with sm() as s:
        assert list(s.scalars(select(Record.title))) == ["Hyvä"]
        assert s.scalar(select(Item.id).where(Item.barcode == "K0009")) is None


def test_dry_run_reports_but_stores_nothing(app, sm, libraries, tmp_path):
    result = run_import(app, "--dry-run", str(write(tmp_path / "a.mrc", book("1", "Kirja", holdings=(COPY,)))))
    assert "dry run: 1 records read: 1 would be added" in result.output
    assert count(sm) == 0 and count(sm, Item) == 0


def test_export_gives_marcxml_that_imports_back_unchanged(app, sm, libraries, tmp_path):
    originals = [book("1", "Kalevala", author="Lönnrot, Elias", isbn="9789510000080", subjects=("mytologia",),
                      holdings=(COPY,)), book("2", "Babička", language="cze", year=1855)]
    run_import(app, str(write(tmp_path / "a.mrc", *originals)))
    out = tmp_path / "export.xml"
    result = app.test_cli_runner().invoke(args=["catalogue", "export", str(out)])
    assert result.exit_code == 0 and "exported 2 records" in result.output
    back = [r.parsed for r in marc.read(out)]
    first = [r.parsed for r in marc.read(io.BytesIO(marc.to_marc(originals)))]
    assert [marc.as_dict(p) for p in back] == [marc.as_dict(p) for p in first]
    assert back[0].holdings == [COPY]
    assert "2 unchanged" in run_import(app, str(out)).output


def test_the_holdings_setting_picks_the_field_and_its_subfields(app, sm, libraries, tmp_path):
    record = book("1", "Kirja")
    record.add_field(pymarc.Field(tag="852", indicators=[" ", " "], subfields=[
        pymarc.Subfield("p", "K0852"), pymarc.Subfield("a", "mikkeli"), pymarc.Subfield("9", "12.00")]))
    path = write(tmp_path / "a.mrc", record)
    app.config["CATALOGUE_HOLDINGS_TAG"] = "852 branch=a"
    try:
        assert "copies: 1 new" in run_import(app, str(path)).output
        assert "--holdings" in run_import(app, "--holdings", "999", str(path)).output  # refused, named
    finally:
        app.config["CATALOGUE_HOLDINGS_TAG"] = "952"
    with sm() as s:
        assert s.scalar(select(Item.replacement_price_minor).where(Item.barcode == "K0852")) == 1200


def test_a_control_number_twice_in_a_file_is_stored_once_as_last_described(app, sm, libraries, tmp_path):
    result = run_import(app, str(write(tmp_path / "a.mrc", book("1", "Ensin", holdings=(COPY,)), book("2", "Muu"),
                                       book("1", "Lopuksi", holdings=(COPY,)))))
    assert "3 records read: 2 were added, 0 were updated, 0 unchanged" in result.output
    with sm() as s:
        assert s.scalar(select(Record.title).where(Record.control_number == "KUULO:1")) == "Lopuksi"
        assert s.scalar(select(Item.title).where(Item.barcode == "K0001")) == "Lopuksi"


def test_a_batch_takes_the_same_few_statements_whatever_its_size(app, sm, libraries, tmp_path):
    """The import is bulk: statements per batch do not grow with the records in it (no per-record SQL)."""
    from sqlalchemy import event

    from app import db

    def statements(count: int, start: int) -> int:
        records = [book(f"s{start + n}", f"Kirja {n}", isbn="", subjects=("aihe",),
                        holdings=(marc.Holding(f"S{start + n:05d}", "mikkeli", "", "10.00", "", ""),))
                   for n in range(count)]
        seen = []
        engine = db.engine(app)
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert run_import(app, "--batch-size", "1000", str(write(tmp_path / f"{start}.mrc", *records))).exit_code == 0
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    assert statements(5, 0) == statements(60, 100)
    assert count(sm) == 65 and count(sm, Item) == 65
