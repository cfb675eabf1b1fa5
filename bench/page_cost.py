"""Worker CPU per request of the hot pages, beside a hello-world Flask app under the same gunicorn.

    .venv/bin/python bench/page_cost.py [--requests 400] [--database-url URL] [--port 5078]

Builds the demo (on a throw-away SQLite database, or on the empty database at --database-url),
serves the portal and bench/hello.py in turn with one synchronous gunicorn worker, signs in as
the first demo number and asks each page --requests times, one after the other, after a warm-up.
The worker's CPU time (user + system, from /proc) divided by the requests is what a page costs a
server; the ratio to the hello-world app's cost is what the budget (docs/architecture.md §6) is
written in, since it holds from one machine to the next. This is a benchmark, not a test: it
prints figures and the goals of issue 16 (dashboard ≤ 4 ms, call details ≤ 10 ms).
"""
import argparse
import http.client
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import prepare_database, sign_in, start_server, stop  # noqa: E402

PAGES = [("hello world (bench/hello.py)", "/", None), ("sign-in page", "/auth/login", None),
         ("dashboard", "/", 4.0), ("call details, 50 rows", "/numbers/details", 10.0),
         ("payment history", "/payments/history", None), ("services", "/services/", None)]
TICKS = os.sysconf("SC_CLK_TCK")


def worker_pid(master: int) -> int:
    for _ in range(50):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise SystemExit("no gunicorn worker")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def get(port: int, path: str, cookie: str | None) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers={"Cookie": cookie, "Accept-Encoding": "gzip, br"} if cookie
                       else {"Accept-Encoding": "gzip, br"})
    response = connection.getresponse()
    response.read()
    connection.close()
    if response.status != 200:
        raise SystemExit(f"{path}: HTTP {response.status}")


def measure(port: int, master: int, path: str, cookie: str | None, requests: int) -> tuple[float, float]:
    """Worker CPU ms and wall ms per request."""
    for _ in range(max(20, requests // 10)):
        get(port, path, cookie)
    worker = worker_pid(master)
    cpu, wall = cpu_seconds(worker), time.perf_counter()
    for _ in range(requests):
        get(port, path, cookie)
    return (cpu_seconds(worker) - cpu) * 1000 / requests, (time.perf_counter() - wall) * 1000 / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--database-url", help="an empty database to build the demo in (default: SQLite)")
    parser.add_argument("--port", type=int, default=5078)
    args = parser.parse_args()
    one_sync_worker = ("-w", "1", "-k", "sync")
    tmp = tempfile.mkdtemp()
    try:
        secret_key = secrets.token_urlsafe(32)
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite"
        msisdn = prepare_database(url, secret_key)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
        env.update({"SECRET_KEY": secret_key, "DATABASE_URL": url, "PORTAL_RATELIMIT_ENABLED": "false"})
        results = []
        hello = start_server(env, args.port, app="bench.hello:app", worker_args=one_sync_worker)
        try:
            results.append(measure(args.port, hello.pid, "/", None, args.requests))
        finally:
            stop(hello)
        portal = start_server(env, args.port, worker_args=one_sync_worker)
        try:
            cookie = sign_in(f"http://127.0.0.1:{args.port}", msisdn)
            for _name, path, _goal in PAGES[1:]:
                results.append(measure(args.port, portal.pid, path, cookie if path != "/auth/login" else None,
                                       args.requests))
        finally:
            stop(portal)
        database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        print(f"{args.requests} requests a page, one sync gunicorn worker, demo data on {database}")
        print(f"{'page':<30} {'CPU ms':>8} {'× hello':>8} {'wall ms':>8}  goal")
        hello_cpu = results[0][0]
        for (name, _path, goal), (cpu, wall) in zip(PAGES, results, strict=True):
            verdict = "" if goal is None else f"≤ {goal:g} ms: {'met' if cpu <= goal else 'NOT met'}"
            print(f"{name:<30} {cpu:>8.2f} {cpu / hello_cpu:>8.1f} {wall:>8.2f}  {verdict}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
