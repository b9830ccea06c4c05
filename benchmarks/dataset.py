"""A national-size data set for the benchmarks: Kuulo with a country's patrons, loans, fees and mail.

    python -m benchmarks.dataset --scale small|national [--database-url URL] [--seed N]

Creates the schema with the app's migrations on an EMPTY database (it refuses a database that has
tables) and fills it with set-based inserts: ``COPY … FROM STDIN`` on PostgreSQL (psycopg's
``cursor.copy``), SQLAlchemy Core executemany in large batches on SQLite. The same seed gives the
same rows. ``national``:

    1,000,000 patrons (each with a registration and circulation data), 200,000 audiobooks (one track
    each), 3,000,000 e-loans (300,000 active), 1,000,000 returned physical loans plus 500,000 open,
    200,000 holds, 2,000,000 fee-ledger entries, 5,000,000 outbox messages (mostly sent),
    50,000 institution applications (approved ones with their institution account), 100 CD clubs
    with 20,000 members.

``small`` is 1/1000 of that (for CI). Times are relative to ``--now`` (default 2026-12-01 00:00 UTC):
run the app with KUULO_FAKE_NOW at or shortly after it, or active e-loans will have expired.
Every person patron's PIN is 1234 (one precomputed hash); staff accounts are printed at the end.
Identity hashes are HMAC-SHA256(IDENTITY_HASH_KEY, synthetic identity code), so the app finds them.

Without ``--database-url`` (or KUULO_BENCH_DATABASE_URL) a SQLite file in a temporary directory is used.
Prints per-table row counts and seconds, and the total time. Not a test.
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import hmac
import json
import math
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

DEFAULT_NOW = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
PIN = "1234"
STAFF_PASSWORD = "national-dataset-2026"
FIRST_CARD_NUMBER = 2000000001
BATCH = 10_000

# The national sizes; a scale multiplies each (never below 1).
NATIONAL = {
    "patrons": 1_000_000,
    "audiobooks": 200_000,
    "eloans": 3_000_000,
    "eloans_active": 300_000,
    "loans_returned": 1_000_000,
    "loans_open": 500_000,
    "holds": 200_000,
    "fees": 2_000_000,
    "outbox": 5_000_000,
    "applications": 50_000,
    "clubs": 100,
    "club_members": 20_000,
}
SCALES = {"national": 1.0, "small": 0.001}

# circulation library → (preset, branches, share of patrons, categories)
LIBRARIES = {
    "lumme": ("lumme", ["mikkeli", "savonlinna", "varkaus", "pieksamaki", "juva"], 0.35, ["adult", "child"]),
    "outi": ("outi", ["oulu_main"], 0.25, ["adult", "child"]),
    "tampere": ("tampere", ["linna", "arvo", "hervanta"], 0.2, ["student", "staff"]),
    "czech": ("czech", ["main"], 0.2, ["adult", "child"]),
}
WEEK = {"mon": "10:00-19:00", "tue": "10:00-19:00", "wed": "10:00-19:00", "thu": "10:00-19:00",
        "fri": "10:00-18:00", "sat": "10:00-15:00"}
CLOSING = {0: (19, 0), 1: (19, 0), 2: (19, 0), 3: (19, 0), 4: (18, 0), 5: (15, 0)}  # weekday → closing time

GIVEN = ["Aino", "Eero", "Helmi", "Ilmari", "Kerttu", "Lauri", "Maija", "Niilo", "Oona", "Pekka", "Saara",
         "Tuomas", "Venla", "Ville", "Elsa", "Onni", "Astrid", "Erik", "Ingrid", "Johan"]
SURNAMES = ["Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen",
            "Koskinen", "Järvinen", "Lehtonen", "Saarinen", "Lindholm", "Nyström", "Salo", "Turunen"]
CITIES = [("00100", "Helsinki"), ("33100", "Tampere"), ("90100", "Oulu"), ("20100", "Turku"),
          ("50100", "Mikkeli"), ("65100", "Vaasa"), ("40100", "Jyväskylä"), ("70100", "Kuopio")]
STREETS = ["Kirkkokatu", "Rantatie", "Koulukatu", "Mäntytie", "Koivukuja", "Asemakatu", "Puistotie"]
BASES = ("visual_impairment", "reading_disability", "physical_disability", "intellectual_disability",
         "memory_disorder", "other")
LANGS = ("fi", "fi", "fi", "fi", "sv", "en")
CHECK_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
BIRTH_EPOCH = date(1930, 1, 1)
BIRTH_DAYS = 29_220  # 80 years of birth dates


def sizes_for(scale: str, factor: float | None = None) -> dict[str, int]:
    """The row counts of ``scale`` (or of ``factor`` × national, for tests)."""
    f = SCALES[scale] if factor is None else factor
    sizes = {name: max(1, round(n * f)) for name, n in NATIONAL.items()}
    sizes["eloans_active"] = min(sizes["eloans_active"], sizes["eloans"])
    sizes["club_members"] = min(sizes["club_members"], sizes["patrons"])
    return sizes


def identity_code(n: int) -> str:
    """A valid Finnish identity code, different for every n < 26,000,000 (synthetic people)."""
    day, individual = n % BIRTH_DAYS, 2 + n // BIRTH_DAYS
    ddmmyy, sign, number = _birth_days()[day]
    return f"{ddmmyy}{sign}{individual:03d}{CHECK_CHARS[(number * 1000 + individual) % 31]}"


@functools.cache
def _birth_days() -> list[tuple[str, str, int]]:
    """Per birth day: "DDMMYY", the century sign and DDMMYY as a number (for the check character)."""
    days = []
    for day in range(BIRTH_DAYS):
        born = BIRTH_EPOCH + timedelta(days=day)
        ddmmyy = f"{born:%d%m}{born.year % 100:02d}"
        days.append((ddmmyy, "-" if born.year < 2000 else "A", int(ddmmyy)))
    return days


def identity_hasher(key: str) -> Callable[[int], str]:
    """n → HMAC-SHA256(key, identity_code(n)), as app/accounts/identity.py computes it (keyed once, copied)."""
    keyed = hmac.new(key.encode(), digestmod=hashlib.sha256)

    def hash_of(n: int) -> str:
        h = keyed.copy()
        h.update(identity_code(n).encode())
        return h.hexdigest()

    return hash_of


def birth_date_of(n: int) -> date:
    return BIRTH_EPOCH + timedelta(days=n % BIRTH_DAYS)


def business_id(n: int) -> str:
    """A Y-tunnus with a valid check digit (numbers whose remainder is 1 move on by one)."""
    base = 1_000_000 + (n * 7) % 8_000_000
    while True:
        digits = f"{base:07d}"
        rest = sum(int(d) * w for d, w in zip(digits, (7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
        if rest != 1:
            return f"{digits}-{0 if rest == 0 else 11 - rest}"
        base += 1


# ----------------------------------------------------------------- writing rows

@dataclass
class Writer:
    """Writes rows (tuples in ``columns`` order) into one table: COPY on PostgreSQL, executemany elsewhere."""

    engine: Any
    report: list[tuple[str, int, float]] = field(default_factory=list)

    @property
    def postgresql(self) -> bool:
        return bool(self.engine.dialect.name == "postgresql")

    def write(self, table: Any, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
        started = time.perf_counter()
        count = self._copy(table, columns, rows) if self.postgresql else self._executemany(table, columns, rows)
        elapsed = time.perf_counter() - started
        self.report.append((table.name, count, elapsed))
        print(f"  {table.name:<34} {count:>10,} rows {elapsed:8.1f} s", flush=True)
        return count

    def _executemany(self, table: Any, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
        from sqlalchemy import insert

        statement, count, batch = insert(table), 0, []
        with self.engine.begin() as conn:
            for row in rows:
                batch.append(dict(zip(columns, row, strict=True)))
                if len(batch) >= BATCH:
                    conn.execute(statement, batch)
                    count, batch = count + len(batch), []
            if batch:
                conn.execute(statement, batch)
                count += len(batch)
        return count

    def _copy(self, table: Any, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
        from sqlalchemy import JSON

        # JSON columns go as text; aware UTC datetimes may go as they are: a timestamp column ignores the
        # "+00:00" of its input, which is right because every value here is UTC.
        json_at = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON)]
        count = 0
        raw = self.engine.raw_connection()
        try:
            with raw.driver_connection.cursor() as cur:
                names = ", ".join(f'"{c}"' for c in columns)
                with cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                    for row in rows:
                        if json_at:
                            row = list(row)
                            for i in json_at:
                                row[i] = json.dumps(row[i])
                        copy.write_row(row)
                        count += 1
            raw.driver_connection.commit()
        finally:
            raw.close()
        return count


# ----------------------------------------------------------------- PostgreSQL: constraints after the data

LOADED_TABLES = ("patrons", "registrations", "circ_patrons", "lending_audiobooks", "lending_tracks", "lending_loans",
                 "circ_items", "circ_loans", "circ_holds", "circ_fee_entries", "outbox_messages",
                 "institution_applications", "institution_accounts", "cdclub_clubs", "cdclub_members")


@dataclass
class Deferred:
    """The DDL to put back: secondary indexes, unique constraints and foreign keys of the loaded tables."""

    indexes: list[str]
    constraints: list[str]  # ALTER TABLE … ADD CONSTRAINT …: unique keys first, then foreign keys


def defer_constraints(engine: Any, tables: Sequence[str]) -> Deferred:
    """Drop the loaded tables' secondary indexes, unique and foreign keys (PostgreSQL), remembering their exact
    definitions: COPY into bare tables, then one sort per index and one join per foreign key, is many times
    faster than keeping them up to date row by row (a foreign key check is a trigger per row). Primary keys
    and check constraints stay. ``restore_constraints`` puts everything back under the same names, so the
    schema ends exactly as the migrations made it (and every foreign key is validated over all rows)."""
    from sqlalchemy import text

    with engine.begin() as conn:
        constraints = conn.execute(text(
            "SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
            "WHERE n.nspname = current_schema() AND t.relname = ANY(:tables) AND c.contype IN ('u', 'f') "
            "ORDER BY c.contype DESC, c.conname"), {"tables": list(tables)}).all()  # 'u' before 'f'
        indexes = conn.execute(text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename = ANY(:tables) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass) "
            "ORDER BY i.indexname"), {"tables": list(tables)}).all()
        for table, name, _kind, _definition in reversed(constraints):  # foreign keys first
            conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
        for name, _definition in indexes:
            conn.execute(text(f'DROP INDEX "{name}"'))
    return Deferred([d for _n, d in indexes],
                    [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
                     for table, name, _kind, definition in constraints])


def restore_constraints(engine: Any, deferred: Deferred) -> None:
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        for statement in [*deferred.indexes, *deferred.constraints]:
            conn.execute(text(statement))


# ----------------------------------------------------------------- the data set

@dataclass
class Setup:
    """What the small, service-made part of the data set gave: ids the bulk rows refer to."""

    account_library_ids: list[int]
    circ_library_ids: list[int]
    library_codes: list[str]
    branches: list[list[Any]]  # per library: (id, code, timezone)
    staff_ids: dict[str, int]


class Dataset:
    def __init__(self, url: str, sizes: dict[str, int], seed: int, now: datetime) -> None:
        from app import create_app

        self.url, self.sizes, self.seed, self.now = url, sizes, seed, now
        self.app = create_app({"DATABASE_URL": url, "TESTING": True, "FAKE_NOW": now.isoformat()})
        self.identity_key = self.app.config["IDENTITY_HASH_KEY"]

    def rng(self, salt: int) -> random.Random:
        return random.Random(self.seed * 1_000_003 + salt)

    # ------------------------------------------------------------- driver

    def build(self) -> list[tuple[str, int, float]]:
        from app import db

        started = time.perf_counter()
        engine = db.engine(self.app)
        self._check_empty(engine)
        t0 = time.perf_counter()
        db.create_schema(self.app)
        print(f"  {'(schema: migrations)':<34} {'':>10}      {time.perf_counter() - t0:8.1f} s", flush=True)
        t0 = time.perf_counter()
        setup = self._setup()
        print(f"  {'(libraries, branches, staff)':<34} {'':>10}      {time.perf_counter() - t0:8.1f} s", flush=True)
        w = Writer(engine)
        deferred = defer_constraints(engine, LOADED_TABLES) if w.postgresql else None
        self._patrons(w, setup)
        self._lending(w)
        self._circulation(w, setup)
        self._fees(w, setup)
        self._outbox(w)
        self._institutions(w, setup)
        self._cdclub(w)
        if deferred is not None:
            t0 = time.perf_counter()
            restore_constraints(engine, deferred)
            print(f"  {'(indexes, unique keys, foreign keys)':<34} {'':>10}      {time.perf_counter() - t0:8.1f} s",
                  flush=True)
        t0 = time.perf_counter()
        self._finish(engine)
        print(f"  {'(sequences, counters, ANALYZE)':<34} {'':>10}      {time.perf_counter() - t0:8.1f} s", flush=True)
        total_rows = sum(n for _t, n, _s in w.report)
        print(f"total: {total_rows:,} rows in {time.perf_counter() - started:.1f} s "
              f"({engine.dialect.name}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)", flush=True)
        engine.dispose()
        return w.report

    def _check_empty(self, engine: Any) -> None:
        from sqlalchemy import inspect

        tables = inspect(engine).get_table_names()
        if tables:
            raise SystemExit(f"the database is not empty ({len(tables)} tables, e.g. {tables[0]}): "
                             "give an empty database (e.g. createdb kuulo_national)")

    def _setup(self) -> Setup:
        from app import db
        from app.accounts import service as accounts
        from app.circulation import service as circulation

        now = self.now
        with self.app.app_context(), db.get_sessionmaker(self.app).begin() as s:
            account_ids, circ_ids, branches = [], [], []
            for code, (preset, branch_codes, _share, _cats) in LIBRARIES.items():
                account = accounts.get_or_create_library(s, code, code.title(), code.title())
                circ = circulation.create_library(s, code=code, name=code.title(), preset=preset, now=now,
                                                  accounts_library_id=account.id)
                group = []
                for branch_code in branch_codes:
                    branch = circulation.add_branch(s, library_code=code, code=branch_code, name=branch_code.title())
                    circulation.add_calendar_version(s, branch_id=branch.id, valid_from=date(2020, 1, 1), weekly=WEEK,
                                                     now=now, actor="dataset")
                    group.append((branch.id, branch.code, branch.timezone))
                account_ids.append(account.id)
                circ_ids.append(circ.id)
                branches.append(group)
            staff = {}
            for email, roles in (("admin@national.kuulo.test", ["admin", "librarian", "reviewer", "producer",
                                                                "status_editor", "circulation-supervisor"]),
                                 ("reviewer@national.kuulo.test", ["reviewer"]),
                                 ("librarian@national.kuulo.test", ["librarian", "circulation"])):
                user = accounts.create_staff_user(s, email=email, name=email.split("@")[0].title(),
                                                  password=STAFF_PASSWORD, roles=roles, library=None, now=now,
                                                  actor="dataset", language="en")
                staff[email.split("@")[0]] = user.id
        return Setup(account_ids, circ_ids, list(LIBRARIES), branches, staff)

    # ------------------------------------------------------------- patrons

    def library_of(self, patron_index: int) -> int:
        """The library (index into LIBRARIES) of a person patron: fixed shares, spread by the index."""
        x = (patron_index * 2654435761) % 1000 / 1000
        acc = 0.0
        for i, (_p, _b, share, _c) in enumerate(LIBRARIES.values()):
            acc += share
            if x < acc:
                return i
        return len(LIBRARIES) - 1

    def _patrons(self, w: Writer, setup: Setup) -> None:
        from app.accounts.identity import masked
        from app.accounts.models import Patron
        from app.accounts.service import hash_secret
        from app.circulation.models import PatronCirculation
        from app.registration.models import Registration

        n = self.sizes["patrons"]
        pin_hash = hash_secret(PIN)  # one slow hash, shared by every generated patron
        id_hash = identity_hasher(self.identity_key)
        now = self.now
        seed = self.seed

        def extra(i: int) -> tuple[int, int, int, int, int]:
            """Given name, surname, city, language and account age (days) of person i: a cheap mix of i and the seed."""
            x = ((i + 1) * 2654435761 + seed * 40503) & 0xFFFFFFFF
            return (x % len(GIVEN), (x >> 5) % len(SURNAMES), (x >> 9) % len(CITIES), (x >> 12) % len(LANGS),
                    (x >> 15) % 3650)

        def patrons() -> Iterator[tuple[Any, ...]]:
            for i in range(n):
                pid = i + 1
                given, surname, _city, lang, age_days = extra(i)
                h = id_hash(i)
                yield (pid, str(FIRST_CARD_NUMBER - 1 + pid), "person", f"{GIVEN[given]} {SURNAMES[surname]}",
                       f"patron{pid}@example.invalid", "", LANGS[lang],
                       setup.account_library_ids[self.library_of(i)], h, birth_date_of(i), pin_hash, None, True,
                       now - timedelta(days=age_days))

        w.write(Patron.__table__, ("id", "card_number", "kind", "name", "email", "phone", "language",
                                   "home_library_id", "national_id_hash", "birth_date", "pin_hash", "password_hash",
                                   "active", "created_at"), patrons())

        def registrations() -> Iterator[tuple[Any, ...]]:
            for i in range(n):
                given, surname, city, _lang, age_days = extra(i)
                code = identity_code(i)
                born = birth_date_of(i)
                minor = (now.date() - born).days < 18 * 365
                yield (i + 1, i + 1, id_hash(i), masked(code), born, GIVEN[given], SURNAMES[surname],
                       f"{STREETS[i % len(STREETS)]} {1 + i % 90}", CITIES[city][0], CITIES[city][1],
                       BASES[i % len(BASES)], "", ["audiobook"] if i % 4 else ["audiobook", "e_text"],
                       "Guardian" if minor else "", "guardian@example.invalid" if minor else "", minor,
                       setup.account_library_ids[self.library_of(i)], setup.staff_ids["librarian"],
                       "api" if i % 3 == 0 else "form", now - timedelta(days=age_days))

        w.write(Registration.__table__, ("id", "patron_id", "national_id_hash", "masked_national_id", "birth_date",
                                         "given_names", "surname", "street_address", "postal_code", "city",
                                         "eligibility_basis", "eligibility_note", "preferred_formats",
                                         "guardian_name", "guardian_contact", "guardian_consent", "library_id",
                                         "registered_by_id", "channel", "created_at"), registrations())

        def circ_patrons() -> Iterator[tuple[Any, ...]]:
            for i in range(n):
                lib = self.library_of(i)
                cats = list(LIBRARIES.values())[lib][3]
                branch = setup.branches[lib][i % len(setup.branches[lib])]
                letter = i % 10 < 3
                yield (i + 1, setup.circ_library_ids[lib], cats[1] if i % 5 == 0 else cats[0], None, branch[0],
                       None, now - timedelta(days=extra(i)[4]), ["email", "letter"] if letter else ["email"],
                       f"{STREETS[i % len(STREETS)]} {1 + i % 90}" if letter else "", None, False, False, None,
                       False, False, now - timedelta(days=extra(i)[4]))

        w.write(PatronCirculation.__table__, (
            "patron_id", "library_id", "category", "responsible_patron_id", "home_branch_id", "card_expires_on",
            "membership_validated_at", "notice_channels", "postal_address", "advance_notice_days",
            "notices_opted_out", "receipts_by_email", "hold_nickname", "billing_banned", "in_collection",
            "created_at"), circ_patrons())

    # ------------------------------------------------------------- lending

    def _lending(self, w: Writer) -> None:
        from app.lending.models import Audiobook, AudiobookTrack, EbookLoan

        nb, n_patrons, now = self.sizes["audiobooks"], self.sizes["patrons"], self.now
        rng = self.rng(2)

        def books() -> Iterator[tuple[Any, ...]]:
            for i in range(nb):
                bid = i + 1
                digest = hashlib.sha256(f"book:{self.seed}:{bid}".encode()).hexdigest()  # 200k cheap hashes
                duration = float(rng.randrange(3600, 60 * 3600))
                added = now - timedelta(days=rng.randrange(3650))
                yield (bid, f"urn:uuid:{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}",
                       f"Audiobook {bid}", f"{GIVEN[bid % len(GIVEN)]} {SURNAMES[bid % len(SURNAMES)]}",
                       f"{GIVEN[(bid * 7) % len(GIVEN)]} {SURNAMES[(bid * 3) % len(SURNAMES)]}", LANGS[bid % 6],
                       duration, int(duration * 8000), f"audiobooks/{digest[:16]}/{digest[16:32]}/", digest,
                       f"book{bid}", [{"title": f"Audiobook {bid}", "track": 1, "start": 0.0, "children": []}],
                       bid % 50 != 0, None, None, added, added)

        w.write(Audiobook.__table__, ("id", "identifier", "title", "author", "narrator", "language", "duration",
                                      "size", "storage_prefix", "content_hash", "source_name", "toc", "available",
                                      "cover_key", "cover_type", "added_at", "updated_at"), books())

        def tracks() -> Iterator[tuple[Any, ...]]:
            for i in range(nb):
                bid = i + 1
                digest = hashlib.sha256(f"book:{self.seed}:{bid}".encode()).hexdigest()
                yield (bid, bid, 1, f"Audiobook {bid}", f"audiobooks/{digest[:16]}/{digest[16:32]}/01.mp3",
                       "audio/mpeg", 3600.0, 64, 28_800_000, digest)

        w.write(AudiobookTrack.__table__, ("id", "audiobook_id", "number", "title", "storage_key", "media_type",
                                           "duration", "bitrate", "size", "sha256"), tracks())

        total, active = self.sizes["eloans"], self.sizes["eloans_active"]
        per = min(3, nb)  # active loans per borrowing patron, each of another book
        borrowers = rng.sample(range(n_patrons), min(n_patrons, math.ceil(active / per)))

        def eloans() -> Iterator[tuple[Any, ...]]:
            for k in range(total):
                lid = k + 1
                if k < active:
                    patron = borrowers[k // per] + 1
                    book = (patron * 7919 + k % per) % nb + 1
                    started = now - timedelta(days=rng.randrange(0, 20), minutes=rng.randrange(1440))
                    until = started + timedelta(days=21)
                    if until <= now:
                        until = now + timedelta(days=1 + k % 14)
                    yield (lid, patron, book, f"{patron}:{book}", started, until, 0, None, None, started)
                else:
                    patron = rng.randrange(n_patrons) + 1
                    book = rng.randrange(nb) + 1
                    started = now - timedelta(days=rng.randrange(22, 1500), minutes=rng.randrange(1440))
                    until = started + timedelta(days=21)
                    returned = k % 3 == 0
                    ended = started + timedelta(days=rng.randrange(1, 21)) if returned else until
                    yield (lid, patron, book, None, started, until, 0, ended, "returned" if returned else "expired",
                           ended)

        w.write(EbookLoan.__table__, ("id", "patron_id", "audiobook_id", "active_key", "started_at", "until",
                                      "renewals", "ended_at", "end_reason", "updated_at"), eloans())

    # ------------------------------------------------------------- circulation

    def _circulation(self, w: Writer, setup: Setup) -> None:
        from app.circulation.fines import effective_fine_model
        from app.circulation.models import Hold, Item, Loan
        from app.circulation.notices import ContactChannels, PatronNoticeFacts, next_notice_date
        from app.circulation.presets import load_preset

        now, rng = self.now, self.rng(3)
        n_patrons = self.sizes["patrons"]
        n_open, n_returned, n_holds = self.sizes["loans_open"], self.sizes["loans_returned"], self.sizes["holds"]
        n_ready = max(1, n_holds // 10)
        n_shelf = max(1, n_open // 2)  # copies on the shelf (available)
        n_items = n_open + n_shelf + n_ready
        presets = [load_preset(p) for p, _b, _s, _c in LIBRARIES.values()]
        cats = [c for _p, _b, _s, c in LIBRARIES.values()]

        def item_library(item_index: int) -> int:
            return self.library_of(item_index * 7 + 3)

        def item_branch(item_index: int) -> Any:
            group = setup.branches[item_library(item_index)]
            return group[item_index % len(group)]

        def items() -> Iterator[tuple[Any, ...]]:
            for i in range(n_items):
                lib = item_library(i)
                branch = item_branch(i)
                status = "on_loan" if i < n_open else ("available" if i < n_open + n_shelf else "on_hold_shelf")
                yield (i + 1, f"N{i + 1:010d}", f"rec:{i // 3}", f"Book {i // 3}", setup.circ_library_ids[lib],
                       "book", None, i % 10 == 0, True, True, 3000 if presets[lib].currency == "EUR" else 30000,
                       presets[lib].currency, branch[0], branch[0], status, now - timedelta(days=i % 3000))

        w.write(Item.__table__, ("id", "barcode", "record_key", "title", "library_id", "material_type", "age_rating",
                                 "is_childrens_material", "holdable", "transportable", "replacement_price_minor",
                                 "currency", "home_branch_id", "current_branch_id", "status", "created_at"), items())

        rules_cache: dict[tuple[Any, ...], Any] = {}
        schedule_cache: dict[tuple[Any, ...], date | None] = {}

        by_library: list[list[int]] | None = None
        if n_patrons <= 100_000:  # few patrons: a library may have none, so pick from lists
            by_library = [[] for _ in LIBRARIES]
            for i in range(n_patrons):
                by_library[self.library_of(i)].append(i)

        def patron_in(lib: int) -> int:
            """A random person patron of library ``lib`` (any patron when the library has none)."""
            if by_library is not None:
                group = by_library[lib] or range(n_patrons)
                return group[rng.randrange(len(group))]
            while True:  # the shares make this a few tries
                i = rng.randrange(n_patrons)
                if self.library_of(i) == lib:
                    return i

        def loan_row(lid: int, item_index: int, open_: bool) -> tuple[Any, ...]:
            lib = item_library(item_index)
            branch = item_branch(item_index)
            policy = presets[lib]
            pi = patron_in(lib)
            category = cats[lib][1] if pi % 5 == 0 else cats[lib][0]
            childrens = item_index % 10 == 0
            if open_:
                overdue = rng.random() < 0.10
                due = now.date() - timedelta(days=rng.randint(1, 60)) if overdue else \
                    now.date() + timedelta(days=rng.randint(0, 27))
            else:
                due = now.date() - timedelta(days=rng.randint(20, 1500))
            while due.weekday() == 6:  # Sundays are closed
                due += timedelta(days=1)
            out = due - timedelta(days=28)
            hour, minute = CLOSING[due.weekday()]
            due_at = datetime.combine(due, clock_time(hour, minute), tzinfo=ZoneInfo(branch[2])).astimezone(UTC)
            key = (lib, branch[1], category, childrens)
            if key not in rules_cache:
                rules = policy.rules_for(branch[1], category, "book")
                rules_cache[key] = (effective_fine_model(rules, is_childrens_material=childrens), rules.grace_days)
            fine, grace = rules_cache[key]
            next_on = None
            if open_:
                skey = (lib, due, category, childrens)
                if skey not in schedule_cache:
                    facts = PatronNoticeFacts(category=category, contacts=ContactChannels(), advance_notice_days=None)
                    schedule_cache[skey] = next_notice_date(due_date=due, after=out - timedelta(days=1),
                                                            already_sent=(), patron=facts,
                                                            is_childrens_material=childrens, policy=policy)
                next_on = schedule_cache[skey]
            returned_at = None if open_ else datetime.combine(due - timedelta(days=rng.randrange(0, 20)),
                                                              clock_time(12), tzinfo=UTC)
            return (lid, item_index + 1, pi + 1, setup.circ_library_ids[lib], branch[0], "desk",
                    datetime.combine(out, clock_time(12), tzinfo=UTC), due_at, due.toordinal(), 0,
                    "open" if open_ else "returned", fine.model, fine.amount.minor if fine.amount else 0,
                    fine.cap.minor if fine.cap else None, grace, policy.currency, 0, next_on,
                    returned_at, returned_at.date() if returned_at else None, None if open_ else branch[0],
                    None if open_ else "desk")

        def loans() -> Iterator[tuple[Any, ...]]:
            for k in range(n_returned):  # history first (older ids), on any copy
                yield loan_row(k + 1, rng.randrange(n_items), False)
            for k in range(n_open):  # one open loan per copy on loan
                yield loan_row(n_returned + k + 1, k, True)

        w.write(Loan.__table__, ("id", "item_id", "patron_id", "library_id", "branch_id", "channel",
                                 "checked_out_at", "due_at", "due_day", "renewals", "status", "fine_model",
                                 "fine_amount_minor", "fine_cap_minor", "grace_days", "currency",
                                 "accrued_fine_minor", "next_notice_on", "returned_at", "returned_on",
                                 "return_branch_id", "return_method"), loans())

        def holds() -> Iterator[tuple[Any, ...]]:
            for k in range(n_holds):
                hid = k + 1
                placed = now - timedelta(days=rng.randrange(1, 120), minutes=rng.randrange(1440))
                if k < n_ready:  # ready on the pickup shelf, with its own copy
                    item_index = n_open + n_shelf + k
                    lib = item_library(item_index)
                    branch = item_branch(item_index)
                    ready = now - timedelta(days=rng.randrange(0, 6))
                    placed = ready - timedelta(days=rng.randrange(1, 60))
                    last = ready.date() + timedelta(days=7)
                    yield (hid, patron_in(lib) + 1, setup.circ_library_ids[lib], f"rec:{item_index // 3}",
                           branch[0], "ready", placed, item_index + 1, ready, last,
                           datetime.combine(last + timedelta(days=1), clock_time(0), tzinfo=UTC), f"{hid:06d}",
                           None, None, None, None)
                    continue
                item_index = rng.randrange(n_open)  # a title whose copy is out
                lib = item_library(item_index)
                branch = item_branch(item_index)
                state = ("waiting", "waiting", "waiting", "waiting", "waiting", "waiting", "collected", "collected",
                         "cancelled", "expired")[k % 10]
                closed = placed + timedelta(days=10) if state in ("collected", "cancelled", "expired") else None
                yield (hid, patron_in(lib) + 1, setup.circ_library_ids[lib], f"rec:{item_index // 3}", branch[0],
                       state, placed, None, None, None, None, None, None,
                       closed if state == "cancelled" else None, "patron" if state == "cancelled" else None, closed)

        w.write(Hold.__table__, ("id", "patron_id", "library_id", "record_key", "pickup_branch_id", "state",
                                 "placed_at", "item_id", "ready_at", "last_pickup_day", "pickup_expires_at",
                                 "hold_identifier", "suspended_until", "cancelled_at", "cancelled_by", "closed_at"),
                holds())

    # ------------------------------------------------------------- fees

    def _fees(self, w: Writer, setup: Setup) -> None:
        from app.circulation.models import FeeEntry

        now, rng, total = self.now, self.rng(4), self.sizes["fees"]
        n_patrons = self.sizes["patrons"]
        from app.circulation.presets import load_preset

        presets_currency = {i: load_preset(p).currency for i, (p, _b, _s, _c) in enumerate(LIBRARIES.values())}

        def fees() -> Iterator[tuple[Any, ...]]:
            fid = 0
            while fid < total:
                pi = rng.randrange(n_patrons)
                lib = self.library_of(pi)
                currency = presets_currency[lib]
                amount = rng.randrange(50, 500) * (10 if currency == "CZK" else 1)
                when = now - timedelta(days=rng.randrange(1, 1500), minutes=rng.randrange(1440))
                fid += 1
                debit = fid
                kind = "overdue_fine" if fid % 3 else "notice_fee"
                yield (debit, pi + 1, setup.circ_library_ids[lib], "debit", kind, amount, currency, "", None, None,
                       None, None, None, f"dataset:{debit}", when, "dataset")
                if fid < total and rng.random() < 0.43:  # about 30 % of the entries settle a debit in full
                    fid += 1
                    yield (fid, pi + 1, setup.circ_library_ids[lib], "credit", "waiver", -amount, currency, "",
                           None, None, None, None, debit, None, when + timedelta(days=5), "dataset")

        w.write(FeeEntry.__table__, ("id", "patron_id", "library_id", "entry", "kind", "amount_minor", "currency",
                                     "reason", "loan_id", "hold_id", "notice_step", "payment_id", "applies_to_id",
                                     "dedup_key", "created_at", "actor"), fees())

    # ------------------------------------------------------------- outbox

    def _outbox(self, w: Writer) -> None:
        from app.notify.models import OutboxMessage

        now, rng, total = self.now, self.rng(5), self.sizes["outbox"]
        n_patrons = self.sizes["patrons"]
        templates = ("due_reminder", "overdue_notice", "hold_ready", "credentials", "registration_welcome")

        def messages() -> Iterator[tuple[Any, ...]]:
            for k in range(total):
                mid = k + 1
                pid = rng.randrange(n_patrons) + 1
                template = templates[k % len(templates)]
                created = now - timedelta(minutes=(total - k) * 525_600 // total)  # a year, oldest first
                roll = k % 100
                status = "pending" if roll == 0 else ("failed" if roll == 1 else "sent")
                sent = created + timedelta(seconds=30) if status == "sent" else None
                yield (mid, f"dataset:{template}:{mid}", "email", f"patron{pid}@example.invalid", LANGS[pid % 6],
                       template, f"Kuulo: {template.replace('_', ' ')}", f"Message {mid} for patron {pid}.\n",
                       {}, status, 5 if status == "failed" else (0 if status == "pending" else 1),
                       created if status == "pending" else created + timedelta(minutes=5), None, "",
                       "550 mailbox unavailable" if status == "failed" else "", created, sent)

        w.write(OutboxMessage.__table__, ("id", "key", "channel", "recipient", "language", "template", "subject",
                                          "body", "context", "status", "attempts", "next_attempt_at", "lease_until",
                                          "lease_owner", "last_error", "created_at", "sent_at"), messages())

    # ------------------------------------------------------------- institutions

    def _institutions(self, w: Writer, setup: Setup) -> None:
        from app.accounts.identity import masked
        from app.accounts.models import Patron
        from app.institutions.models import InstitutionAccount, InstitutionApplication

        now, rng, total = self.now, self.rng(6), self.sizes["applications"]
        id_hash = identity_hasher(self.identity_key)
        first_patron = self.sizes["patrons"] + 1
        types = ("school", "daycare", "care_home", "library", "other")
        # submitted, in review, waiting for information, approved, rejected: 4 / 2 / 2 / 70 / 22 %
        plan = []
        for k in range(total):
            roll = (k * 37) % 100
            plan.append("submitted" if roll < 4 else "in_review" if roll < 6 else "needs_information" if roll < 8
                        else "approved" if roll < 78 else "rejected")
        approved = [k for k, state in enumerate(plan) if state == "approved"]
        patron_of = {k: first_patron + n for n, k in enumerate(approved)}
        pin_hash = None  # institutions get credentials by a one-time link; none here

        def people(k: int) -> tuple[str, str, date]:
            code = identity_code(self.sizes["patrons"] + k)  # responsible persons: other synthetic people
            return (id_hash(self.sizes["patrons"] + k), masked(code),
                    birth_date_of(self.sizes["patrons"] + k))

        def inst_patrons() -> Iterator[tuple[Any, ...]]:
            for k in approved:
                pid = patron_of[k]
                yield (pid, str(FIRST_CARD_NUMBER - 1 + pid), "institution", f"Institution {k + 1}",
                       f"institution{k + 1}@example.invalid", "", "fi", setup.account_library_ids[k % 4], None, None,
                       pin_hash, None, True, now - timedelta(days=1 + k % 900))

        w.write(Patron.__table__, ("id", "card_number", "kind", "name", "email", "phone", "language",
                                   "home_library_id", "national_id_hash", "birth_date", "pin_hash", "password_hash",
                                   "active", "created_at"), inst_patrons())

        def applications() -> Iterator[tuple[Any, ...]]:
            for k, state in enumerate(plan):
                aid = k + 1
                h, m, born = people(k)
                postal, city = CITIES[k % len(CITIES)]
                open_ = state in ("submitted", "in_review", "needs_information")
                submitted = now - timedelta(days=rng.randrange(1, 20) if open_ else rng.randrange(30, 1500),
                                            minutes=rng.randrange(1440))
                decided = submitted + timedelta(days=rng.randrange(1, 15)) if not open_ else None
                yield (aid, state, f"Institution {aid}", types[k % 5], business_id(k), f"{STREETS[k % 7]} {k % 90 + 1}",
                       postal, city, f"institution{aid}@example.invalid", "+358401234567", LANGS[k % 6],
                       GIVEN[k % len(GIVEN)], SURNAMES[k % len(SURNAMES)], h, m, born,
                       f"rp{aid}@example.invalid", "", "2026-01", submitted, submitted,
                       setup.staff_ids["reviewer"] if state == "in_review" else None,
                       now + timedelta(hours=2) if state == "in_review" else None,
                       submitted + timedelta(days=1) if state == "needs_information" else None, 0,
                       decided, setup.staff_ids["reviewer"] if decided else None,
                       (decided - submitted).days if decided else None,
                       "Not eligible." if state == "rejected" else "", patron_of.get(k))

        w.write(InstitutionApplication.__table__, (
            "id", "state", "name", "type", "business_id", "street_address", "postal_code", "city", "email", "phone",
            "language", "rp_given_names", "rp_surname", "rp_national_id_hash", "rp_national_id_masked",
            "rp_birth_date", "rp_email", "rp_phone", "consent_text_version", "consent_given_at", "submitted_at",
            "claimed_by_id", "claim_expires_at", "information_requested_at", "paused_business_days", "decided_at",
            "decided_by_id", "processing_business_days", "rejection_reason", "patron_id"), applications())

        def accounts() -> Iterator[tuple[Any, ...]]:
            for n, k in enumerate(approved):
                h, m, born = people(k)
                postal, city = CITIES[k % len(CITIES)]
                yield (n + 1, patron_of[k], k + 1, business_id(k), types[k % 5], f"{STREETS[k % 7]} {k % 90 + 1}",
                       postal, city, f"{GIVEN[k % len(GIVEN)]} {SURNAMES[k % len(SURNAMES)]}", h, m, born,
                       f"rp{k + 1}@example.invalid", "", None, now - timedelta(days=1 + k % 900))

        w.write(InstitutionAccount.__table__, (
            "id", "patron_id", "application_id", "business_id", "type", "street_address", "postal_code", "city",
            "rp_name", "rp_national_id_hash", "rp_national_id_masked", "rp_birth_date", "rp_email", "rp_phone",
            "responsible_patron_id", "created_at"), accounts())

    # ------------------------------------------------------------- CD clubs

    def _cdclub(self, w: Writer) -> None:
        from app.cdclub.models import Club, ClubMember

        now, n_clubs, n_members = self.now, self.sizes["clubs"], self.sizes["club_members"]
        n_patrons = self.sizes["patrons"]

        def clubs() -> Iterator[tuple[Any, ...]]:
            for c in range(n_clubs):
                yield (c + 1, f"club{c + 1:03d}", f"Kerho {c + 1}", f"Klubb {c + 1}", f"Club {c + 1}", "", "", "",
                       3, 14, "online" if c % 4 == 0 else "cd", True, now - timedelta(days=400))

        w.write(Club.__table__, ("id", "code", "name_fi", "name_sv", "name_en", "description_fi", "description_sv",
                                 "description_en", "books_per_period", "disc_cap", "delivery_format", "active",
                                 "created_at"), clubs())
        stride = max(1, n_patrons // n_members)

        def members() -> Iterator[tuple[Any, ...]]:
            for k in range(n_members):  # distinct patrons, so (club, patron) is unique
                pid = (k * stride) % n_patrons + 1
                joined = now - timedelta(days=30 + k % 700)
                paused = k % 20 == 0
                postal, city = CITIES[k % len(CITIES)]
                yield (k + 1, k % n_clubs + 1, pid, "paused" if paused else "active", joined, f"{joined:%Y-%m}",
                       joined, now - timedelta(days=10) if paused else None, f"Member {pid}",
                       f"{STREETS[k % 7]} {k % 90 + 1}", "", postal, city, "FI", joined)

        w.write(ClubMember.__table__, ("id", "club_id", "patron_id", "status", "joined_at", "first_period",
                                       "active_since", "inactive_since", "recipient_name", "street_address",
                                       "address_extra", "postal_code", "city", "country", "created_at"), members())

    # ------------------------------------------------------------- finishing

    def _finish(self, engine: Any) -> None:
        """Sequences past the explicit ids, the card-number counter past the cards, statistics."""
        from sqlalchemy import func, select, text

        from app.accounts.models import Counter, Patron
        from app.models import metadata

        with engine.begin() as conn:
            last_card = int(conn.scalar(select(func.max(Patron.card_number))) or FIRST_CARD_NUMBER - 1)
            if engine.dialect.name == "postgresql":
                for table in metadata.sorted_tables:
                    if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement:
                        seq = conn.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name})
                        if seq:
                            conn.execute(text(f"SELECT setval('{seq}', GREATEST((SELECT max(id) FROM \"{table.name}\"),"
                                              " 1))"))
                conn.execute(text("SELECT setval('card_numbers', :v)"), {"v": last_card})
            else:
                conn.execute(text("DELETE FROM counters WHERE name = 'card_number'"))
                conn.execute(Counter.__table__.insert(), {"name": "card_number", "value": last_card})
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        else:
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")


def build(url: str, *, scale: str = "small", seed: int = 1, factor: float | None = None,
          now: datetime = DEFAULT_NOW) -> list[tuple[str, int, float]]:
    """Build the data set into the empty database at ``url``: [(table, rows, seconds)]."""
    sizes = sizes_for(scale, factor)
    print(f"Kuulo data set '{scale}'{f' (factor {factor})' if factor is not None else ''}, seed {seed}, "
          f"now {now.isoformat()}: {url.split('@')[-1]}", flush=True)
    report = Dataset(url, sizes, seed, now).build()
    print(f"person patrons' PIN: {PIN}; staff: admin@/reviewer@/librarian@national.kuulo.test, "
          f"password {STAFF_PASSWORD}", flush=True)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--database-url", default=os.environ.get("KUULO_BENCH_DATABASE_URL", ""),
                        help="an EMPTY database (default: a new SQLite file in a temporary directory)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--now", default=DEFAULT_NOW.isoformat(), help="the data set's present (ISO, UTC)")
    parser.add_argument("--factor", type=float, help=argparse.SUPPRESS)  # tests: a fraction of national
    args = parser.parse_args(argv)
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='kuulo-dataset-')) / 'kuulo.db'}"
    now = datetime.fromisoformat(args.now)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    build(url, scale=args.scale, seed=args.seed, factor=args.factor, now=now.astimezone(UTC))


if __name__ == "__main__":
    main(sys.argv[1:])
