"""MARC 21 in and out: read ISO 2709 (MARC-8 or UTF-8) and MARCXML leniently, turn a record into the
catalogue's fields, derive the material type as libraries code it, and write MARCXML.

Reading follows pymarc's ``MARCReader`` record by record (the same lengths, the same refusals, the same
positions). A well-formed UTF-8 record (leader/09 ``a``) is split straight into its fields — the fields the
catalogue reads and the MARCXML it keeps come from that one pass, without pymarc's per-subfield objects
(that is what makes an import of a million records about as fast as pymarc merely reading them). MARC-8
records, records whose directory or indicators are irregular, and MARCXML go through pymarc itself, and both
ways give the same ``MarcRecord``.

Nothing here touches the database: service.py stores what this module reads.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
import xml.sax
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any, BinaryIO

from pymarc import Field, Record, Subfield
from pymarc import exceptions as marc_errors
from pymarc.marcxml import XmlHandler
from stdnum import ean as stdnum_ean
from stdnum import issn as stdnum_issn

# Holdings as Koha exports them (952) or as MARC 21 holdings in the bibliographic record (852): which
# subfield holds what. The setting KUULO_CATALOGUE_HOLDINGS_TAG picks one ("952", "852") and may remap
# subfields ("952 branch=b price=g"); see ``holdings_setting``.
HOLDINGS_LAYOUTS: dict[str, dict[str, str]] = {
    "952": {"barcode": "p", "branch": "a", "material_type": "y", "price": "v", "location": "c", "call_number": "o"},
    "852": {"barcode": "p", "branch": "b", "material_type": "x", "price": "9", "location": "c", "call_number": "h"},
}
HOLDING_PARTS = ("barcode", "branch", "material_type", "price", "location", "call_number")
ROLE_CODES = {"aut": "author", "nrt": "narrator", "trl": "translator", "ill": "illustrator", "edt": "editor",
              "cmp": "composer", "prf": "performer", "drt": "director"}
ROLE_WORDS = {"kirjoittaja": "author", "lukija": "narrator", "kääntäjä": "translator", "kuvittaja": "illustrator",
              "toimittaja": "editor", "säveltäjä": "composer", "esittäjä": "performer", "ohjaaja": "director",
              "författare": "author", "uppläsare": "narrator", "översättare": "translator"}
# Part of every record's content hash: a new version of the mapping below makes the next import store
# every record again (bump it when the fields read from MARC change).
MAPPING_VERSION = "2"


def holdings_setting(value: Any) -> tuple[str, dict[str, str]]:
    """The holdings tag and its subfield layout from the setting's text: "952" or "852" (Koha's and
    MARC 21's layouts), optionally followed by remapped parts, e.g. "952 branch=b price=g".
    ValueError names what is wrong."""
    words = str(value if value is not None else "952").replace(",", " ").split()
    if not words or words[0] not in HOLDINGS_LAYOUTS:
        raise ValueError(f"the holdings tag must be one of {', '.join(sorted(HOLDINGS_LAYOUTS))}")
    layout = dict(HOLDINGS_LAYOUTS[words[0]])
    for word in words[1:8]:
        part, _, code = word.partition("=")
        if part not in HOLDING_PARTS or len(code) != 1 or not code.isascii() or not code.isalnum():
            raise ValueError(f"a subfield is named as part=code with part one of {', '.join(HOLDING_PARTS)}: {word!r}")
        layout[part] = code
    if len(words) > 8:
        raise ValueError("at most six subfields can be remapped")
    return words[0], layout


class MarcRecord:
    """A record as the catalogue reads it: the leader and the fields in record order, a control field as
    ``(tag, data)``, a data field as ``(tag, ind1, ind2, [(code, value), …])``. ``plain``: no value needs
    escaping in XML (known for records split from their bytes)."""

    __slots__ = ("leader", "fields", "tags", "plain")

    def __init__(self, leader: str, fields: list[tuple[Any, ...]], plain: bool = False) -> None:
        self.leader = leader
        self.fields = fields
        self.plain = plain
        tags: dict[str, list[tuple[Any, ...]]] = {}
        for f in fields:
            if f[0] in tags:
                tags[f[0]].append(f)
            else:
                tags[f[0]] = [f]
        self.tags = tags

    @classmethod
    def of(cls, record: Record) -> MarcRecord:
        fields: list[tuple[Any, ...]] = []
        for f in record.fields:
            if f.control_field:
                fields.append((f.tag, f.data if isinstance(f.data, str) else str(f.data or "")))
            else:
                ind = f.indicators
                fields.append((f.tag, ind.first if ind else " ", ind.second if ind else " ",
                               [(s.code, s.value) for s in f.subfields]))
        return cls(str(record.leader or ""), fields)

    def data(self, tag: str) -> str:
        for f in self.tags.get(tag, ()):
            if len(f) == 2:
                return f[1]
        return ""


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
    digest: str = ""  # of the MARCXML, the holdings layout and MAPPING_VERSION: what tells a changed record

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
        return self.digest or hashlib.sha256(self.marcxml.encode()).hexdigest()


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


_PUNCT = "/:;,=."


def _clean(text: str | None) -> str:
    """Subfield text without ISBD punctuation at the end and without characters a database refuses."""
    if not text:
        return ""
    if not text.isascii():
        if "\x00" in text:
            text = text.replace("\x00", "")
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "replace").decode("utf-8")
    elif "\x00" in text:
        text = text.replace("\x00", "")
    text = text.strip()
    while text and (text[-1] in _PUNCT or text[-1].isspace()):
        text = text.rstrip(_PUNCT).rstrip()
    return text


def _fields(record: MarcRecord, tags: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """The data fields with these tags, in record order."""
    if len(tags) == 1:
        return [f for f in record.tags.get(tags[0], ()) if len(f) == 4]
    if record.tags.keys().isdisjoint(tags):
        return []
    return [f for f in record.fields if f[0] in tags and len(f) == 4]


def _values(record: MarcRecord, tags: tuple[str, ...], codes: str) -> list[str]:
    out: list[str] = []
    for f in _fields(record, tags):
        parts = [c for c in (_clean(v) for code, v in f[3] if code in codes) if c]
        text = " -- ".join(parts)
        if text and text not in out:
            out.append(text)
    return out


def _first(record: MarcRecord, tag: str, code: str) -> str:
    for f in record.tags.get(tag, ()):
        if len(f) == 4:
            for c, v in f[3]:
                if c == code and (v := _clean(v)):
                    return v
    return ""


def _sub(f: tuple[Any, ...], code: str) -> str:
    for c, v in f[3]:
        if c == code:
            return v
    return ""


def _isbn10_check(digits: str) -> str:
    check = (11 - sum(map(int.__mul__, (10, 9, 8, 7, 6, 5, 4, 3, 2), map(int, digits[:9]))) % 11) % 11
    return "X" if check == 10 else str(check)


def _ean_check(digits: str) -> str:
    body = digits[:12]
    return str((10 - (sum(map(int, body[0::2])) + 3 * sum(map(int, body[1::2]))) % 10) % 10)


def _valid_isbn(raw: str) -> bool:
    """python-stdnum's isbn.is_valid for a compact upper-case number, without its per-call overhead."""
    if len(raw) == 10:
        return raw[:9].isdigit() and (raw[9].isdigit() or raw[9] == "X") and _isbn10_check(raw) == raw[9]
    if len(raw) == 13:
        return raw.isdigit() and raw[:3] in ("978", "979") and _ean_check(raw) == raw[12]
    return False


