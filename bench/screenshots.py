"""Screenshots of every page at 360 px and 1280 px, for a person to look at (issue: the phone experience).

    .venv/bin/python bench/screenshots.py [FOLDER] [--lang en]

Builds a throw-away SQLite database with the demo data, serves the portal on a free
local port, and drives Debian's Chromium through every page a customer reaches (the
family head's line, the child's line through the switcher, the home contract), the
sign-in pages and every staff page. Writes FOLDER/<area>/<width>/<NNN>-<path>.png
(default folder: screenshots/, which git ignores) and prints the pages it visited.
"""
import logging
import re
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from sqlalchemy import select  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from portal import create_app  # noqa: E402
from portal.domain import demo, staff  # noqa: E402
from portal.domain.audit import SYSTEM  # noqa: E402
from portal.domain.passwords import hash_secret  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Account, HomeContract, Line, Login, LoginAccount  # noqa: E402
from tests.e2e.crawl import crawl  # noqa: E402

PASSWORD = "bench-password-1"
logging.getLogger("werkzeug").setLevel(logging.WARNING)
WIDTHS = (360, 1280)
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"]


def prepare(app) -> dict[str, int]:
    with app.app_context():
        upgrade()
        demo.seed_demo(db.session)
        head = db.session.scalar(select(Account).join(Line).where(Line.msisdn == "+79161234567"))
        child = db.session.scalar(select(Account).join(Line).where(Line.msisdn == "+79161234568"))
        home = db.session.scalar(select(Account).join(HomeContract)
                                 .where(HomeContract.contract_no == demo.HOME_CONTRACT_NO))
        # The demo gives the head a login without a password (for the saved card); it needs one to sign in.
        login = db.session.scalar(select(Login).where(Login.primary_account_id == head.id))
        if login is None:
            login = Login(primary_account_id=head.id)
            db.session.add(login)
        login.password_hash = hash_secret(PASSWORD)
        db.session.flush()
        linked = set(db.session.scalars(select(LoginAccount.account_id).where(LoginAccount.login_id == login.id)))
        db.session.add_all([LoginAccount(login_id=login.id, account_id=account.id)
                            for account in (head, child, home) if account.id not in linked])
        db.session.commit()
        staff.create_staff(db.session, email="bench@example.com", name="Bench", role="admin",
                           password=PASSWORD, actor=SYSTEM, min_length=8)
        return {"head": head.id, "child": child.id, "home": home.id}


def shoot(page, folder: Path, counter: list[int]):
    def visit(page, href, response):
        counter[0] += 1
        name = re.sub(r"[^a-z0-9]+", "-", href.lower()).strip("-") or "home"
        path = folder / f"{counter[0]:03d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"{response.status} {href} -> {path}")
    return visit


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    lang = "en" if "--lang" in sys.argv and sys.argv[-1] == "en" else "ru"
    out = Path(args[0] if args else "screenshots")
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite"})
        ids = prepare(app)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for width in WIDTHS:
                context = browser.new_context(base_url=base, viewport={"width": width, "height": 800})
                page = context.new_page()
                counter = [0]
                if lang == "en":
                    page.goto("/auth/login")
                    page.click("footer button[value=en]")
                visitor = out / "visitor" / str(width)
                visitor.mkdir(parents=True, exist_ok=True)
                for href in ("/auth/login", "/auth/password", "/admin/login"):
                    shoot(page, visitor, counter)(page, href, page.goto(href))
                page.goto("/auth/login")
                page.fill("#login-form input[name=phone]", "+79161234567")
                page.fill("#login-form input[name=password]", PASSWORD)
                page.click("#login-form button[type=submit]:not([formaction])")
                page.wait_for_url(base + "/")
                for area, account in (("line", "head"), ("child", "child"), ("home", "home")):
                    page.goto("/")
                    page.request.post(base + "/numbers/focus", form={
                        "account": str(ids[account]), "next": "/",
                        "csrf_token": page.locator("meta[name=csrf-token]").get_attribute("content")})
                    folder = out / area / str(width)
                    folder.mkdir(parents=True, exist_ok=True)
                    crawl(page, shoot(page, folder, counter))
                context.clear_cookies()
                page.goto("/admin/login")
                page.fill("main form input[name=email]", "bench@example.com")
                page.fill("main form input[name=password]", PASSWORD)
                page.click("main form[action='/admin/login'] button[type=submit]")
                page.wait_for_url(base + "/admin/")
                folder = out / "staff" / str(width)
                folder.mkdir(parents=True, exist_ok=True)
                crawl(page, shoot(page, folder, counter), start="/admin/?q=916", area="/admin")
                context.close()
            browser.close()
        server.shutdown()


if __name__ == "__main__":
    main()
