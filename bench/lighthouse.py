"""First paint on 2G (docs/architecture.md §6): Lighthouse on the sign-in pages and the dashboard.

    .venv/bin/python bench/lighthouse.py [--runs 3] [--port 5077]

Builds a throw-away SQLite database with the demo data, serves it with gunicorn
(threaded workers, which keep connections alive; compression and static files
are the portal's own),
signs in as the first demo number and runs Lighthouse 13 with 2G-like simulated
throttling: 300 ms round trip, 250 kbit/s, CPU 4x slower (--cpu-slowdown), a phone's screen.
Prints LCP, FCP, the bytes transferred and the accessibility score per page
(the median run's figures when --runs > 1).

Lighthouse comes from npm: $LIGHTHOUSE if set, else it is installed once into
~/.cache/portal-bench (never into the repository). The browser is Debian's
Chromium ($CHROME_PATH, default /usr/bin/chromium); nothing downloads one.
"""
import argparse
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import prepare_database, sign_in, start_server, stop  # noqa: E402

LIGHTHOUSE_VERSION = "13"
CACHE = Path.home() / ".cache" / "portal-bench"
PAGES = [("sign-in", "/auth/login", False), ("SMS password", "/auth/password", False), ("dashboard", "/", True)]
THROTTLING = ["--throttling-method=simulate", "--throttling.rttMs=300", "--throttling.throughputKbps=250"]


def lighthouse_binary() -> str:
    if os.environ.get("LIGHTHOUSE"):
        return os.environ["LIGHTHOUSE"]
    binary = CACHE / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        print(f"Installing lighthouse@{LIGHTHOUSE_VERSION} into {CACHE} …", file=sys.stderr)
        subprocess.run(["npm", "install", "--prefix", str(CACHE), "--no-audit", "--no-fund",
                        f"lighthouse@{LIGHTHOUSE_VERSION}"], check=True, stdout=subprocess.DEVNULL)
    return str(binary)


def warm_up(base: str, cookie: str) -> None:
    """Serve every measured page, its picture and static files a few times first.

    A fresh worker compiles its templates and compresses each static file once (brotli at
    its best setting takes a few hundred ms for htmx); that is a deploy's first minute,
    not what a customer on 2G meets, and Lighthouse would count it as server time.
    """
    for _ in range(8):
        for _name, path, signed_in in PAGES:
            page = urllib.request.urlopen(urllib.request.Request(
                base + path, headers={"Cookie": cookie} if signed_in else {})).read().decode()
            assets = re.findall(r'(?:href|src)="(/static/[^"]+|/auth/captcha/[^"]+\.png)"', page)
            for asset in assets:
                for coding in ("br", "gzip"):
                    urllib.request.urlopen(urllib.request.Request(
                        base + asset.replace("&amp;", "&"), headers={"Accept-Encoding": coding})).read()


def run_lighthouse(binary: str, url: str, headers: dict, out: Path, cpu_slowdown: float) -> dict:
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
    subprocess.run([binary, url, "--quiet", "--output=json", f"--output-path={out}",
                    "--only-categories=performance,accessibility", "--form-factor=mobile", *THROTTLING,
                    f"--throttling.cpuSlowdownMultiplier={cpu_slowdown}",
                    f"--extra-headers={json.dumps(headers)}",
                    "--chrome-flags=--headless=new --no-sandbox --disable-gpu --no-first-run"],
                   check=True, env=env)
    report = json.loads(out.read_text())
    audits = report["audits"]
    accessibility_audits = {ref["id"] for ref in report["categories"]["accessibility"]["auditRefs"]}
    failed = [key for key in accessibility_audits if audits.get(key, {}).get("score") == 0]
    lcp_nodes = [item for item in (audits.get("lcp-breakdown-insight", {}).get("details") or {}).get("items", [])
                 if item.get("type") == "node"]
    return {
        "lcp_element": lcp_nodes[0]["selector"] if lcp_nodes else "?",
        "final_url": report.get("finalDisplayedUrl") or report.get("finalUrl"),
        "lcp": audits["largest-contentful-paint"]["numericValue"],
        "fcp": audits["first-contentful-paint"]["numericValue"],
        "bytes": audits["total-byte-weight"]["numericValue"],
        "accessibility": round(report["categories"]["accessibility"]["score"] * 100),
        "failed": failed,
        # Lighthouse's measure of this machine's CPU: the x4 slowdown is applied to what it observed,
        # so a busy or slow machine reads slower (a recent laptop scores about 1500-2500).
        "benchmark_index": report["environment"]["benchmarkIndex"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="Lighthouse runs per page; the median is printed")
    parser.add_argument("--port", type=int, default=5077)
    parser.add_argument("--cpu-slowdown", type=float, default=4,
                        help="Lighthouse's CPU multiplier, applied to what this machine's CPU did (default 4)")
    args = parser.parse_args()
    binary = lighthouse_binary()
    base = f"http://127.0.0.1:{args.port}"
    with tempfile.TemporaryDirectory() as tmp:
        secret_key = secrets.token_urlsafe(32)
        url = f"sqlite:///{tmp}/bench.sqlite"
        msisdn = prepare_database(url, secret_key)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
        env.update({"SECRET_KEY": secret_key, "DATABASE_URL": url})
        # Threaded workers keep the connection open for the page's CSS and script; a sync worker closes it
        # after each answer, and on 2G every new connection costs another round trip.
        server = start_server(env, args.port, worker_args=("-w", "2", "-k", "gthread", "--threads", "4"))
        try:
            cookie = sign_in(base, msisdn)
            warm_up(base, cookie)
            print(f"Lighthouse {subprocess.run([binary, '--version'], capture_output=True, text=True).stdout.strip()}, "
                  f"simulated 2G: RTT 300 ms, 250 kbit/s, CPU x{args.cpu_slowdown:g}, mobile screen")
            print(f"{'page':<14} {'LCP':>7} {'FCP':>7} {'transferred':>12} {'accessibility':>14}")
            for name, path, signed_in in PAGES:
                runs = [run_lighthouse(binary, base + path, {"Cookie": cookie} if signed_in else {},
                                       Path(tmp) / f"report-{i}.json", args.cpu_slowdown) for i in range(args.runs)]
                result = sorted(runs, key=lambda r: r["lcp"])[(len(runs) - 1) // 2]  # the median run (lower of two)
                if urllib.parse.urlsplit(result["final_url"]).path != path:
                    raise SystemExit(f"{path} ended at {result['final_url']}")
                print(f"{name:<14} {result['lcp'] / 1000:>6.2f}s {result['fcp'] / 1000:>6.2f}s "
                      f"{result['bytes'] / 1024:>9.1f} KB {result['accessibility']:>14}"
                      + (f"   failed: {', '.join(result['failed'])}" if result["failed"] else ""))
                print(f"{'':<14} largest paint: {result['lcp_element']}")
                print(f"{'':<14} this machine's CPU benchmark index: "
                      + ", ".join(f"{r['benchmark_index']:.0f}" for r in runs))
                if args.runs > 1:
                    print(f"{'':<14} LCP of each run: {statistics.median(r['lcp'] for r in runs) / 1000:.2f}s median, "
                          + ", ".join(f"{r['lcp'] / 1000:.2f}s" for r in runs))
        finally:
            stop(server)
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
