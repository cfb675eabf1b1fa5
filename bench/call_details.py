"""Call details at scale: one busy line with 1 000 000 usage records on PostgreSQL (docs/architecture.md §6).

    .venv/bin/python bench/call_details.py [DATABASE_URL] [--rows N] [--keep]

DATABASE_URL (or BENCH_DATABASE_URL; default postgresql://postgres@127.0.0.1:5432/portal_bench_details)
is created if missing and its public schema rebuilt with the migrations.  The line gets ``--rows``
records spread over the last six months (COPY, in one stream), 20 other lines 10 000 each, then
ANALYZE.  Reported: the first page of the details (records + totals, the domain calls the page makes)
for this month and for six months, the whole page through the test client, the next (older) page,
and a full six-month CSV export through ``details.csv_lines`` (time, then peak Python memory with
tracemalloc in a second run).  ``--keep`` reuses the seeded data of a previous run.
"""
import argparse
import os
import random
import statistics
import sys
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from flask_babel import to_user_timezone  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bench.common import postgres_database  # noqa: E402
from portal import create_app  # noqa: E402
from portal.domain import details  # noqa: E402
from portal.domain.passwords import hash_secret  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Account, Customer, Line, Login, LoginAccount, Tariff, utcnow  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/portal_bench_details"
MSISDN = "+79160000001"
PASSWORD = "bench-password-1"
KINDS = (("call_out", 24), ("call_in", 22), ("call_missed", 5), ("sms", 12), ("mms", 2), ("data", 35))


def make_line(session, msisdn: str, tariff: Tariff, n: int) -> Account:
    customer = Customer(name=f"Bench {n}", region="Moscow", contract_no=f"BENCH-{n:06d}")
    account = Account(customer=customer, kind="mobile", region="Moscow", tariff=tariff, balance=0)
    session.add_all([customer, account, Line(account=account, msisdn=msisdn)])
    session.flush()
    return account


def copy_usage(session, account_id: int, rows: int, now: datetime, seed: int) -> None:
    """``rows`` records over the last 183 days, sent to COPY as one stream."""
    rng = random.Random(seed)
    kinds = [k for k, w in KINDS for _ in range(w)]
    span = 183 * 86400
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(
            "COPY usage_record (account_id, started_at, kind, counterpart, quantity, cost) FROM STDIN") as copy:
        for _ in range(rows):
            kind = rng.choice(kinds)
            started = now - timedelta(seconds=rng.randrange(span))
            if kind == "data":
                counterpart, quantity, cost = "internet", rng.randint(10, 200_000), 0
            elif kind in ("sms", "mms"):
                counterpart, quantity, cost = f"+7916{rng.randrange(10**7):07d}", 1, rng.choice((0, 0, 200))
            else:
                counterpart = f"+7916{rng.randrange(10**7):07d}"
                quantity = 0 if kind == "call_missed" else rng.randint(4, 1800)
                cost = rng.choice((0, 0, 0, 250)) * (quantity // 60 + 1) if kind == "call_out" else 0
            copy.write_row((account_id, started, kind, counterpart, quantity, cost))


def seed(app, rows: int) -> None:
    with app.app_context():
        upgrade()
        session = db.session
        tariff = Tariff(code="bench", name="Bench", kind="mobile", monthly_fee=50000)
        session.add(tariff)
        busy = make_line(session, MSISDN, tariff, 0)
        login = Login(primary_account_id=busy.id, password_hash=hash_secret(PASSWORD))
        session.add(login)
        session.flush()
        session.add(LoginAccount(login_id=login.id, account_id=busy.id))
        now = utcnow()
        started = time.perf_counter()
        copy_usage(session, busy.id, rows, now, 1)
        for n in range(1, 21):
            copy_usage(session, make_line(session, f"+7917000{n:04d}", tariff, n).id, 10_000, now, n + 1)
        session.commit()
        print(f"seeded {rows:,} records for {MSISDN} (+ 200,000 on 20 other lines) "
              f"in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        days = details.roll_up(session, since=(now - timedelta(days=200)).date(),
                               through=now.date() - timedelta(days=1))
        print(f"rolled up {days} days (the nightly job) in {time.perf_counter() - started:.1f} s")
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE usage_record"))
            conn.execute(sa.text("VACUUM ANALYZE usage_day"))


def timed(fn, repeat: int = 15) -> tuple[float, float]:
    """(median, max) in milliseconds over ``repeat`` runs after a warm-up."""
    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def report(app) -> None:
    with app.app_context(), app.test_request_context():
        session = db.session
        account = session.scalar(select(Account).join(Line).where(Line.msisdn == MSISDN))
        account_id = account.id
        total_rows = session.scalar(sa.text("select count(*) from usage_record where account_id = :a"),
                                    {"a": account_id})
        today = to_user_timezone(utcnow()).date()
        tz = app.config["BABEL_DEFAULT_TIMEZONE"]
        month = details.check_period(*details.default_period(today), today=today, tz=tz)
        half_year = details.check_period(details.earliest_start(today), today, today=today, tz=tz)
        print(f"line {MSISDN}: {total_rows:,} records; this month {month.start}..{month.end}, "
              f"six months {half_year.start}..{half_year.end}")
        for name, period in (("this month", month), ("six months", half_year)):
            count = details.totals(session, account_id, period, ()).count
            page = timed(lambda p=period: details.records_page(session, account_id, p, ()))
            totals = timed(lambda p=period: details.totals(session, account_id, p, ()))
            both = timed(lambda p=period: (details.records_page(session, account_id, p, ()),
                                           details.totals(session, account_id, p, ())))
            _, cursor = details.records_page(session, account_id, period, ())
            older = timed(lambda p=period, c=cursor: details.records_page(session, account_id, p, (), before=c))
            calls = timed(lambda p=period: details.records_page(session, account_id, p, details.kinds_of("sms")))
            print(f"  {name} ({count:,} records): first page rows {page[0]:.1f} ms (max {page[1]:.1f}), "
                  f"totals {totals[0]:.1f} ms (max {totals[1]:.1f}), rows + totals {both[0]:.1f} ms; "
                  f"older page {older[0]:.1f} ms; SMS only {calls[0]:.1f} ms")

        def export():
            size = 0
            for chunk in details.csv_lines(session, account_id, half_year, (), tz=tz):
                size += len(chunk)
            return size

        started = time.perf_counter()
        size = export()
        seconds = time.perf_counter() - started
        tracemalloc.start()
        export()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"  six-month CSV export: {size / 1e6:.1f} M characters in {seconds:.1f} s "
              f"({total_rows / seconds:,.0f} rows/s); peak Python memory {peak / 1e6:.1f} MB (tracemalloc)")
    client = app.test_client()
    client.post("/auth/login", data={"phone": MSISDN, "password": PASSWORD})
    for name, query in (("this month (default)", {}),
                        ("six months", {"start": half_year.start.isoformat(), "end": half_year.end.isoformat()})):
        assert client.get("/numbers/details", query_string=query).status_code == 200
        page = timed(lambda q=query: client.get("/numbers/details", query_string=q), repeat=10)
        print(f"  whole page GET /numbers/details, {name}: {page[0]:.1f} ms (max {page[1]:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="reuse the data of a previous run")
    args = parser.parse_args()
    if not args.keep:
        postgres_database(args.url, empty=True)
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": args.url, "REDIS_URL": None})
    if not args.keep:
        seed(app, args.rows)
    report(app)


if __name__ == "__main__":
    main()
