"""Every page, as a checker sees it: axe-core (accessibility) and the Nu HTML Checker (valid HTML).

The crawler visits every page a customer reaches (the family head's line and the home
contract, demo data), the sign-in pages and every staff page. axe runs in the page at
360 px and must find no serious or critical violation; the Nu HTML Checker (vnu.jar)
reads the HTML the server sent and must report no error, except that it does not know
htmx's hx-* attributes. Both tools come from npm (`make test` installs them into .node/);
without them the test skips on a laptop and fails in CI.
"""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import LedgerEntry
from portal.payment_gateway.dev import NEEDS_3DS
from tests import factories, services
from tests.e2e.conftest import TIMEOUT_MS
from tests.e2e.crawl import crawl
from tests.e2e.test_sms_login_journey import sign_in, url_path_is

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / ".node/node_modules/axe-core/axe.min.js"
VNU = ROOT / ".node/node_modules/vnu-jar/build/dist/vnu.jar"
STAFF_EMAIL = "checker@example.com"
SERIOUS = ("serious", "critical")


class Audit:
    def __init__(self, folder: Path):
        self.folder = folder
        self.pages: dict[str, str] = {}  # file name -> URL
        self.violations: list[str] = []
        self.axe = AXE.read_text()

    def visit(self, page, href, response) -> None:
        name = f"{len(self.pages):03d}.html"
        (self.folder / name).write_text(response.text())
        self.pages[name] = href
        page.add_script_tag(content=self.axe)
        found = page.evaluate("""() => axe.run(document, {resultTypes: ['violations']}).then(r =>
            r.violations.map(v => ({id: v.id, impact: v.impact, html: v.nodes[0].html.slice(0, 160)})))""")
        self.violations += [f"{href}: {v['id']} ({v['impact']}) {v['html']}" for v in found if v["impact"] in SERIOUS]

    def html_errors(self) -> list[str]:
        result = subprocess.run(["java", "-jar", str(VNU), "--errors-only", "--format", "json", str(self.folder)],
                                capture_output=True, text=True, timeout=300)
        messages = json.loads(result.stderr or result.stdout)["messages"]
        return [f"{self.pages.get(Path(m.get('url', '')).name, m.get('url'))}: {m['message']} {m.get('extract', '')!r}"
                for m in messages if not m["message"].startswith("Attribute “hx-")]


@pytest.fixture
def checked_page(browser, live_server):
    services.require(f"axe-core at {AXE} (make test installs it)", AXE.exists())
    services.require(f"vnu.jar at {VNU} (make test installs it)", VNU.exists())
    services.require("java for the Nu HTML Checker", shutil.which("java") is not None)
    # The CSP forbids the injected axe script; the checker's own context bypasses it.
    context = browser.new_context(base_url=live_server.url, bypass_csp=True, viewport={"width": 360, "height": 740})
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def add_support_thread(session, *, account_id: int, staff_id: int, files_dir: str) -> None:
    """A request of the head's with a photo, an answer and an internal note: the crawler opens its page, staff
    theirs (with a saved answer to insert, whose page the crawler opens too)."""
    from sqlalchemy import select

    from portal.domain.support import attachments
    from portal.models import Login, SavedAnswer, SupportMessage, SupportRequest
    from tests import pictures

    login_id = session.scalar(select(Login.id).where(Login.primary_account_id == account_id))
    request = SupportRequest(account_id=account_id, login_id=login_id, category="quality", subject="No signal",
                             state="waiting", assigned_staff_id=staff_id)
    session.add(request)
    session.flush()
    first = SupportMessage(request_id=request.id, login_id=login_id, text="No signal at home.")
    session.add_all([first,
                     SupportMessage(request_id=request.id, staff_id=staff_id, text="Tower work.", internal=True),
                     SupportMessage(request_id=request.id, staff_id=staff_id, text="Fixed now."),
                     SavedAnswer(title="Tower works again", text="Hello {name}, {number} works again.")])
    session.flush()
    picture = attachments.process(pictures.jpeg(), name="IMG_0001.jpg", max_bytes=2 << 20, max_pixels=10 ** 7)
    _attachment, staged = attachments.attach(session, message_id=first.id, picture=picture, directory=files_dir,
                                             now=request.created_at)
    session.commit()
    staged.publish()


