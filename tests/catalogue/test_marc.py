"""Reading MARC 21: fields, material types as libraries code them, MARC-8, MARCXML, broken records."""
from __future__ import annotations

import io

import pymarc
from pymarc import Field, Record, Subfield

from app.catalogue import marc
from tests.catalogue.helpers import book


def read_one(record: Record) -> marc.Parsed:
    [result] = list(marc.read(io.BytesIO(record.as_marc())))
    assert isinstance(result, marc.Read), result
    return result.parsed


def test_a_book_record_gives_the_catalogue_fields():
    record = book("123", "Tuntematon sotilas", author="Linna, Väinö", isbn="951-0-00001-1 (sid.)",
                  subjects=("sota", "jatkosota"), year=1954)
    record.add_field(Field(tag="490", indicators=["0", " "], subfields=[Subfield("a", "Klassikot ;")]))
    parsed = read_one(record)
    assert parsed.control_number == "KUULO:123"
    assert parsed.title == "Tuntematon sotilas"
    assert parsed.authors == [{"name": "Linna, Väinö", "role": "author"}]
    assert parsed.year == 1954 and parsed.language == "fin"
    assert parsed.subjects == ["sota", "jatkosota"] and parsed.series == ["Klassikot"]
    assert parsed.material_type == "book"
    assert parsed.isbns == ["9510000011"]  # an invalid check digit is kept as written


def test_a_valid_isbn_10_is_stored_as_isbn_13_and_is_the_record_key():
    parsed = read_one(book("1", "SICP", isbn="0-262-51087-1"))
    assert parsed.isbns == ["9780262510875"]
    assert parsed.record_key == "isbn:9780262510875"
    assert set(marc.identifier_forms("978-0-262-51087-5")) >= {"9780262510875", "0262510871"}


def test_without_003_the_001_alone_and_without_001_the_035_is_the_control_number():
    record = Record(force_utf8=True)
    record.add_field(Field(tag="035", indicators=[" ", " "], subfields=[Subfield("a", "(FI-MELINDA)000123")]),
                     Field(tag="245", indicators=["0", "0"], subfields=[Subfield("a", "Ilman numeroa")]))
    assert read_one(record).control_number == "(FI-MELINDA)000123"


def test_material_types_follow_the_leader_008_and_carrier_fields():
    cases = [
        (dict(leader_type="a", fixed_extra={23: "d"}), "large_print"),
        (dict(leader_type="i"), "audiobook_cd"),
        (dict(leader_type="i", carrier="DAISY-äänikirja"), "daisy"),
        (dict(leader_type="i", carrier="online resource"), "e_audiobook"),
        (dict(leader_type="g", carrier="videodisc"), "dvd"),
        (dict(leader_type="g", carrier="Blu-ray-levy"), "bluray"),
        (dict(leader_type="m", fixed_extra={26: "g"}, age_rating=16), "console_game"),
        (dict(leader_type="j"), "music_cd"),
        (dict(leader_type="r"), "object"),
    ]
    for extra, expected in cases:
        parsed = read_one(book("m", "Aineisto", **extra))
        assert parsed.material_type == expected, (extra, parsed.material_type)
    assert read_one(book("g", "Peli", leader_type="m", fixed_extra={26: "g"}, age_rating=16)).age_rating == 16
    serial = book("s", "Aikakauslehti")
    serial.leader = serial.leader[:7] + "s" + serial.leader[8:]
    assert read_one(serial).material_type == "magazine"


def test_marc_8_records_are_read_as_unicode():
    record = book("m8", "XXXXXX")
    data = record.as_marc().replace(b"XXXXXX", b"P\xe8aivi")  # MARC-8: the diaeresis precedes its letter
    data = data[:9] + b" " + data[10:]  # leader/09 blank: MARC-8
    [result] = list(marc.read(io.BytesIO(data)))
    assert result.parsed.title == "Päivi"


def test_marcxml_is_read_too():
    xml = (b'<?xml version="1.0"?><collection xmlns="http://www.loc.gov/MARC21/slim">'
           + b"".join(pymarc.record_to_xml(r) for r in [book("x1", "Ensimmäinen"), book("x2", "Toinen")])
           + b"</collection>")
    titles = [r.parsed.title for r in marc.read(io.BytesIO(xml))]
    assert titles == ["Ensimmäinen", "Toinen"]


