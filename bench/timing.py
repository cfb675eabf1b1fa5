"""Timing of the three sign-in forms for a known and an unknown identifier (issue 14.11).

    .venv/bin/python bench/timing.py [--rounds N]

A wrong password for a number with a login, or an SMS-password request for one of our numbers,
must take as long as the same request for a number we do not serve: otherwise the time tells who
is a customer. Each form is posted ``--rounds`` times for each case, interleaved (known, unknown,
known, ...) through the Flask test client on a fresh SQLite database built by the migrations;
limits and quotas are raised so every request does its full work. SMS delivery is handed to the
(in-memory) broker as in production, not run inline. Printed: the median time of each case and
the ratio known/unknown per form (goal: ≤ 1.2), on the CPU time of the process (the work done;
the wall time, shown too, also holds waits for a shared CPU). This is a benchmark, not a test.
"""
import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from tests import factories  # noqa: E402

KNOWN, UNKNOWN = "+79161234567", "+79169999999"
STAFF, NOBODY = "agent@example.com", "nobody@example.com"
GOAL = 1.2


def make_app(folder: str):
    app = create_app({
        "TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/timing.sqlite",
        "REDIS_URL": None, "RATELIMIT_ENABLED": False, "CAPTCHA_TEST_ANSWER": "BENCH",
        "SMS_QUOTAS": ((10 ** 6, 60),), "SMS_GLOBAL_PER_MINUTE": 10 ** 6,
        "LOGIN_MAX_FAILURES": 10 ** 6, "LOGIN_MAX_FAILURES_ALL_NETWORKS": 10 ** 6,
        "LOGIN_IP_MAX_FAILURES_PER_HOUR": 10 ** 6, "LOGIN_LOCK_BASE": timedelta(0),
        "CELERY": {"task_always_eager": False},  # SMS go to the broker, as with Redis in production
    })
    with app.app_context():
        upgrade()
        factories.make_login(db.session, factories.make_line(db.session, KNOWN))
        factories.make_staff(db.session, email=STAFF)
        db.session.commit()
    return app


def post(client, url: str, data: dict) -> tuple[float, float]:
    """(CPU seconds of this process, wall seconds) of one request.

    CPU time is the work the request does; on a shared machine the wall time also holds
    the waits for the CPU, which are noise here.
    """
    cpu, wall = time.process_time(), time.perf_counter()
    response = client.post_form(url, data)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert response.status_code in (303, 422), (url, response.status_code)
    return cpu, wall


def sms_request(client, phone: str) -> tuple[float, float]:
    token = client.get("/auth/password").text.split('name="captcha_token" value="')[1].split('"')[0]
    return post(client, "/auth/password", {"phone": phone, "captcha_token": token, "captcha": "BENCH"})


FORMS = {
    "customer sign-in (wrong password)": lambda c, known: post(
        c, "/auth/login", {"phone": KNOWN if known else UNKNOWN, "password": "wrong-password"}),
    "SMS password request": lambda c, known: sms_request(c, KNOWN if known else UNKNOWN),
    "staff sign-in (wrong password)": lambda c, known: post(
        c, "/admin/login", {"email": STAFF if known else NOBODY, "password": "wrong-password"}),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    from tests.conftest import PortalClient

    with tempfile.TemporaryDirectory() as folder:
        app = make_app(folder)
        app.test_client_class = PortalClient
        client = app.test_client()
        worst = 0.0
        print(f"{'form':36} {'known ms':>9} {'unknown ms':>11} {'ratio':>6}   (CPU; wall: known, unknown ms)")
        for name, send in FORMS.items():
            for known in (True, False):  # warm-up: first-use caches (the dummy hash, templates)
                send(client, known)
            times = {True: [], False: []}
            for _ in range(args.rounds):
                for known in (True, False):
                    times[known].append(send(client, known))
            known_ms, unknown_ms = (statistics.median(t[0] for t in times[k]) * 1000 for k in (True, False))
            known_wall, unknown_wall = (statistics.median(t[1] for t in times[k]) * 1000 for k in (True, False))
            ratio = known_ms / unknown_ms
            worst = max(worst, ratio, 1 / ratio)
            print(f"{name:36} {known_ms:9.1f} {unknown_ms:11.1f} {ratio:6.2f}   ({known_wall:.1f}, {unknown_wall:.1f})")
        print(f"worst ratio {worst:.2f} (goal ≤ {GOAL})")
        return 0 if worst <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