def _to_isbn13(raw: str) -> str:
    if len(raw) == 13:
        return raw
    body = "978" + raw[:9]
    return body + _ean_check(body)


def compact_isbn13(value: str) -> str | None:
    """An ISBN as its compact 13-digit form (an ISBN-10 is converted); text that is no ISBN at all → None.
    A number whose check digit is wrong is kept as written (catalogues carry such numbers)."""
    raw = re.sub(r"[^0-9Xx]", "", value.split(" ")[0] if value else "").upper()
    if _valid_isbn(raw):
        return _to_isbn13(raw)
    if len(raw) == 13 and raw.isdigit() and raw[:3] in ("978", "979"):
        return raw
    if len(raw) == 10:
        return raw
    return None


def identifier_forms(value: str) -> list[str]:
    """Every form an identifier may be looked up by: compact, ISBN-10 and ISBN-13."""
    compact = re.sub(r"[\s-]", "", value).upper()
    forms = [compact] if compact else []
    if _valid_isbn(compact):
        forms.append(_to_isbn13(compact))
        if compact.startswith("978") or len(compact) == 10:  # a 979 ISBN has no ISBN-10
            body = _to_isbn13(compact)[3:12]
            forms.append(body + _isbn10_check(body))
    return list(dict.fromkeys(forms))


