"""Staff search at scale (issue 16): how long ``staff.search_customers`` takes on a generated database.

    .venv/bin/python bench/staff_search.py DATABASE_URL [--repeat 15] [--explain]

DATABASE_URL is a database built by bench/seed_scale.py (e.g. postgresql://postgres@127.0.0.1:5432/bench_scale_1m).
Measured through the domain function the admin search page calls (the customers and their accounts, lines,
contracts and tariffs, as the page gets them): an exact number typed as people do (8 9xx xxx-xx-xx), a home
contract number, a 4-digit and a 7-digit part of a number, a part of a surname. Each kind runs ``--repeat``
different queries (taken from the data, after one warm-up each). Printed: the wall time (median and worst),
the Python process's CPU time (median; wall minus CPU is waiting: the server, or other processes on a busy
machine), the server's execution time of the search statement (EXPLAIN ANALYZE, median) and how many
customers were shown. ``--explain`` prints the plan of one query of each kind.
"""
import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from portal import create_app  # noqa: E402
from portal.domain import staff  # noqa: E402
from portal.extensions import db  # noqa: E402

SURNAME_PARTS = ("петров", "смирнова", "кузнец", "соколов", "волков", "орлова", "гусев", "мирнов", "иванова", "ков")


def queries(session, repeat: int, rng: random.Random) -> dict[str, list[str]]:
    """``repeat`` + 1 queries of each kind, from rows of the database."""
    count = repeat + 1
    total = session.scalar(sa.text("select max(account_id) from line"))
    numbers = []
    while len(numbers) < count * 3:
        numbers += session.scalars(sa.text("select msisdn from line where account_id = any(:ids)"),
                                   {"ids": [rng.randint(1, total) for _ in range(count * 3)]}).all()
    numbers = numbers[:count * 3]
    contracts = session.scalars(sa.text("select contract_no from home_contract order by account_id limit 2000")).all()

    def spoken(msisdn: str) -> str:  # +79161234567 → 8 916 123-45-67
        d = msisdn[2:]
        return f"8 {d[:3]} {d[3:6]}-{d[6:8]}-{d[8:]}"

    return {
        "exact number": [spoken(n) for n in numbers[:count]],
        "home contract": [rng.choice(contracts).lower().replace("-", "") for _ in range(count)] if contracts else [],
        "4-digit fragment": [n[5:9] for n in numbers[count:count * 2]],
        "7-digit fragment": [n[4:11] for n in numbers[count * 2:]],
        "name fragment": [SURNAME_PARTS[n % len(SURNAME_PARTS)] for n in range(count)],
    }


def search_statement(session, query: str) -> tuple[str, dict]:
    """The search's first statement (the one that finds the customers), as sent."""
    statements = []

    def seen(conn, cursor, statement, parameters, *args):
        statements.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        staff.search_customers(session, query)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)
    return statements[0]


def server_ms(session, query: str) -> float:
    statement, parameters = search_statement(session, query)
    plan = session.connection().exec_driver_sql("explain (analyze, format json) " + statement, parameters).scalar()
    return plan[0]["Execution Time"]


def explain(session, query: str) -> str:
    statement, parameters = search_statement(session, query)
    rows = session.connection().exec_driver_sql("explain (analyze, buffers) " + statement, parameters).all()
    return "\n".join("    " + row[0] for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": args.url, "REDIS_URL": None})
    with app.app_context():
        session = db.session
        customers = session.scalar(sa.text("select count(*) from customer"))
        lines = session.scalar(sa.text("select count(*) from line"))
        print(f"{args.url}: {customers:,} customers, {lines:,} lines")
        for kind, texts in queries(session, args.repeat, random.Random(16)).items():
            if not texts:
                continue
            staff.search_customers(session, texts[0])  # warm-up
            times, cpu, server, found = [], [], [], []
            for text in texts[1:]:
                started, started_cpu = time.perf_counter(), time.process_time()
                result = staff.search_customers(session, text)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
                found.append(len(result))
                session.rollback()
                if session.get_bind().dialect.name == "postgresql":
                    server.append(server_ms(session, text))
                    session.rollback()
            print(f"  {kind:<17} median {statistics.median(times):6.1f} ms (worst {max(times):6.1f}), "
                  f"CPU {statistics.median(cpu):5.1f} ms, "
                  f"server {statistics.median(server) if server else float('nan'):5.2f} ms; "
                  f"{len(times)} queries, e.g. {texts[1]!r}; customers shown: median {statistics.median(found):.0f}")
            if args.explain:
                print(explain(session, texts[1]))
                session.rollback()


if __name__ == "__main__":
    main()
