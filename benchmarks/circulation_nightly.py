"""Benchmark: the circulation nightly job over 1,000,000 loans (10 % overdue, four presets).

    python -m benchmarks.circulation_nightly [--loans N] [--patrons N]

Builds the data with bulk INSERTs in a child process (so its memory does not count), then, in
this process, times one ``SELECT * FROM circ_loans`` scan and the nightly job, and prints the
seconds, the ratio to the scan and the peak RSS of this process. SQLite in a temporary file by
default; set KUULO_BENCH_DATABASE_URL=postgresql+psycopg://… to use PostgreSQL (the database is
emptied first). Targets: ≤ 60 s, ≤ 5× the scan, ≤ 500 MB. Not a test.

The first run is a cold start: no loan has had a notice yet, so every overdue loan catches up all
the notices its age calls for (about two each) — the worst night. A second run the same day shows
the idempotent case.
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

NOW = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)  # 02:30 in Helsinki, when the job runs
CHUNK = 20_000
# library → (preset, branches, share of patrons, categories)
LIBRARIES = {
    "lumme": ("lumme", ["mikkeli", "savonlinna", "varkaus", "pieksamaki", "juva"], 0.35, ["adult", "child"]),
    "outi": ("outi", ["oulu_main"], 0.25, ["adult", "child"]),
    "tampere": ("tampere", ["linna", "arvo", "hervanta"], 0.2, ["student", "staff"]),
    "czech": ("czech", ["main"], 0.2, ["adult", "child"]),
}
WEEK = {"mon": "10:00-19:00", "tue": "10:00-19:00", "wed": "10:00-19:00", "thu": "10:00-19:00",
        "fri": "10:00-18:00", "sat": "10:00-15:00"}
HOURS = {0: (19, 0), 1: (19, 0), 2: (19, 0), 3: (19, 0), 4: (18, 0), 5: (15, 0)}  # weekday → closing


def make_app(url: str) -> Any:
    from app import create_app

    return create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "bench", "FAKE_NOW": NOW.isoformat()})


def reset_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()


def build(url: str, loans: int, patrons: int) -> None:
    """Create the schema and bulk-insert patrons, items and loans (run in a child process)."""
    from sqlalchemy import insert

    from app import db
    from app.accounts.models import Patron
    from app.circulation import service
    from app.circulation.fines import effective_fine_model
    from app.circulation.models import Branch, Hold, Item, Loan, PatronCirculation
    from app.circulation.notices import ContactChannels, PatronNoticeFacts, next_notice_date
    from app.circulation.presets import load_preset

    reset_database(url)
    app = make_app(url)
    db.create_schema(app)
    rng = random.Random(2026)
    started = time.perf_counter()
    with app.app_context(), db.get_sessionmaker(app).begin() as s:
        branches: dict[str, list[Any]] = {}
        for code, (preset, codes, _share, _cats) in LIBRARIES.items():
            service.create_library(s, code=code, name=code.title(), preset=preset, now=NOW)
            branches[code] = []
            for branch_code in codes:
                branch = service.add_branch(s, library_code=code, code=branch_code, name=branch_code.title())
                service.add_calendar_version(s, branch_id=branch.id, valid_from=date(2020, 1, 1), weekly=WEEK,
                                             now=NOW, actor="bench")
                branches[code].append(branch)
        library_ids = {code: s.get(Branch, group[0].id).library_id for code, group in branches.items()}
    engine = db.engine(app)
    codes = list(LIBRARIES)
    weights = [LIBRARIES[c][2] for c in codes]
    people = []  # (patron id, library, category, advance days)
    with engine.begin() as conn:
        for start in range(0, patrons, CHUNK):
            rows, circ = [], []
            for pid in range(start + 1, min(start + CHUNK, patrons) + 1):
                library = rng.choices(codes, weights)[0]
                category = rng.choice(LIBRARIES[library][3]) if rng.random() < 0.2 else LIBRARIES[library][3][0]
                letter = rng.random() < 0.3
                advance = 3 if library in ("lumme", "tampere", "outi") and rng.random() < 0.3 else None
                rows.append({"id": pid, "card_number": f"9{pid:09d}", "kind": "person", "name": f"Patron {pid}",
                             "email": f"p{pid}@bench.kuulo", "phone": "", "language": rng.choice(["fi", "sv", "en"]),
                             "active": True, "created_at": NOW})
                circ.append({"patron_id": pid, "library_id": library_ids[library], "category": category,
                             "home_branch_id": branches[library][0].id, "membership_validated_at": NOW,
                             "notice_channels": ["email", "letter"] if letter else ["email"],
                             "postal_address": "Katu 1" if letter else "", "advance_notice_days": advance,
                             "notices_opted_out": False, "receipts_by_email": False, "billing_banned": False,
                             "in_collection": False, "created_at": NOW})
                people.append((pid, library, category, advance))
            conn.execute(insert(Patron.__table__), rows)
            conn.execute(insert(PatronCirculation.__table__), circ)
    schedule_cache: dict[tuple[Any, ...], date | None] = {}
    rules_cache: dict[tuple[str, str, str, bool], Any] = {}
    with engine.begin() as conn:
        for start in range(0, loans, CHUNK):
            items, rows = [], []
            for loan_id in range(start + 1, min(start + CHUNK, loans) + 1):
                pid, library, category, advance = people[rng.randrange(len(people))]
                preset = LIBRARIES[library][0]
                policy = load_preset(preset)
                branch = rng.choice(branches[library])
                material = "interlibrary_loan" if library == "czech" and rng.random() < 0.01 else "book"
                childrens = rng.random() < 0.1
                overdue = rng.random() < 0.10
                due = (NOW.date() - timedelta(days=rng.randint(1, 60)) if overdue
                       else NOW.date() + timedelta(days=rng.randint(0, 27)))
                while due.weekday() == 6:  # Sundays are closed: due dates move to Monday
                    due += timedelta(days=1)
                out = due - timedelta(days=28)
                hour, minute = HOURS[due.weekday()]
                zone = ZoneInfo(branch.timezone)
                due_at = datetime.combine(due, clock_time(hour, minute), tzinfo=zone).astimezone(UTC)
                key = (preset, branch.code, category, material, childrens)
                if key not in rules_cache:
                    rules = policy.rules_for(branch.code, category, material)
                    rules_cache[key] = (effective_fine_model(rules, is_childrens_material=childrens), rules.grace_days)
                fine, grace = rules_cache[key]
                skey = (preset, due, category, childrens, advance)
                if skey not in schedule_cache:
                    facts = PatronNoticeFacts(category=category, contacts=ContactChannels(), advance_notice_days=advance)
                    schedule_cache[skey] = next_notice_date(due_date=due, after=out - timedelta(days=1),
                                                            already_sent=(), patron=facts,
                                                            is_childrens_material=childrens, policy=policy)
                items.append({"id": loan_id, "barcode": f"B{loan_id:09d}", "record_key": f"r{loan_id}",
                              "title": f"Book {loan_id}", "library_id": library_ids[library], "material_type": material,
                              "is_childrens_material": childrens, "holdable": True, "transportable": True,
                              "replacement_price_minor": 3000 if preset != "czech" else 30000,
                              "currency": policy.currency, "home_branch_id": branch.id,
                              "current_branch_id": branch.id, "status": "on_loan", "created_at": NOW})
                rows.append({"id": loan_id, "item_id": loan_id, "patron_id": pid, "library_id": library_ids[library],
                             "branch_id": branch.id, "channel": "desk",
                             "checked_out_at": datetime.combine(out, clock_time(12), tzinfo=UTC),
                             "due_at": due_at, "due_day": due.toordinal(), "renewals": 0, "status": "open",
                             "fine_model": fine.model, "fine_amount_minor": fine.amount.minor if fine.amount else 0,
                             "fine_cap_minor": fine.cap.minor if fine.cap else None, "grace_days": grace,
                             "currency": policy.currency, "accrued_fine_minor": 0,
                             "next_notice_on": schedule_cache[skey]})
            conn.execute(insert(Item.__table__), items)
            conn.execute(insert(Loan.__table__), rows)
        holds = []  # some uncollected holds whose last pickup day was yesterday
        for number in range(500):
            item_id = loans + number + 1
            pid, library, _cat, _adv = people[rng.randrange(len(people))]
            branch = branches[library][0]
            conn.execute(insert(Item.__table__), [{
                "id": item_id, "barcode": f"H{item_id:09d}", "record_key": f"h{item_id}", "title": "Held",
                "library_id": library_ids[library], "material_type": "book", "is_childrens_material": False,
                "holdable": True, "transportable": True, "replacement_price_minor": 1000,
                "currency": load_preset(LIBRARIES[library][0]).currency, "home_branch_id": branch.id,
                "current_branch_id": branch.id, "status": "on_hold_shelf", "created_at": NOW}])
            holds.append({"patron_id": pid, "library_id": library_ids[library], "record_key": f"h{item_id}",
                          "pickup_branch_id": branch.id, "state": "ready", "placed_at": NOW - timedelta(days=20),
                          "item_id": item_id, "ready_at": NOW - timedelta(days=9),
                          "last_pickup_day": NOW.date() - timedelta(days=2),
                          "pickup_expires_at": NOW - timedelta(days=1), "hold_identifier": f"{number:06d}"})
        conn.execute(insert(Hold.__table__), holds)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    print(f"built {patrons:,} patrons and {loans:,} loans in {time.perf_counter() - started:.1f} s", flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scan_seconds(engine: Any) -> tuple[float, int]:
    """One full ``SELECT * FROM circ_loans``, streamed (the baseline the job is compared with)."""
    started = time.perf_counter()
    with engine.connect().execution_options(stream_results=True, max_row_buffer=10_000) as conn:
        result = conn.exec_driver_sql("SELECT * FROM circ_loans")
        scanned = 0
        while rows := result.fetchmany(10_000):
            scanned += len(rows)
    return time.perf_counter() - started, scanned


def measure(url: str) -> None:
    from sqlalchemy import func, select

    from app import db
    from app.circulation.models import FeeEntry, Loan, NoticeSent
    from app.circulation.service_nightly import run_nightly
    from app.notify.models import OutboxMessage

    app = make_app(url)
    engine, sm = db.engine(app), db.get_sessionmaker(app)
    with engine.connect() as conn:
        overdue = conn.scalar(select(func.count()).select_from(Loan).where(Loan.due_at < NOW))
        total = conn.scalar(select(func.count()).select_from(Loan))
    scan_before, scanned = scan_seconds(engine)
    with app.app_context():
        started, cpu = time.perf_counter(), time.process_time()
        first = run_nightly(sm, NOW)
        nightly, nightly_cpu = time.perf_counter() - started, time.process_time() - cpu
        started = time.perf_counter()
        second = run_nightly(sm, NOW + timedelta(minutes=30))
        again = time.perf_counter() - started
    scan_after, _ = scan_seconds(engine)
    scan = (scan_before + scan_after) / 2  # the machine is shared: average a scan before and after
    with engine.connect() as conn:
        counts = {name: conn.scalar(select(func.count()).select_from(table)) for name, table in
                  (("notices", NoticeSent), ("fee entries", FeeEntry), ("outbox messages", OutboxMessage))}
    print(f"database: {engine.dialect.name}; loans {total:,}, overdue {overdue:,} ({overdue / total:.0%})")
    print(f"SELECT * FROM circ_loans scan: {scan:.2f} s (before the job {scan_before:.2f} s, after "
          f"{scan_after:.2f} s; {scanned:,} rows)")
    print(f"nightly job, first run: {nightly:.2f} s (this process's CPU {nightly_cpu:.2f} s) = "
          f"{nightly / scan:.2f}x the scan — {first}")
    print(f"nightly job, second run the same day: {again:.2f} s — {second}")
    print(f"written: {', '.join(f'{k} {v:,}' for k, v in counts.items())}")
    print(f"peak RSS of the measuring process: {peak_rss_mb():.0f} MB; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")
    ok = nightly <= 60 and nightly <= 5 * scan and peak_rss_mb() <= 500
    print(f"targets (≤ 60 s, ≤ 5x scan, ≤ 500 MB): {'met' if ok else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--patrons", type=int, default=100_000)
    parser.add_argument("--build-only", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only:
        build(args.build_only, args.loans, args.patrons)
        return
    url = os.environ.get("KUULO_BENCH_DATABASE_URL", "")
    if not url:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='kuulo-bench-')) / 'circulation.db'}"
    subprocess.run([sys.executable, "-m", "benchmarks.circulation_nightly", "--loans", str(args.loans),
                    "--patrons", str(args.patrons), "--build-only", url], check=True)
    measure(url)


if __name__ == "__main__":
    main()
