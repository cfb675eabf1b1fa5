"""Two portal processes (gunicorn, as on two machines) against one PostgreSQL and one Redis keep every guarantee.

Nothing in a web worker's memory decides anything: the SMS-password quota is counted and serialised in the
database, the rate limits live in Redis, a double-submitted transfer is recognised by its idempotency key
whichever process each copy reaches. Each scenario sends its requests to both processes at the same time.
"""
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import create_app
from portal.domain.captcha import answer_for
from portal.extensions import db
from portal.models import Account, PasswordRequest, Transfer
from tests import factories, services
from tests.conftest import _prepare_postgres, base_config

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]
SECRET = "two-processes-secret"
SENDER, RECIPIENT, STRANGER = "+79161230001", "+79161230002", "+79161230003"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def database_url():
    url = sa.make_url(services.require_postgres())
    url = url.set(database=f"{url.database}_two_processes").render_as_string(hide_password=False)
    _prepare_postgres(url)
    app = create_app({**base_config(url), "SECRET_KEY": SECRET})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture(scope="module")
def redis_url():
    url = services.require_redis()
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture(scope="module")
def portals(database_url, redis_url):
    """Two gunicorn processes, one sync worker each, on their own ports; yields their base URLs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "TEST_"))}
    env.update({"DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": SECRET,
                "PORTAL_RATELIMIT_LOGIN": '"4 per minute"', "PORTAL_RATELIMIT_LOGIN_NET": '"100 per minute"'})
    servers, bases = [], []
    for _ in range(2):
        port = free_port()
        servers.append(subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        bases.append(f"http://127.0.0.1:{port}")
    try:
        for base in bases:
            for _ in range(150):
                try:
                    urllib.request.urlopen(base + "/auth/login", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
            else:
                pytest.fail(f"{base} did not start")
        yield bases
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


@pytest.fixture
def people(database_url, redis_url):
    app = create_app({**base_config(database_url), "SECRET_KEY": SECRET})
    with app.app_context(), Session(db.engine) as session:
        for table in ("transfer", "password_request", "ledger_entry"):
            session.execute(sa.text(f"delete from {table}"))
        session.commit()
        for msisdn in (SENDER, RECIPIENT):
            factories.ensure_login(session, msisdn)
        session.commit()
    redis.Redis.from_url(redis_url).flushdb()
    yield app
    with app.app_context():
        db.engine.dispose()


class Browser:
    """One person's cookies; the requests may go to either process."""

    def __init__(self):
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, url: str) -> str:
        return self.opener.open(url, timeout=30).read().decode()

    def post(self, url: str, fields: dict) -> tuple[int, str, str]:
        """Status, final URL and body (redirects followed, errors answered as they are)."""
        try:
            response = self.opener.open(url, data=urllib.parse.urlencode(fields).encode(), timeout=30)
            return response.status, response.url, response.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, url, err.read().decode()


def hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1)


def at_once(*calls):
    with ThreadPoolExecutor(len(calls)) as pool:
        return [future.result() for future in [pool.submit(call) for call in calls]]


def test_the_sms_password_quota_holds_across_processes(portals, people):
    forms = []
    for base in portals:  # a captcha from each process: either may check the other's
        browser = Browser()
        page = browser.get(f"{base}/auth/password?phone={SENDER[2:]}")
        token = hidden(page, "captcha_token")
        forms.append((browser, base, {"csrf_token": hidden(page, "csrf_token"), "phone": SENDER[2:],
                                      "captcha_token": token, "captcha": answer_for(token, key=SECRET, length=5)}))
    answers = at_once(*[lambda b=b, u=u, f=f: b.post(f"{u}/auth/password", f) for b, u, f in forms])
    sent = [a for a in answers if "/auth/password/sent" in a[1]]
    refused = [a for a in answers if "Too many requests for this number" in a[2]
               or "Слишком много запросов для этого номера" in a[2]]
    assert len(sent) == 1 and len(refused) == 1, [(status, url) for status, url, _ in answers]
    with people.app_context(), Session(db.engine) as session:
        assert session.scalar(select(func.count(PasswordRequest.id))) == 1


def test_a_transfer_sent_to_both_processes_moves_money_once(portals, people):
    browser = Browser()
    page = browser.get(f"{portals[0]}/auth/login")
    status, url, _ = browser.post(f"{portals[0]}/auth/login", {"csrf_token": hidden(page, "csrf_token"),
                                                               "phone": SENDER, "password": factories.PASSWORD})
    assert urllib.parse.urlsplit(url).path == "/", url
    form = browser.get(f"{portals[1]}/payments/transfer")  # signed in on the other process too
    fields = {"csrf_token": hidden(form, "csrf_token"), "idempotency_key": hidden(form, "idempotency_key"),
              "recipient": RECIPIENT, "amount": "15"}
    answers = at_once(*[lambda u=u: browser.post(f"{u}/payments/transfer", fields) for u in portals])
    assert {urllib.parse.urlsplit(url).path for _, url, _ in answers} == {
        urllib.parse.urlsplit(answers[0][1]).path}, "both copies end on the same transfer's page"
    with people.app_context(), Session(db.engine) as session:
        assert session.scalar(select(func.count(Transfer.id))) == 1
        sender = session.scalar(select(Account).join(Account.line).where(Account.line.has(msisdn=SENDER)))
        recipient = session.scalar(select(Account).join(Account.line).where(Account.line.has(msisdn=RECIPIENT)))
        assert (sender.balance, recipient.balance) == (10000 - 1500, 10000 + 1500)


def test_the_sign_in_limit_is_shared_through_redis(portals, people):
    browser = Browser()
    page = browser.get(f"{portals[0]}/auth/login")
    wrong = {"csrf_token": hidden(page, "csrf_token"), "phone": STRANGER, "password": "not-this-one"}
    # The limit is 4 a minute per address, counted in Redis: two tries on each process use it up.
    statuses = [browser.post(f"{portals[i % 2]}/auth/login", wrong)[0] for i in range(4)]
    assert 429 not in statuses, statuses
    assert {browser.post(f"{base}/auth/login", wrong)[0] for base in portals} == {429}
