"""MARC 21 in and out with pymarc: read ISO 2709 (MARC-8 or UTF-8) and MARCXML leniently, turn a record
into the catalogue's fields, derive the material type as libraries code it, and write MARCXML.

Nothing here touches the database: service.py stores what this module reads.
"""
from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pymarc
from pymarc import Field, Record, Subfield
from stdnum import ean as stdnum_ean
from stdnum import isbn as stdnum_isbn
from stdnum import issn as stdnum_issn

# Holdings as Koha exports them (952) or as MARC 21 holdings in the bibliographic record (852): which
# subfield holds what. KUULO_CATALOGUE_HOLDINGS_TAG picks one; the subfield maps can be overridden too.
HOLDINGS_LAYOUTS: dict[str, dict[str, str]] = {
    "952": {"barcode": "p", "branch": "a", "material_type": "y", "price": "v", "location": "c", "call_number": "o"},
    "852": {"barcode": "p", "branch": "b", "material_type": "x", "price": "9", "location": "c", "call_number": "h"},
}
ROLE_CODES = {"aut": "author", "nrt": "narrator", "trl": "translator", "ill": "illustrator", "edt": "editor",
              "cmp": "composer", "prf": "performer", "drt": "director"}
ROLE_WORDS = {"kirjoittaja": "author", "lukija": "narrator", "kääntäjä": "translator", "kuvittaja": "illustrator",
              "toimittaja": "editor", "säveltäjä": "composer", "esittäjä": "performer", "ohjaaja": "director",
              "författare": "author", "uppläsare": "narrator", "översättare": "translator"}


@dataclass
class Holding:
    barcode: str
    branch: str
    material_type: str = ""
    price: str = ""
    location: str = ""
    call_number: str = ""


@dataclass
class Parsed:
    """One record's catalogue fields, read from MARC."""

    control_number: str
    title: str
    subtitle: str = ""
    responsibility: str = ""
    authors: list[dict[str, str]] = field(default_factory=list)
    publisher: str = ""
    year: int | None = None
    edition: str = ""
    language: str = ""
    isbns: list[str] = field(default_factory=list)
    issns: list[str] = field(default_factory=list)
    eans: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    genres: list[str] = field(default_factory=list)
    series: list[str] = field(default_factory=list)
    material_type: str = "book"
    age_rating: int | None = None
    physical_description: str = ""
    notes: list[str] = field(default_factory=list)
    holdings: list[Holding] = field(default_factory=list)
    marcxml: str = ""

    @property
    def cover_isbn(self) -> str:
        return self.isbns[0] if self.isbns else ""

    @property
    def record_key(self) -> str:
        """The key circulation's copies and holds use: the first ISBN, else the EAN, else the control number."""
        if self.isbns:
            return f"isbn:{self.isbns[0]}"
        if self.eans:
            return f"ean:{self.eans[0]}"
        return f"cn:{self.control_number}"[:80]

    def content_hash(self) -> str:
        return hashlib.sha256(self.marcxml.encode()).hexdigest()


@dataclass
class Unreadable:
    """A record that could not be read: where it is in the file, its control number if one can be found."""

    position: int
    control_number: str
    reason: str


@dataclass
class Read:
    position: int
    parsed: Parsed


def _clean(text: str | None) -> str:
    """Subfield text without ISBD punctuation at the end and without characters a database refuses."""
    text = unicodedata.normalize("NFC", (text or "").replace("\x00", ""))
    text = text.encode("utf-8", "replace").decode("utf-8")
    return re.sub(r"[\s/:;,=.]+$", "", text.strip()).strip()


def _values(record: Record, tags: Iterable[str], codes: str) -> list[str]:
    out = []
    for f in record.get_fields(*tags):
        text = " -- ".join(_clean(v) for v in f.get_subfields(*codes) if _clean(v))
        if text and text not in out:
            out.append(text)
    return out


def _first(record: Record, tag: str, code: str) -> str:
    for f in record.get_fields(tag):
        for v in f.get_subfields(code):
            if _clean(v):
                return _clean(v)
    return ""


