"""The documents page: a line's statements, a home contract's invoices and acts, each as a PDF of the account in
focus only."""
from datetime import datetime, timedelta

import pytest

from portal.models import AuditEvent, LedgerEntry, utcnow
from tests import factories
from tests.web.account.test_home_pause import CONTRACT, make_home


def last_month_noon() -> datetime:
    return utcnow().replace(day=1, hour=12) - timedelta(days=1)


@pytest.fixture
def home(db_session):
    return make_home(db_session, CONTRACT, tariff=factories.make_tariff(db_session, kind="home", monthly_fee=99000))


@pytest.fixture
def home_signed_in(client, home):
    assert client.post_form("/auth/login", {"phone": CONTRACT, "password": factories.PASSWORD}).status_code == 303
    return client


@pytest.fixture
def line_signed_in(client, db_session, login_as):
    account = factories.make_line(db_session, "+79161234567", balance=0)
    db_session.add_all([
        LedgerEntry(account_id=account.id, amount=50000, kind="card_topup", description="Card *4242",
                    created_at=last_month_noon()),
        LedgerEntry(account_id=account.id, amount=-35000, kind="tariff_fee", description="Monthly fee",
                    created_at=last_month_noon() + timedelta(hours=1))])
    account.balance = 15000
    db_session.commit()
    login_as("+79161234567")
    return client


def test_a_line_lists_its_months_with_statements(line_signed_in):
    page = line_signed_in.get("/documents")
    assert page.status_code == 200
    last = last_month_noon()
    assert f'href="/documents/statement-{last:%Y-%m}.pdf"' in page.text
    assert f'href="/documents/statement-{utcnow():%Y-%m}.pdf"' in page.text  # this month, so far
    assert "₽500.00" in page.text and "₽350.00" in page.text and "₽150.00" in page.text
    assert "/documents/invoice-" not in page.text and "/documents/act-" not in page.text


def test_a_statement_downloads_as_a_pdf_named_by_its_number(line_signed_in):
    month = f"{last_month_noon():%Y-%m}"
    response = line_signed_in.get(f"/documents/statement-{month}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"] == f"attachment; filename=S-79161234567-{month.replace('-', '')}.pdf"
    assert "no-store" in response.headers["Cache-Control"]


@pytest.mark.parametrize("path", ["/documents/invoice-{m}.pdf", "/documents/statement-2026-13.pdf",
                                  "/documents/statement-2999-01.pdf", "/documents/receipt-{m}.pdf",
                                  "/documents/statement-{m}x.pdf"])
def test_what_the_line_does_not_have_is_404(line_signed_in, path):
    assert line_signed_in.get(path.format(m=f"{last_month_noon():%Y-%m}")).status_code == 404


def test_a_home_contract_has_invoices_and_acts_the_act_once_the_month_is_over(home_signed_in, home, db_session):
    db_session.add(LedgerEntry(account_id=home.id, amount=-99000, kind="tariff_fee", description="Monthly fee",
                               created_at=last_month_noon()))
    db_session.commit()
    page = home_signed_in.get("/documents").text
    last, this = f"{last_month_noon():%Y-%m}", f"{utcnow():%Y-%m}"
    assert f"/documents/invoice-{last}.pdf" in page and f"/documents/act-{last}.pdf" in page
    assert f"/documents/invoice-{this}.pdf" in page and f"/documents/act-{this}.pdf" not in page
    for kind in ("invoice", "act"):
        response = home_signed_in.get(f"/documents/{kind}-{last}.pdf")
        assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert home_signed_in.get(f"/documents/act-{this}.pdf").status_code == 404
    assert home_signed_in.get(f"/documents/statement-{last}.pdf").status_code == 404


def test_only_the_account_in_focus_is_ever_documented(client, db_session, line_signed_in):
    other = factories.make_line(db_session, "+79031112233", balance=0)
    db_session.add(LedgerEntry(account_id=other.id, amount=77700, kind="card_topup", description="x",
                               created_at=last_month_noon()))
    db_session.commit()
    month = f"{last_month_noon():%Y-%m}"
    response = line_signed_in.get(f"/documents/statement-{month}.pdf")
    assert "79161234567" in response.headers["Content-Disposition"]
    assert "₽777.00" not in line_signed_in.get("/documents").text
    assert db_session.query(AuditEvent).filter_by(account_id=other.id).count() == 0


def test_a_new_customer_without_entries_sees_a_plain_sentence(client, db_session, login_as):
    factories.make_line(db_session, "+79161234567", balance=0)
    db_session.commit()
    login_as("+79161234567")
    assert "the first document appears" in client.get("/documents").text


def test_documents_need_a_sign_in(client):
    assert client.get("/documents").status_code in (302, 303)
    assert client.get("/documents/statement-2026-11.pdf").status_code in (302, 303)


def test_the_payments_page_leads_to_the_documents(line_signed_in):
    assert 'href="/documents"' in line_signed_in.get("/payments/").text


def test_the_documents_pages_sit_under_payments_in_the_tab_bar(line_signed_in):
    page = line_signed_in.get("/documents").text
    current = page[page.index('aria-current="page"') - 200:page.index('aria-current="page"') + 10]
    assert 'href="/payments/"' in current
