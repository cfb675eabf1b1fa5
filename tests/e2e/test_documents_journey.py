"""A home contract downloads last month's invoice and act as PDF, JavaScript on and off; a line its statement."""
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.models import LedgerEntry, utcnow
from tests import factories
from tests.e2e.test_sms_login_journey import sign_in, url_path_is

CONTRACT = "HC-100200"
JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])


def last_month():
    return utcnow().replace(day=1, hour=12) - timedelta(days=1)


@pytest.fixture
def contract(live_server) -> int:
    with live_server.app_context() as session:
        account = factories.make_home_contract(session, CONTRACT, balance=0)
        session.add_all([
            LedgerEntry(account_id=account.id, amount=150000, kind="card_topup", description="Card *4242",
                        created_at=last_month()),
            LedgerEntry(account_id=account.id, amount=-99000, kind="tariff_fee", description="Monthly fee",
                        created_at=last_month() + timedelta(hours=1))])
        account.balance = 51000
        factories.make_login(session, account)
        session.commit()
        return account.id


@JS
def test_a_contract_downloads_its_invoice_and_act(page_factory, live_server, contract, js, tmp_path):
    page = page_factory(js)
    page.goto("/auth/login")
    sign_in(page, CONTRACT, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    page.goto("/payments/")
    page.get_by_role("link", name="Statements, invoices and acts").click()
    expect(page).to_have_url(url_path_is("/documents"))
    month = f"{last_month():%Y-%m}"
    row = page.locator("tbody tr").nth(1)
    expect(row).to_contain_text("₽1,500.00")
    expect(row).to_contain_text("₽990.00")
    for kind, number in (("invoice", "I"), ("act", "A")):
        with page.expect_download() as download:
            row.locator(f"a[href='/documents/{kind}-{month}.pdf']").click()
        assert download.value.suggested_filename == f"{number}-HC100200-{month.replace('-', '')}.pdf"
        assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