def add_guarded_sim_actions(session, *, account_id: int) -> None:
    """The head's line under the SIM lock, with another agent's SIM reissue waiting for a second check and a
    port-out under way: the staff page shows the approve form and the port-out's buttons."""
    from portal.models import GuardedAction, PortOut, SimLock, utcnow

    agent = factories.make_staff(session, email="first-agent@example.com")
    session.add_all([SimLock(account_id=account_id, since=utcnow()),
                     GuardedAction(account_id=account_id, kind="sim_reissue", state="awaiting_check",
                                   params='{"iccid": "89701011234567890123"}', requested_by=agent.id),
                     PortOut(account_id=account_id, recipient="Other Mobile", requested_on=utcnow().date())])
    session.commit()


def test_every_page_passes_axe_and_the_html_checker(checked_page, live_server, demo_family, tmp_path):
    page, audit = checked_page, Audit(tmp_path)
    with live_server.app_context() as session:
        staff = factories.make_staff(session, email=STAFF_EMAIL, role="admin")
        add_support_thread(session, account_id=demo_family["head"], staff_id=staff.id,
                           files_dir=live_server.app.config["SUPPORT_ATTACHMENTS_DIR"])
        add_guarded_sim_actions(session, account_id=demo_family["head"])

    for href in ("/auth/password", "/auth/login"):
        audit.visit(page, href, page.goto(href))

    sign_in(page, "8 916 123-45-67", factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    customer_pages = crawl(page, audit.visit)
    assert any(href.startswith("/payments/receipts/") for href in customer_pages)  # a history row's receipt
    # "Find an operation by its code" is a GET form, not a link: found, and not found (its error next to the field).
    with live_server.app_context() as session:
        code = session.scalar(select(LedgerEntry.code).where(LedgerEntry.account_id == demo_family["head"],
                                                             LedgerEntry.code.is_not(None)))
    for href in (f"/payments/find?code={code}", "/payments/find?code=ABCD-EFGH"):
        audit.visit(page, href, page.goto(href))
    page.goto("/")
    page.locator("#switch-account").select_option(str(demo_family["home"]))
    expect(page.locator("main")).to_contain_text("HC-100200")
    home_pages = crawl(page, audit.visit)
    # The public status pages (the home dashboard links the demo's notice; the crawl stays under "/").
    for href in ("/status", "/status?lang=en"):
        audit.visit(page, href, page.goto(href))
    # The development provider's pages (the crawl leaves /dev out): its card page and its 3-D Secure page.
    page.goto("/payments/topup")
    page.locator("#topup-form input[name=amount]").fill("100")
    page.locator("#topup-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/dev/pay/dev_[\w-]+$"))
    provider_page = page.url
    audit.visit(page, "/dev/pay/<reference>", page.goto(provider_page))
    page.locator("main input[name=card_number]").fill(NEEDS_3DS)
    page.locator("main input[name=expiry]").fill("12/40")
    page.locator("main input[name=cvc]").fill("123")
    page.locator("main form button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/3ds$"))
    audit.visit(page, "/dev/pay/<reference>/3ds", page.goto(page.url))
    # СБП: the portal's waiting page (the QR code, the bank app's button) and the provider's bank app page.
    page.goto("/payments/topup")
    page.locator("#topup-form input[name=amount]").fill("100")
    page.locator("#topup-form input[name=method][value=sbp]").check()
    page.locator("#topup-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/payments/[\w-]+/sbp$"))
    audit.visit(page, "/payments/<token>/sbp", page.goto(page.url))
    bank_app = page.locator("#sbp-payment .sbp-app a.button").get_attribute("href")
    audit.visit(page, "/dev/sbp/<reference>", page.goto(bank_app))

    page.context.clear_cookies()
    page.goto("/admin/login")
    audit.visit(page, "/admin/login", page.goto("/admin/login"))
    page.locator("main form input[name=email]").fill(STAFF_EMAIL)
    page.locator("main form input[name=password]").fill(factories.PASSWORD)
    page.locator("main form[action='/admin/login'] button[type=submit]").click()
    expect(page).to_have_url(url_path_is("/admin/"))
    staff_pages = crawl(page, audit.visit, start="/admin/?q=916", area="/admin")  # the search links the customers
    audit.visit(page, f"/admin/?q={code}", page.goto(f"/admin/?q={code}"))  # an operation by its code

    assert len(customer_pages) > 25 and len(home_pages) > 10 and len(staff_pages) > 5
    assert not audit.violations, "axe-core found serious or critical violations:\n" + "\n".join(audit.violations)
    errors = audit.html_errors()
    assert not errors, "the Nu HTML Checker found errors:\n" + "\n".join(errors)