def test_a_record_whose_directory_lies_is_reported_and_the_next_is_read():
    body = b"nam a2200037 a 4500" + b"001000900000" + b"\x1e" + b"bro\x1d"
    data = book("ok1", "Ehjä").as_marc() + b"%05d" % (5 + len(body)) + body + book("ok2", "Toinen ehjä").as_marc()
    results = list(marc.read(io.BytesIO(data)))
    assert [type(r).__name__ for r in results] == ["Read", "Unreadable", "Read"]
    assert results[1].position == 2 and results[1].control_number == "bro"


def test_garbage_between_records_does_not_stop_the_reader():
    data = book("a", "Ensimmäinen").as_marc() + b"00026xxxxxxxxxxxxxxxxxxxx\x1d" + book("b", "Viimeinen").as_marc()
    results = list(marc.read(io.BytesIO(data)))
    assert [r.parsed.title for r in results if isinstance(r, marc.Read)] == ["Ensimmäinen", "Viimeinen"]
    assert any(isinstance(r, marc.Unreadable) for r in results)


def test_holdings_are_read_from_952_or_852():
    record = book("h", "Kirja", holdings=(marc.Holding("B1", "mikkeli", "book", "25.00", "Aikuiset", "84.2"),))
    assert read_one(record).holdings == [marc.Holding("B1", "mikkeli", "book", "25.00", "Aikuiset", "84.2")]
    record = book("h2", "Kirja")
    record.add_field(Field(tag="852", indicators=[" ", " "], subfields=[Subfield("p", "B2"), Subfield("b", "oulu_main"),
                                                                        Subfield("c", "Lasten")]))
    [result] = list(marc.read(io.BytesIO(record.as_marc()), holdings_tag="852"))
    assert result.parsed.holdings[0].barcode == "B2" and result.parsed.holdings[0].branch == "oulu_main"


def test_the_fast_reader_and_pymarc_give_the_same_record_and_marcxml():
    record = book("f1", "Kaunis & <ruma> \"kirja\"", author="Äyräpää, Åsa", isbn="0-262-51087-1",
                  subjects=("sota", "rauha"), holdings=(marc.Holding("B1", "mikkeli", "", "1,50", "A & B", ""),))
    data = record.as_marc()
    fast = marc._split_utf8(data)
    assert fast is not None and not fast.plain  # & < > " in the data: escaped
    slow = marc.MarcRecord.of(pymarc.Record(data, to_unicode=True, utf8_handling="replace"))
    assert marc.parse(fast) == marc.parse(slow)
    parsed = read_one(record)
    assert parsed.title == 'Kaunis & <ruma> "kirja"' and parsed.holdings[0].location == "A & B"
    [again] = [r.parsed for r in marc.read(io.BytesIO(b"<collection>" + parsed.marcxml.encode() + b"</collection>"))]
    assert marc.as_dict(again) == marc.as_dict(parsed) and again.content_hash() == parsed.content_hash()


def test_the_holdings_setting_names_a_tag_and_may_remap_subfields():
    assert marc.holdings_setting("952") == ("952", marc.HOLDINGS_LAYOUTS["952"])
    assert marc.holdings_setting(852)[0] == "852"  # KUULO_ settings that look like numbers arrive as numbers
    tag, layout = marc.holdings_setting("952 branch=b price=g")
    assert tag == "952" and layout["branch"] == "b" and layout["price"] == "g" and layout["barcode"] == "p"
    for bad in ("950", "952 colour=r", "952 branch=bb", "952 branch=", ""):
        try:
            marc.holdings_setting(bad)
        except ValueError:
            continue
        raise AssertionError(bad)
    record = book("h3", "Kirja")
    record.add_field(Field(tag="952", indicators=[" ", " "], subfields=[Subfield("p", "B3"), Subfield("b", "oulu_main")]))
    [result] = list(marc.read(io.BytesIO(record.as_marc()), holdings_tag=tag, layout=layout))
    assert result.parsed.holdings[0].branch == "oulu_main"