_AGE = re.compile(r"(?:K|PEGI|S)?\s*-?\s*(\d{1,2})")


def _age_rating(record: MarcRecord) -> int | None:
    for text in _values(record, ("521",), "a"):
        m = _AGE.search(text)
        if m and 0 <= int(m.group(1)) <= 21:
            return int(m.group(1))
    return None


CARRIER_TAGS = ("300", "337", "338", "347", "538", "500", "655")


def material_type(record: MarcRecord | Record) -> str:
    """The material type from the leader (06 type, 07 level), 008 and the RDA 336–338 / 300 / 347 texts."""
    if isinstance(record, Record):
        record = MarcRecord.of(record)
    leader = record.leader
    kind, level = leader[6:7], leader[7:8]
    fixed = record.data("008")

    def carrier() -> str:
        return " ".join(_values(record, CARRIER_TAGS, "abcde")).lower()

    if kind in ("a", "t"):
        if level == "s":
            return "magazine"
        if fixed[23:24] == "d":
            return "large_print"
        text = carrier()
        if "large print" in text or "isotekstinen" in text or "suuri teksti" in text:
            return "large_print"
        return "book"
    if kind == "i":
        text = carrier()
        if "daisy" in text:
            return "daisy"
        if "online" in text or "verkkoaineisto" in text or "e-äänikirja" in text or fixed[23:24] in ("o", "s"):
            return "e_audiobook"
        return "audiobook_cd"
    if kind == "j":
        return "music_cd"
    if kind == "g":
        text = carrier()
        return "bluray" if ("blu-ray" in text or "bluray" in text) else "dvd"
    if kind == "m":
        if fixed[26:27] == "g":
            return "console_game"
        text = carrier()
        if "game" in text or "peli" in text or "konsoli" in text:
            return "console_game"
        return "object"
    if kind in ("r", "o", "p", "k"):
        return "object"
    return "book"


def _authors(record: MarcRecord) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for f in _fields(record, ("100", "110", "700", "710")):
        name = _clean(_sub(f, "a"))
        if not name:
            continue
        role = ""
        for code, value in f[3]:
            if code == "4":
                role = ROLE_CODES.get(value.strip().lower(), "")
        if not role:
            for code, value in f[3]:
                if code == "e" and not role:
                    word = _clean(value).lower()
                    role = ROLE_WORDS.get(word, word)
        role = role or ("author" if f[0] in ("100", "110") else "contributor")
        if not any(a["name"] == name for a in out):
            out.append({"name": name[:300], "role": role[:40]})
    return out


_YEAR = re.compile(r"(1[5-9]\d\d|20\d\d)")


def _year(record: MarcRecord) -> int | None:
    fixed = record.data("008")
    if fixed[7:11].isdigit():
        return int(fixed[7:11])
    for text in _values(record, ("264", "260"), "c"):
        m = _YEAR.search(text)
        if m:
            return int(m.group(1))
    return None