def compact_isbn13(value: str) -> str | None:
    """An ISBN as its compact 13-digit form (an ISBN-10 is converted); text that is no ISBN at all → None.
    A number whose check digit is wrong is kept as written (catalogues carry such numbers)."""
    raw = re.sub(r"[^0-9Xx]", "", value.split(" ")[0] if value else "").upper()
    if stdnum_isbn.is_valid(raw):
        return stdnum_isbn.to_isbn13(raw)
    if len(raw) == 13 and raw.isdigit() and raw[:3] in ("978", "979"):
        return raw
    if len(raw) == 10:
        return raw
    return None


def identifier_forms(value: str) -> list[str]:
    """Every form an identifier may be looked up by: compact, ISBN-10 and ISBN-13."""
    compact = re.sub(r"[\s-]", "", value).upper()
    forms = [compact] if compact else []
    if stdnum_isbn.is_valid(compact):
        forms.append(stdnum_isbn.to_isbn13(compact))
        try:
            forms.append(stdnum_isbn.to_isbn10(compact))
        except Exception:  # noqa: BLE001 - a 979 ISBN has no ISBN-10
            pass
    return list(dict.fromkeys(forms))


def _age_rating(record: Record) -> int | None:
    for text in _values(record, ["521"], "a"):
        m = re.search(r"(?:K|PEGI|S)?\s*-?\s*(\d{1,2})", text)
        if m and 0 <= int(m.group(1)) <= 21:
            return int(m.group(1))
    return None


def material_type(record: Record) -> str:
    """The material type from the leader (06 type, 07 level), 008 and the RDA 336–338 / 300 / 347 texts."""
    leader = str(record.leader or "")
    kind, level = leader[6:7], leader[7:8]
    f008 = (record.get_fields("008") or [None])[0]
    fixed = f008.data if f008 is not None and f008.data else ""
    carrier = " ".join(_values(record, ["300", "337", "338", "347", "538", "500", "655"], "abcde")).lower()
    online = "online" in carrier or "verkkoaineisto" in carrier or "e-äänikirja" in carrier
    if kind in ("a", "t"):
        if level == "s":
            return "magazine"
        if fixed[23:24] == "d" or "large print" in carrier or "isotekstinen" in carrier or "suuri teksti" in carrier:
            return "large_print"
        return "book"
    if kind == "i":
        if "daisy" in carrier:
            return "daisy"
        if online or fixed[23:24] in ("o", "s"):
            return "e_audiobook"
        return "audiobook_cd"
    if kind == "j":
        return "music_cd"
    if kind == "g":
        return "bluray" if ("blu-ray" in carrier or "bluray" in carrier) else "dvd"
    if kind == "m":
        if fixed[26:27] == "g" or "game" in carrier or "peli" in carrier or "konsoli" in carrier:
            return "console_game"
        return "object"
    if kind in ("r", "o", "p", "k"):
        return "object"
    return "book"


def _authors(record: Record) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for f in record.get_fields("100", "110", "700", "710"):
        name = _clean(f.get("a"))
        if not name:
            continue
        role = ""
        for code in f.get_subfields("4"):
            role = ROLE_CODES.get(code.strip().lower(), "")
        for word in f.get_subfields("e"):
            role = role or ROLE_WORDS.get(_clean(word).lower(), _clean(word).lower())
        role = role or ("author" if f.tag in ("100", "110") else "contributor")
        if not any(a["name"] == name for a in out):
            out.append({"name": name[:300], "role": role[:40]})
    return out


def _year(record: Record) -> int | None:
    f008 = (record.get_fields("008") or [None])[0]
    if f008 is not None and f008.data and f008.data[7:11].isdigit():
        return int(f008.data[7:11])
    for text in _values(record, ["264", "260"], "c"):
        m = re.search(r"(1[5-9]\d\d|20\d\d)", text)
        if m:
            return int(m.group(1))
    return None


def _holdings(record: Record, tag: str, layout: dict[str, str]) -> list[Holding]:
    out = []
    for f in record.get_fields(tag):
        barcode = _clean(f.get(layout["barcode"]))
        if not barcode:
            continue
        out.append(Holding(barcode=barcode[:40], branch=_clean(f.get(layout["branch"]))[:40],
                           material_type=_clean(f.get(layout["material_type"]))[:40],
                           price=(f.get(layout["price"]) or "").strip()[:20],
                           location=_clean(f.get(layout["location"]))[:100],
                           call_number=_clean(f.get(layout["call_number"]))[:100]))
    return out


