"""What the benchmarks share: a demo database with a signed-in customer, and a gunicorn to serve it.

The scripts run from the repository root (`.venv/bin/python bench/<script>.py`); each puts the root on
sys.path before importing this module.
"""
import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import select

from portal import create_app
from portal.domain import demo
from portal.domain.passwords import hash_secret
from portal.extensions import db
from portal.models import Account, Line, Login, LoginAccount

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-1"


def postgres_database(url: str, *, empty: bool) -> None:
    """Create the PostgreSQL database at ``url`` if it is missing; ``empty``: drop everything in it."""
    engine_url = sa.make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = sa.create_engine(engine_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(sa.text("select 1 from pg_database where datname = :n"), {"n": engine_url.database}):
            conn.execute(sa.text(f'create database "{engine_url.database}"'))
    admin.dispose()
    if empty:
        engine = sa.create_engine(engine_url)
        with engine.begin() as conn:
            conn.execute(sa.text("drop schema public cascade; create schema public"))
        engine.dispose()


def first_number_with_password(session) -> Account:
    """The demo's first number, its login given PASSWORD (the demo's family head has a login without one)."""
    account = session.scalars(select(Account).join(Line).order_by(Account.id)).first()
    login = session.scalar(select(Login).where(Login.primary_account_id == account.id))
    if login is None:
        login = Login(primary_account_id=account.id)
        session.add(login)
        session.flush()
        session.add(LoginAccount(login_id=login.id, account_id=account.id))
    login.password_hash = hash_secret(PASSWORD)
    return account


def prepare_database(url: str, secret_key: str) -> str:
    """The schema, the demo data and a password for the first demo number; returns that number."""
    app = create_app({"SECRET_KEY": secret_key, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        demo.seed_demo(db.session)
        msisdn = first_number_with_password(db.session).line.msisdn
        db.session.commit()
        db.engine.dispose()
    return msisdn


def start_server(env: dict, port: int, *, app: str = "wsgi:app", worker_args: tuple = ()) -> subprocess.Popen:
    """gunicorn in its own process group, answering on 127.0.0.1:port (waits until it does)."""
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen([str(gunicorn), *worker_args, "-b", f"127.0.0.1:{port}", app], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
            return server
        except urllib.error.HTTPError:
            return server  # it answers (a redirect to sign in, say)
        except OSError:
            time.sleep(0.2)
    stop(server)
    raise SystemExit(f"gunicorn {app} did not start")


def stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=30)


def sign_in(base: str, msisdn: str) -> str:
    """The Cookie header of a signed-in customer (the real form, CSRF token and all)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/auth/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'name="csrf_token" value="([^"]+)"', page)
    form = urllib.parse.urlencode({"csrf_token": token.group(1), "phone": msisdn, "password": PASSWORD}).encode()
    final = opener.open(base + "/auth/login", data=form)
    if urllib.parse.urlsplit(final.url).path != "/":
        raise SystemExit(f"signing in failed: ended at {final.url}")
    return "; ".join(f"{c.name}={c.value}" for c in jar)