def _holdings(record: MarcRecord, tag: str, layout: dict[str, str]) -> list[Holding]:
    out = []
    for f in _fields(record, (tag,)):
        barcode = _clean(_sub(f, layout["barcode"]))
        if not barcode:
            continue
        out.append(Holding(barcode=barcode[:40], branch=_clean(_sub(f, layout["branch"]))[:40],
                           material_type=_clean(_sub(f, layout["material_type"]))[:40],
                           price=_sub(f, layout["price"]).strip()[:20],
                           location=_clean(_sub(f, layout["location"]))[:100],
                           call_number=_clean(_sub(f, layout["call_number"]))[:100]))
    return out


def control_number(record: MarcRecord | Record) -> str:
    """001 with 003 ("FI-MELINDA:123"); without 001 the first 035 ("(FI-MELINDA)123"); else ""."""
    if isinstance(record, Record):
        record = MarcRecord.of(record)
    number = _clean(record.data("001"))
    if number:
        agency = _clean(record.data("003"))
        return f"{agency}:{number}" if agency else number
    return _first(record, "035", "a")


def _digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit()) if not value.isdigit() else value


_PREFIXES: dict[tuple[str, tuple[tuple[str, str], ...]], bytes] = {}


def _digest_prefix(holdings_tag: str, layout: dict[str, str]) -> bytes:
    key = (holdings_tag, tuple(sorted(layout.items())))
    if key not in _PREFIXES:
        _PREFIXES[key] = f"{MAPPING_VERSION}|{key}|".encode()
    return _PREFIXES[key]


def parse(record: MarcRecord | Record, *, holdings_tag: str = "952", layout: dict[str, str] | None = None) -> Parsed:
    """The catalogue's fields of one record. ValueError: no control number or no title."""
    if isinstance(record, Record):
        record = MarcRecord.of(record)
    number = control_number(record)
    if not number:
        raise ValueError("no control number (001 or 035)")
    title = _first(record, "245", "a")
    if not title:
        raise ValueError("no title (245 $a)")
    layout = layout or HOLDINGS_LAYOUTS.get(holdings_tag, HOLDINGS_LAYOUTS["952"])
    isbns = list(dict.fromkeys(i for v in _values(record, ("020",), "a") if (i := compact_isbn13(v))))
    issns = list(dict.fromkeys(stdnum_issn.compact(v) for v in _values(record, ("022",), "a")
                               if stdnum_issn.is_valid(v))) if "022" in record.tags else []
    eans = list(dict.fromkeys(d for v in _values(record, ("024",), "a")
                              if (d := _digits(v)) and (len(d) in (12, 13) or stdnum_ean.is_valid(d)))) \
        if "024" in record.tags else []
    fixed = record.data("008")
    language = (fixed[35:38].strip() if len(fixed) >= 38 else "") or _first(record, "041", "a")[:3]
    if not (language.isascii() and language.isalpha() and language.islower()):
        language = re.sub(r"[^a-z]", "", language.lower())
    xml = to_xml(record)
    digest = hashlib.sha256(_digest_prefix(holdings_tag, layout) + xml.encode()).hexdigest()
    g = _first
    return Parsed(
        control_number=number[:200], title=title[:500], subtitle=g(record, "245", "b")[:500],
        responsibility=g(record, "245", "c")[:500], authors=_authors(record),
        publisher=(g(record, "264", "b") or g(record, "260", "b"))[:300], year=_year(record),
        edition=g(record, "250", "a")[:200], language=language[:3],
        isbns=isbns, issns=issns, eans=eans,
        subjects=_values(record, ("600", "610", "650", "651"), "axyz")[:50],
        genres=_values(record, ("655",), "a")[:20],
        series=_values(record, ("490", "830"), "a")[:10], material_type=material_type(record),
        age_rating=_age_rating(record), physical_description=" ".join(_values(record, ("300",), "abce"))[:500],
        notes=_values(record, ("500", "520"), "a")[:20],
        holdings=_holdings(record, holdings_tag, layout), marcxml=xml, digest=digest)


