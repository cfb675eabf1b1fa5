"""Worker CPU per request of the hot pages, beside a hello-world Flask app under the same gunicorn.

    .venv/bin/python bench/page_cost.py [--requests 400] [--rounds 10] [--database-url URL] [--port 5078]

Builds the demo (on a throw-away SQLite database, or on the empty database at --database-url),
serves the portal and bench/hello.py side by side, each with one synchronous gunicorn worker, signs
in as the first demo number and asks each page --requests times, one after the other, after a
warm-up. The worker's CPU time (user + system: the scheduler's nanoseconds in /proc/<pid>/schedstat)
divided by the requests is what a page costs a server; the ratio to the hello-world app's cost is
what the budget (docs/architecture.md §6) is written in, since it holds from one machine to the
next. The requests go in --rounds rounds, each a round of the page and one of hello-world (as many
requests, at least 100), so both are measured under the same load of a shared machine; the figures are the
medians of the rounds (the ratio: of each round's ratio). This is a benchmark, not a test: it prints
figures and the goals of issue 16 (dashboard ≤ 4 ms, call details ≤ 10 ms).
"""
import argparse
import http.client
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import prepare_database, sign_in, start_server, stop  # noqa: E402

PAGES = [("hello world (bench/hello.py)", "/", None), ("sign-in page", "/auth/login", None),
         ("dashboard", "/", 4.0), ("call details, 50 rows", "/numbers/details", 10.0),
         ("payment history", "/payments/history", None), ("services", "/services/", None)]


HELLO_ROUND = 100  # hello-world's requests a round at least: fewer take too little CPU to measure on a busy machine


def worker_pid(master: int) -> int:
    for _ in range(50):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise SystemExit("no gunicorn worker")


def cpu_seconds(pid: int) -> float:
    """The process's CPU time in nanoseconds' resolution: /proc/<pid>/stat counts clock ticks (10 ms), as long as
    thirty hello-world requests."""
    tasks = Path(f"/proc/{pid}/task").iterdir()
    return sum(int(Path(task, "schedstat").read_text().split()[0]) for task in tasks) / 1e9


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
    worker = worker_pid(master)
    cpu, wall = cpu_seconds(worker), time.perf_counter()
    for _ in range(requests):
        get(port, path, cookie)
    return (cpu_seconds(worker) - cpu) * 1000 / requests, (time.perf_counter() - wall) * 1000 / requests


def measure_beside_hello(page: tuple, hello: tuple, path: str, cookie: str | None, requests: int,
                         rounds: int) -> dict:
    """The page and hello-world in alternate rounds: medians of CPU ms and wall ms a request, and of the ratio."""
    (port, master), (hello_port, hello_master) = page, hello
    for _ in range(max(20, requests // 10)):
        get(port, path, cookie)
        get(hello_port, "/", None)
    each = max(1, requests // rounds)
    pages, hellos = [], []
    for n in range(rounds):
        order = ("page", "hello") if n % 2 else ("hello", "page")
        for which in order:
            if which == "page":
                pages.append(measure(port, master, path, cookie, each))
            else:
                hellos.append(measure(hello_port, hello_master, "/", None, max(each, HELLO_ROUND)))
    return {"cpu": statistics.median(p[0] for p in pages), "wall": statistics.median(p[1] for p in pages),
            "ratio": statistics.median(p[0] / h[0] for p, h in zip(pages, hellos, strict=True)),
            "hello": [h[0] for h in hellos], "hello_wall": [h[1] for h in hellos]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--database-url", help="an empty database to build the demo in (default: SQLite)")
    parser.add_argument("--port", type=int, default=5078, help="the portal's; hello-world answers on the next")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    one_sync_worker = ("-w", "1", "-k", "sync")
    tmp = tempfile.mkdtemp()
    try:
        secret_key = secrets.token_urlsafe(32)
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite"
        msisdn = prepare_database(url, secret_key)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
        env.update({"SECRET_KEY": secret_key, "DATABASE_URL": url, "PORTAL_RATELIMIT_ENABLED": "false"})
        results, hellos, hello_walls = [], [], []
        hello = start_server(env, args.port + 1, app="bench.hello:app", worker_args=one_sync_worker)
        try:
            portal = start_server(env, args.port, worker_args=one_sync_worker)
            try:
                cookie = sign_in(f"http://127.0.0.1:{args.port}", msisdn)
                for _name, path, _goal in PAGES[1:]:
                    result = measure_beside_hello((args.port, portal.pid), (args.port + 1, hello.pid), path,
                                                  cookie if path != "/auth/login" else None, args.requests,
                                                  args.rounds)
                    results.append(result)
                    hellos += result["hello"]
                    hello_walls += result["hello_wall"]
            finally:
                stop(portal)
        finally:
            stop(hello)
        results.insert(0, {"cpu": statistics.median(hellos), "wall": statistics.median(hello_walls), "ratio": 1.0})
        database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        print(f"{args.requests} requests a page in {args.rounds} rounds, each beside as many hello-world ones; "
              f"one sync gunicorn worker each, demo data on {database}; medians of the rounds")
        print(f"{'page':<30} {'CPU ms':>8} {'× hello':>8} {'wall ms':>8}  goal")
        for (name, _path, goal), result in zip(PAGES, results, strict=True):
            cpu = result["cpu"]
            verdict = "" if goal is None else f"≤ {goal:g} ms: {'met' if cpu <= goal else 'NOT met'}"
            print(f"{name:<30} {cpu:>8.2f} {result['ratio']:>8.1f} {result['wall']:>8.2f}  {verdict}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
