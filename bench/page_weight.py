"""Page weight report: HTML and static assets, raw and gzipped (docs/architecture.md §6).

    .venv/bin/python bench/page_weight.py

Builds a throw-away SQLite database with the demo data, signs in as the first
demo number and as a staff member, and prints the size of every page.
"""
import gzip
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bench.common import PASSWORD, first_number_with_password  # noqa: E402
from portal import create_app  # noqa: E402
from portal.domain import demo, staff  # noqa: E402
from portal.domain.audit import SYSTEM  # noqa: E402
from portal.domain.passwords import hash_secret  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import HomeContract, Login, LoginAccount, Melody  # noqa: E402


def sign_in(client, url: str, **fields) -> None:
    """Post a sign-in form with the CSRF token of its page, as a browser does."""
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get(url).text).group(1)
    response = client.post(url, data={"csrf_token": token, **fields})
    assert response.status_code in (302, 303), f"{url}: {response.status_code}"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"TESTING": True, "SECRET_KEY": "bench",
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite", "RATELIMIT_ENABLED": False})
        with app.app_context():
            upgrade()
            demo.seed_demo(db.session)
            account = first_number_with_password(db.session)
            home = db.session.scalars(
                select(HomeContract).where(HomeContract.contract_no == demo.HOME_CONTRACT_NO)).one()
            home_login = Login(primary_account_id=home.account_id, password_hash=hash_secret(PASSWORD))
            db.session.add(home_login)
            db.session.flush()
            db.session.add(LoginAccount(login_id=home_login.id, account_id=home.account_id))
            db.session.commit()
            staff.create_staff(db.session, email="bench@example.com", name="Bench", role="admin",
                               password=PASSWORD, actor=SYSTEM, min_length=8)
            msisdn = account.line.msisdn
            melody_id = db.session.scalar(select(Melody.service_id).order_by(Melody.service_id))
        rows = []
        visitor = app.test_client()
        for url in ("/auth/login", "/auth/password", "/auth/password/sent", "/admin/login"):
            rows.append((url, "visitor", visitor.get(url)))
        customer = app.test_client()
        sign_in(customer, "/auth/login", phone=msisdn, password=PASSWORD)
        for url in ("/", "/settings/", "/settings/password", "/tariffs/", "/services/", "/services/subscriptions",
                    "/numbers/", "/numbers/link", "/numbers/details", "/numbers/sms", "/settings/alerts",
                    "/settings/sessions", "/settings/missed-calls", "/settings/internet", "/settings/close",
                    "/settings/forwarding", "/settings/blacklist", "/settings/voicemail", "/settings/ringback",
                    f"/settings/ringback/melodies/{melody_id}", "/settings/preferences", "/settings/contracts",
                    "/archive"):
            rows.append((url, "customer", customer.get(url)))
        household = app.test_client()
        sign_in(household, "/auth/login", phone=demo.HOME_CONTRACT_NO, password=PASSWORD)
        for url in ("/", "/numbers/traffic", "/numbers/traffic/sessions", "/home/tv", "/home/tv/pin", "/home/extras",
                    "/home/pause", "/tariffs/"):
            rows.append((url, "home", household.get(url)))
        rows.append(("/?block=allowances (htmx)", "customer",
                     customer.get("/?block=allowances", headers={"HX-Request": "true"})))
        statements = []
        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        customer.get("/")
        print(f"dashboard: {len(statements)} SQL queries")
        statements.clear()
        household.get("/")
        print(f"home dashboard: {len(statements)} SQL queries")
        clerk = app.test_client()
        sign_in(clerk, "/admin/login", email="bench@example.com", password=PASSWORD)
        for url in ("/admin/", "/admin/?q=%2B7916", "/admin/sms", "/admin/links", "/admin/provisioning"):
            rows.append((url, "staff", clerk.get(url)))
        print(f"{'page':34} {'as':9} {'status':>6} {'bytes':>7} {'gzip':>6}")
        for url, who, response in rows:
            print(f"{url:34} {who:9} {response.status_code:>6} {len(response.data):>7} "
                  f"{len(gzip.compress(response.data)):>6}")
        # Every asset any page loads: the login page's, plus the SMS page's counter script.
        pages = visitor.get("/auth/login").text + customer.get("/numbers/sms").text
        total_raw = total_gz = 0
        for asset in dict.fromkeys(re.findall(r'(?:href|src|data-htmx)="(/static/[^"]+)"', pages)):
            data = visitor.get(asset).data
            total_raw += len(data)
            total_gz += len(gzip.compress(data))
            print(f"{asset.split('?')[0]:38} {len(data):>7} {len(gzip.compress(data)):>6}")
        print(f"{'all CSS + JS':38} {total_raw:>7} {total_gz:>6}")


if __name__ == "__main__":
    main()