# -- MARCXML out --------------------------------------------------------------------------------

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _escape(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _attr(text: str) -> str:
    return _escape(text).replace('"', "&quot;")


def to_xml(record: MarcRecord) -> str:
    """The record as a MARCXML ``<record>`` (characters XML 1.0 cannot carry are left out)."""
    if record.plain:
        parts = ['<record xmlns="http://www.loc.gov/MARC21/slim"><leader>', record.leader, "</leader>"]
        add = parts.append
        for f in record.fields:
            if len(f) == 2:
                add(f'<controlfield tag="{f[0]}">{f[1]}</controlfield>')
            else:
                add(f'<datafield tag="{f[0]}" ind1="{f[1]}" ind2="{f[2]}">'
                    + "".join([f'<subfield code="{c}">{v}</subfield>' for c, v in f[3]]) + "</datafield>")
        add("</record>")
        return "".join(parts)
    parts = ['<record xmlns="http://www.loc.gov/MARC21/slim"><leader>', _escape(record.leader), "</leader>"]
    add = parts.append
    for f in record.fields:
        if len(f) == 2:
            add(f'<controlfield tag="{_attr(f[0])}">{_escape(f[1])}</controlfield>')
        else:
            add(f'<datafield tag="{_attr(f[0])}" ind1="{_attr(f[1])}" ind2="{_attr(f[2])}">')
            for code, value in f[3]:
                add(f'<subfield code="{_attr(code)}">{_escape(value)}</subfield>')
            add("</datafield>")
    add("</record>")
    xml = "".join(parts)
    return _NOT_XML.sub("", xml) if _NOT_XML.search(xml) else xml


# -- reading --------------------------------------------------------------------------------------

def _control_in_chunk(chunk: bytes | None) -> str:
    """The 001 of a record that could not be read, found by pattern if its directory lies ("" if none)."""
    if not chunk:
        return ""
    m = re.search(rb"\x1e([A-Za-z0-9:._-]{1,60})\x1e", chunk[24:])
    try:
        return m.group(1).decode("ascii") if m else ""
    except UnicodeDecodeError:
        return ""


def _reason(exc: BaseException | None) -> str:
    return type(exc).__name__ + (f": {exc}" if str(exc) else "") if exc is not None else "unreadable"


# Bytes that need escaping in XML or cannot be in it at all (besides MARC's own separators), and a
# subfield code that is not ASCII (pymarc repairs it with a warning).
_XML_SPECIAL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1c&<>\"]")
_ODD_CODE = re.compile(rb"\x1f[\x80-\xff]")


def _split_utf8(chunk: bytes) -> MarcRecord | None:
    """A well-formed UTF-8 record split into its fields as pymarc would (None: let pymarc read it).

    Well-formed: the directory's entries are contiguous and in order and each field ends where its entry
    says, so the data can be decoded once and split at the field terminators."""
    if chunk[9:10] != b"a" or _ODD_CODE.search(chunk):
        return None  # MARC-8 (pymarc converts it), or a subfield code pymarc has to repair
    try:
        base = int(chunk[12:17])
        if base <= 24 or base >= len(chunk) or len(chunk) < int(chunk[:5]):
            return None
        directory = chunk[24:base - 1].decode("ascii")
        size = len(directory)
        if size % 12 or not size or chunk[base - 1] != 0x1E:
            return None
        lengths = [int(directory[i + 3:i + 7]) for i in range(0, size, 12)]
        raw = chunk[base:-1]
        pieces = raw.split(b"\x1e")
        if pieces[-1] or [len(p) + 1 for p in pieces[:-1]] != lengths or \
                [int(directory[i + 7:i + 12]) for i in range(0, size, 12)] != list(accumulate(lengths, initial=0))[:-1]:
            return None
        texts = raw.decode("utf-8", "replace").split("\x1e")
        fields: list[tuple[Any, ...]] = []
        add = fields.append
        for i, text in zip(range(0, size, 12), texts, strict=False):
            tag = directory[i:i + 3]
            if tag < "010" and tag.isdigit():
                if "\ufffd" in text:
                    return None  # pymarc refuses bytes that are not UTF-8 in a control field
                add((tag, text))
                continue
            head, *subs = text.split("\x1f")
            if len(head) != 2 or not head.isascii():
                return None
            add((tag, head[0], head[1], [(s[0], s[1:]) for s in subs if s]))
        plain = _XML_SPECIAL.search(chunk) is None and b"\xef\xbf\xbe" not in chunk and b"\xef\xbf\xbf" not in chunk
        return MarcRecord(chunk[:24].decode("ascii"), fields, plain=plain)
    except (ValueError, UnicodeDecodeError):
        return None