def control_number(record: Record) -> str:
    """001 with 003 ("FI-MELINDA:123"); without 001 the first 035 ("(FI-MELINDA)123"); else ""."""
    f001, f003 = record.get_fields("001"), record.get_fields("003")
    number = _clean(f001[0].data) if f001 and f001[0].data else ""
    if number:
        agency = _clean(f003[0].data) if f003 and f003[0].data else ""
        return f"{agency}:{number}" if agency else number
    return _first(record, "035", "a")


def parse(record: Record, *, holdings_tag: str = "952", layout: dict[str, str] | None = None) -> Parsed:
    """The catalogue's fields of one record. ValueError: no control number or no title."""
    number = control_number(record)
    if not number:
        raise ValueError("no control number (001 or 035)")
    title = _first(record, "245", "a")
    if not title:
        raise ValueError("no title (245 $a)")
    isbns = list(dict.fromkeys(i for v in _values(record, ["020"], "a") if (i := compact_isbn13(v))))
    issns = list(dict.fromkeys(stdnum_issn.compact(v) for v in _values(record, ["022"], "a")
                               if stdnum_issn.is_valid(v)))
    eans = list(dict.fromkeys(re.sub(r"\D", "", v) for v in _values(record, ["024"], "a")
                              if re.sub(r"\D", "", v) and (stdnum_ean.is_valid(re.sub(r"\D", "", v))
                                                           or len(re.sub(r"\D", "", v)) in (12, 13))))
    f008 = (record.get_fields("008") or [None])[0]
    language = (f008.data[35:38].strip() if f008 is not None and f008.data and len(f008.data) >= 38 else "") \
        or _first(record, "041", "a")[:3]
    xml = pymarc.record_to_xml(record, namespace=True).decode("utf-8")
    return Parsed(
        control_number=number[:200], title=title[:500], subtitle=_first(record, "245", "b")[:500],
        responsibility=_first(record, "245", "c")[:500], authors=_authors(record),
        publisher=(_first(record, "264", "b") or _first(record, "260", "b"))[:300], year=_year(record),
        edition=_first(record, "250", "a")[:200], language=re.sub(r"[^a-z]", "", language.lower())[:3],
        isbns=isbns, issns=issns, eans=eans,
        subjects=_values(record, ["600", "610", "650", "651"], "axyz")[:50], genres=_values(record, ["655"], "a")[:20],
        series=_values(record, ["490", "830"], "a")[:10], material_type=material_type(record),
        age_rating=_age_rating(record), physical_description=" ".join(_values(record, ["300"], "abce"))[:500],
        notes=_values(record, ["500", "520"], "a")[:20],
        holdings=_holdings(record, holdings_tag, layout or HOLDINGS_LAYOUTS.get(holdings_tag, HOLDINGS_LAYOUTS["952"])),
        marcxml=xml)


def _control_in_chunk(chunk: bytes | None) -> str:
    """The 001 of a record that could not be read, found by pattern if its directory lies ("" if none)."""
    if not chunk:
        return ""
    m = re.search(rb"\x1e([A-Za-z0-9:._-]{1,60})\x1e", chunk[24:])
    try:
        return m.group(1).decode("ascii") if m else ""
    except UnicodeDecodeError:
        return ""


def read(source: Path | BinaryIO, *, holdings_tag: str = "952",
         layout: dict[str, str] | None = None) -> Iterator[Read | Unreadable]:
    """Every record of an ISO 2709 or MARCXML file, in order: Read, or Unreadable for one that cannot be
    read (the reader goes on with the next record)."""
    stream: BinaryIO = open(source, "rb") if isinstance(source, Path) else source  # noqa: SIM115
    try:
        head = stream.read(64)
        stream.seek(0)
        if head.lstrip().startswith(b"<"):
            yield from _read_xml(stream, holdings_tag, layout)
            return
        reader = pymarc.MARCReader(stream, to_unicode=True, force_utf8=False, utf8_handling="replace",
                                   permissive=True)
        for position, record in enumerate(reader, start=1):
            if record is None:
                exc = reader.current_exception
                yield Unreadable(position, _control_in_chunk(reader.current_chunk),
                                 type(exc).__name__ + (f": {exc}" if str(exc) else ""))
                continue
            yield _parsed(position, record, holdings_tag, layout)
    finally:
        if isinstance(source, Path):
            stream.close()


