"""One billing day on an existing database, in accounts a second (issue 16).

    .venv/bin/python bench/billing.py DATABASE_URL [--workers N] [--day YYYY-MM-DD] [--batch-size N]
                                      [--again] [--verify]

The database is one bench/seed_scale.py built (or any portal database). The run bills ``--day`` (default: the
day after the newest ledger entry, so nothing of it is billed yet) exactly as the billing jobs do: the
accounts in batches by id range (``portal.domain.billing.bill_range``), ``--workers`` processes taking the
next batch as they finish one (the Celery workers of the ``billing`` queue do the same). Then it reads the
auto-payment rules due that day (the query the batches run; the charges themselves go to the gateway and
are not timed). ``--again`` runs the same day a second time (it must insert nothing); ``--verify`` checks
every balance against its ledger afterwards (``flask billing verify``). The run writes to the database: use
a copy you can throw away.
"""
import argparse
import multiprocessing
import os
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from portal import create_app  # noqa: E402
from portal.domain import ledger  # noqa: E402
from portal.domain.autopay import due_rule_ids  # noqa: E402
from portal.domain.billing import RunReport, batches, bill_range  # noqa: E402
from portal.domain.billing.batch import Lines  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Account, LedgerEntry  # noqa: E402

_app = None


def make_app(url: str):
    # As on a billing worker: the SMS the run queues (low-balance alerts) go to the broker for the SMS workers,
    # they are not delivered inline (an in-memory broker here, never consumed).
    return create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None,
                       "BABEL_DEFAULT_LOCALE": "ru", "CELERY": {"task_always_eager": False}})


def _start_worker(url: str) -> None:
    global _app
    _app = make_app(url)
    _app.app_context().push()


_lines: Lines | None = None


def _bill(job: tuple[int, int, date, datetime, int | None]) -> RunReport:
    global _lines
    first_id, last_id, day, now, per_point = job
    with Session(db.engine) as session:
        _lines = _lines or Lines.of(session)  # once per worker, as run_billing does once per run
        return bill_range(session, first_id=first_id, last_id=last_id, day=day, now=now,
                          kopecks_per_point=per_point, lines=_lines)


def run_day(url: str, ranges: list[tuple[int, int]], day: date, workers: int, per_point: int | None):
    now = datetime.combine(day, datetime.min.time()) + timedelta(minutes=5)
    jobs = [(first, last, day, now, per_point) for first, last in ranges]
    total = RunReport(day)
    started = time.perf_counter()
    if workers == 1:
        with make_app(url).app_context():
            for job in jobs:
                total.add(_bill(job))
    else:
        with multiprocessing.get_context("fork").Pool(workers, initializer=_start_worker, initargs=(url,)) as pool:
            for report in pool.imap_unordered(_bill, jobs):
                total.add(report)
    return total, time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--day", type=date.fromisoformat)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--again", action="store_true", help="bill the same day a second time (inserts nothing)")
    parser.add_argument("--verify", action="store_true", help="check every balance against its ledger afterwards")
    args = parser.parse_args(argv)
    if not args.url:
        parser.error("DATABASE_URL (or BENCH_DATABASE_URL) is required")
    app = make_app(args.url)
    with app.app_context():
        size = args.batch_size or app.config["BILLING_BATCH_SIZE"]
        per_point = app.config["BONUS_KOPECKS_PER_POINT"]
        accounts = db.session.scalar(select(func.count()).select_from(Account))
        day = args.day or db.session.scalar(select(func.max(LedgerEntry.created_at))).date() + timedelta(days=1)
        ranges = batches(db.session, size)
        db.session.remove()
        db.engine.dispose()
    print(f"{accounts} accounts, billing {day} in {len(ranges)} batches of {size} ids, {args.workers} worker(s)")
    runs = [("run", day)] + ([("again", day)] if args.again else [])
    for label, billed in runs:
        report, seconds = run_day(args.url, ranges, billed, args.workers, per_point)
        print(f"{label}: {report.accounts} accounts in {seconds:.1f} s = {report.accounts / seconds:,.0f} accounts/s; "
              f"{report.charges} charges ({report.charged / 100:,.2f} roubles), {report.allowances} packages, "
              f"{report.points} points, {report.tariff_changes} tariff changes, {report.paused} paused, "
              f"{len(report.suspended)} suspended, {report.low_balance_alerts} low-balance alerts")
    with app.app_context():
        started = time.perf_counter()
        due = due_rule_ids(db.session, day=day)
        print(f"auto-payments due: {len(due)} rules read in {(time.perf_counter() - started) * 1000:.0f} ms")
        if args.verify:
            started = time.perf_counter()
            mismatches = ledger.verify(db.session)
            print(f"verify: {len(mismatches)} mismatches ({time.perf_counter() - started:.1f} s)")
            if mismatches:
                raise SystemExit(1)


if __name__ == "__main__":
    main()