def _iso(stream: BinaryIO) -> Iterator[tuple[int, MarcRecord | None, bytes, BaseException | None]]:
    """(position, record or None, the record's bytes, why not) for each record of an ISO 2709 stream, read
    as pymarc's MARCReader reads it (a length that cannot be trusted ends the file)."""
    position = 0
    while True:
        first5 = stream.read(5)
        if not first5:
            return
        position += 1
        if len(first5) < 5:
            yield position, None, first5, marc_errors.TruncatedRecord()
            return
        try:
            length = int(first5)
        except ValueError:
            yield position, None, first5, marc_errors.RecordLengthInvalid()
            return
        chunk = first5 + stream.read(length - 5)
        if len(chunk) < length:
            yield position, None, chunk, marc_errors.TruncatedRecord()
            return
        if chunk[-1] != 0x1D:
            yield position, None, chunk, marc_errors.EndOfRecordNotFound()
            return
        fast = _split_utf8(chunk)
        if fast is not None:
            yield position, fast, chunk, None
            continue
        try:
            record = Record(chunk, to_unicode=True, force_utf8=False, utf8_handling="replace")
        except Exception as exc:  # noqa: BLE001 - pymarc's refusal is the record's reason
            yield position, None, chunk, exc
            continue
        yield position, MarcRecord.of(record), chunk, None


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
        for position, record, chunk, exc in _iso(stream):
            if record is None:
                yield Unreadable(position, _control_in_chunk(chunk), _reason(exc))
            else:
                yield _parsed(position, record, holdings_tag, layout)
    finally:
        if isinstance(source, Path):
            stream.close()


def _parsed(position: int, record: MarcRecord, holdings_tag: str, layout: dict[str, str] | None) -> Read | Unreadable:
    try:
        return Read(position, parse(record, holdings_tag=holdings_tag, layout=layout))
    except (ValueError, KeyError, IndexError, AttributeError, TypeError) as err:
        try:
            number = control_number(record)
        except (ValueError, KeyError, IndexError, AttributeError, TypeError):
            number = ""
        return Unreadable(position, number, str(err))


class _Collect(XmlHandler):
    def process_record(self, record: Record) -> None:
        self.records.append(record)


def _read_xml(stream: BinaryIO, holdings_tag: str, layout: dict[str, str] | None) -> Iterator[Read | Unreadable]:
    """MARCXML with pymarc's handler, fed 1 MB at a time (a large file is not held in memory)."""
    handler = _Collect(strict=False)
    parser = xml.sax.make_parser()
    parser.setContentHandler(handler)
    parser.setFeature(xml.sax.handler.feature_namespaces, 1)
    position = 0
    try:
        while chunk := stream.read(1 << 20):
            parser.feed(chunk)  # type: ignore[attr-defined]
            for record in handler.records:
                position += 1
                yield _parsed(position, MarcRecord.of(record), holdings_tag, layout)
            handler.records.clear()
        parser.close()  # type: ignore[attr-defined]
    except Exception as err:  # noqa: BLE001 - a broken XML document: nothing after the break can be read
        yield Unreadable(position + 1, "", f"MARCXML cannot be read: {type(err).__name__}")
        return
    for record in handler.records:
        position += 1
        yield _parsed(position, MarcRecord.of(record), holdings_tag, layout)


def write_xml(xml_records: Iterable[str], out: BinaryIO) -> int:
    """A MARCXML collection of the stored records (each as imported)."""
    out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n<collection xmlns="http://www.loc.gov/MARC21/slim">\n')
    count = 0
    for xml_text in xml_records:
        body = re.sub(r"^<record[^>]*>", "<record>", xml_text.strip())
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