def _parsed(position: int, record: Record, holdings_tag: str, layout: dict[str, str] | None) -> Read | Unreadable:
    try:
        return Read(position, parse(record, holdings_tag=holdings_tag, layout=layout))
    except (ValueError, KeyError, IndexError, AttributeError) as err:
        return Unreadable(position, control_number(record) if isinstance(record, Record) else "", str(err))


def _read_xml(stream: BinaryIO, holdings_tag: str, layout: dict[str, str] | None) -> Iterator[Read | Unreadable]:
    try:
        records = pymarc.parse_xml_to_array(io.BytesIO(stream.read()), strict=False)
    except Exception as err:  # noqa: BLE001 - a broken XML document: nothing of it can be read
        yield Unreadable(1, "", f"MARCXML cannot be read: {type(err).__name__}")
        return
    for position, record in enumerate(records, start=1):
        yield _parsed(position, record, holdings_tag, layout)


def write_xml(xml_records: Iterable[str], out: BinaryIO) -> int:
    """A MARCXML collection of the stored records (each as imported)."""
    out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n<collection xmlns="http://www.loc.gov/MARC21/slim">\n')
    count = 0
    for xml in xml_records:
        body = re.sub(r"^<record[^>]*>", "<record>", xml.strip())
        out.write(body.encode("utf-8") + b"\n")
        count += 1
    out.write(b"</collection>\n")
    return count


def build(*, control: str, agency: str = "KUULO", title: str, author: str = "", isbn: str = "", ean: str = "",
          leader_type: str = "a", language: str = "fin", year: int = 2000, subjects: Iterable[str] = (),
          carrier: str = "", age_rating: int | None = None, holdings: Iterable[Holding] = (),
          fixed_extra: dict[int, str] | None = None) -> Record:
    """A MARC 21 record (for the demo file, tests and benchmarks)."""
    record = Record(force_utf8=True, leader=f"00000n{leader_type}m a2200000 i 4500")
    f008 = list(f"261201s{year:04d}    fi ||||| |||| 00| 0 {language[:3]:3} d")
    for pos, char in (fixed_extra or {}).items():
        f008[pos] = char
    record.add_field(Field(tag="001", data=control), Field(tag="003", data=agency), Field(tag="008", data="".join(f008)))
    if isbn:
        record.add_field(Field(tag="020", indicators=[" ", " "], subfields=[Subfield("a", isbn)]))
    if ean:
        record.add_field(Field(tag="024", indicators=["3", " "], subfields=[Subfield("a", ean)]))
    if author:
        record.add_field(Field(tag="100", indicators=["1", " "], subfields=[Subfield("a", author), Subfield("e", "kirjoittaja")]))
    record.add_field(Field(tag="245", indicators=["1", "0"], subfields=[Subfield("a", title)]))
    record.add_field(Field(tag="264", indicators=[" ", "1"], subfields=[Subfield("c", str(year))]))
    if carrier:
        record.add_field(Field(tag="338", indicators=[" ", " "], subfields=[Subfield("a", carrier)]))
    if age_rating is not None:
        record.add_field(Field(tag="521", indicators=[" ", " "], subfields=[Subfield("a", f"K{age_rating}")]))
    for subject in subjects:
        record.add_field(Field(tag="650", indicators=[" ", "7"], subfields=[Subfield("a", subject)]))
    for h in holdings:
        subs = [Subfield("p", h.barcode), Subfield("a", h.branch)]
        subs += [Subfield(c, v) for c, v in (("y", h.material_type), ("v", h.price), ("c", h.location),
                                             ("o", h.call_number)) if v]
        record.add_field(Field(tag="952", indicators=[" ", " "], subfields=subs))
    return record


def to_marc(records: Iterable[Record]) -> bytes:
    return b"".join(r.as_marc() for r in records)


def as_dict(parsed: Parsed) -> dict[str, Any]:
    """The stored columns of a parsed record (without holdings and the hash)."""
    return {k: getattr(parsed, k) for k in (
        "control_number", "title", "subtitle", "responsibility", "authors", "publisher", "year", "edition", "language",
        "isbns", "issns", "eans", "subjects", "genres", "series", "material_type", "age_rating",
        "physical_description", "notes", "marcxml")} | {"record_key": parsed.record_key, "cover_isbn": parsed.cover_isbn}
