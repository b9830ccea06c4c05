"""Benchmark: importing generated MARC 21 records (1.5 copies each as 952 holdings) into the catalogue.

    python -m benchmarks.catalogue_import [--records N] [--batch N]

Writes an ISO 2709 file with pymarc, times pymarc merely reading it (MARCReader over the whole file), then
times the import (``app.catalogue.cli``'s path: marc.read → service.import_batch, one transaction per batch)
and prints both, their ratio and the peak RSS of this process. SQLite in a temporary file by default; set
KUULO_BENCH_DATABASE_URL=postgresql+psycopg://… for PostgreSQL (the database is emptied first).
Targets (issue 17): import ≤ 2× pymarc's read time, peak RSS ≤ 500 MB, at 1,000,000 records. Not a test.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import pymarc

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
WORDS = ("sota kesä talvi meri metsä kaupunki rakkaus salaisuus matka koti ystävä kirje ilta aamu tarina "
         "historia lapsi isä äiti veli sisar kuningas susi karhu lintu joki järvi saari vuori tuuli").split()
BRANCHES = ("mikkeli", "savonlinna")


def generate(path: Path, count: int) -> None:
    from app.catalogue import marc

    with open(path, "wb") as out:
        for n in range(count):
            w = [WORDS[(n * k + k) % len(WORDS)] for k in (3, 7, 11, 13)]
            copies = 1 if n % 2 else 2
            holdings = tuple(marc.Holding(f"B{n:07d}-{c}", BRANCHES[(n + c) % 2], "", "20.00", "Aikuiset", "")
                             for c in range(copies))
            record = marc.build(control=f"bench-{n}", title=f"{w[0].title()} ja {w[1]} {n}",
                                author=f"{w[2].title()}, {w[3].title()}", isbn=f"978951{n:07d}",
                                subjects=(w[1], w[2]), year=1950 + n % 75, holdings=holdings)
            out.write(record.as_marc())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kuulo-bench-marc-"))
    url = os.environ.get("KUULO_BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}"
    from sqlalchemy import create_engine, text

    if url.startswith("postgresql"):
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        admin.dispose()
    from app import create_app, db
    from app.catalogue import marc, service
    from tests.circulation.helpers import build_libraries

    app = create_app({"DATABASE_URL": url, "MEDIA_ROOT": str(tmp / "media"), "FAKE_NOW": NOW.isoformat()})
    db.create_schema(app)
    sm = db.get_sessionmaker(app)
    with app.app_context(), sm.begin() as s:
        build_libraries(s, NOW)
    path = tmp / "records.mrc"
    started = time.perf_counter()
    generate(path, args.records)
    print(f"generated {args.records} records ({path.stat().st_size / 1e6:.0f} MB) in "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr)

    def pymarc_read() -> tuple[float, float, int]:
        wall, cpu = time.perf_counter(), time.process_time()
        with open(path, "rb") as f:
            count = sum(1 for _ in pymarc.MARCReader(f, to_unicode=True, permissive=True))
        return time.perf_counter() - wall, time.process_time() - cpu, count

    # Alternated: pymarc reads the file before and after the import (the machine's load changes meanwhile).
    reads = [pymarc_read()]
    wall, cpu = time.perf_counter(), time.process_time()
    stored = 0
    with app.app_context():
        records = marc.read(path)
        while batch := list(islice(records, args.batch)):
            with sm.begin() as s:
                report = service.import_batch(s, batch, now=NOW)
            stored += report.created
    import_s, import_cpu = time.perf_counter() - wall, time.process_time() - cpu
    reads.append(pymarc_read())
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    read_s = [r[0] for r in reads]
    read_cpu = [r[1] for r in reads]
    print(f"database: {url.split(':')[0]}; records: {reads[0][2]} read by pymarc, {stored} imported")
    print(f"pymarc read (before, after): {read_s[0]:.1f} s, {read_s[1]:.1f} s wall; "
          f"{read_cpu[0]:.1f} s, {read_cpu[1]:.1f} s CPU")
    print(f"import: {import_s:.1f} s wall, {import_cpu:.1f} s CPU of this process; {stored / import_s:.0f} records/s")
    print(f"ratio import/read, wall: {import_s / max(read_s):.2f}–{import_s / min(read_s):.2f}; "
          f"CPU: {import_cpu / max(read_cpu):.2f}–{import_cpu / min(read_cpu):.2f} (target ≤ 2; on PostgreSQL the "
          f"server's work is in the wall time only)")
    print(f"peak RSS {rss_mb:.0f} MB (target ≤ 500)")

if __name__ == "__main__":
    main()
