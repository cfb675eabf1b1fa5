import re

import pytest
from sqlalchemy import func, select

from portal.models import Account, Allowance, AuditEvent, LedgerEntry, ProcessedRequest
from tests import factories
from tests.helpers import key_of


@pytest.fixture
def catalog(db_session):
    current = factories.make_tariff(db_session, name="Smart", monthly_fee=55000, minutes=600, data_mb=20480)
    bigger = factories.make_tariff(db_session, name="Smart Unlimited", monthly_fee=95000, minutes=1500,
                                   unlimited_data=True, switch_fee=0)
    paid = factories.make_tariff(db_session, name="Senior", monthly_fee=25000, minutes=400, switch_fee=5000)
    archived = factories.make_tariff(db_session, name="Smart (2019)", archived=True)
    elsewhere = factories.make_tariff(db_session, name="Piter Only", region="Saint Petersburg")
    home = factories.make_tariff(db_session, name="Home 100", kind="home")
    account = factories.make_line(db_session, "+79161234567", tariff=current, balance=20000)
    factories.make_login(db_session, account)
    db_session.commit()
    return dict(current=current, bigger=bigger, paid=paid, archived=archived, elsewhere=elsewhere, home=home,
                account=account)


@pytest.fixture
def signed_in(client, catalog):
    client.post_form("/auth/login", {"phone": "+79161234567", "password": factories.PASSWORD})
    return client


def switch(client, tariff, **kwargs):
    page = client.get(f"/tariffs/{tariff.id}")
    return client.post_form(f"/tariffs/{tariff.id}", {"idempotency_key": key_of(page.text)}, **kwargs)


def test_the_catalog_lists_what_this_line_may_take(signed_in, catalog):
    page = signed_in.get("/tariffs/").text
    for shown in ("Smart", "Smart Unlimited", "Senior", "your tariff", "unlimited internet", "600 min"):
        assert shown in page
    for hidden in ("Smart (2019)", "Piter Only", "Home 100"):
        assert hidden not in page
    assert page.count("Compare and switch") == 2


def test_the_comparison_shows_both_tariffs_and_the_cost(signed_in, catalog):
    page = signed_in.get(f"/tariffs/{catalog['paid'].id}").text
    assert "Smart" in page and "Senior" in page and "600 min" in page and "400 min" in page
    assert "50.00" in page and "takes effect now" in page


@pytest.mark.parametrize("which", ["archived", "elsewhere", "home"])
def test_tariffs_outside_the_offer_are_404(signed_in, catalog, which):
    assert signed_in.get(f"/tariffs/{catalog[which].id}").status_code == 404
    assert signed_in.post_form(f"/tariffs/{catalog[which].id}", {"idempotency_key": "k" * 24}).status_code == 404
    assert signed_in.get("/tariffs/999999").status_code == 404


def test_a_switch_charges_the_fee_recalculates_the_package_and_audits(signed_in, db_session, catalog):
    response = switch(signed_in, catalog["paid"])
    assert response.status_code == 303 and response.location == "/"
    db_session.expire_all()
    account = db_session.get(Account, catalog["account"].id)
    assert account.tariff_id == catalog["paid"].id and account.balance == 15000
    entry = db_session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "tariff_fee")).one()
    assert entry.amount == -5000
    assert db_session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.account_id == account.id)) \
        == account.balance
    allowance = db_session.scalars(select(Allowance)).one()
    assert 0 < allowance.minutes_total <= 400 and allowance.minutes_left == allowance.minutes_total
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "tariff_changed")).one()
    assert "Smart -> Senior" in event.detail and event.account_id == account.id
    assert "Your tariff is now Senior." in signed_in.get("/").text


def test_the_same_form_submitted_twice_switches_and_charges_once(signed_in, db_session, catalog):
    page = signed_in.get(f"/tariffs/{catalog['paid'].id}")
    data = {"idempotency_key": key_of(page.text)}
    assert signed_in.post_form(f"/tariffs/{catalog['paid'].id}", data).status_code == 303
    assert signed_in.post_form(f"/tariffs/{catalog['paid'].id}", data).status_code == 303
    assert db_session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "tariff_fee")) == 1
    assert db_session.scalar(select(func.count()).select_from(ProcessedRequest)) == 1


def test_too_low_a_balance_is_refused_with_the_reason(signed_in, db_session, catalog):
    catalog["account"].balance = 1000
    db_session.commit()
    page = signed_in.get(f"/tariffs/{catalog['paid'].id}").text
    assert "balance is too low" in page and 'name="idempotency_key"' not in page
    response = signed_in.post_form(f"/tariffs/{catalog['paid'].id}", {"idempotency_key": "x" * 24})
    assert response.status_code == 422 and "balance is too low" in response.text
    db_session.expire_all()
    assert db_session.get(Account, catalog["account"].id).tariff_id == catalog["current"].id


def test_a_blocked_line_cannot_switch(signed_in, db_session, catalog):
    catalog["account"].status = "blocked_lost"
    db_session.commit()
    response = signed_in.post_form(f"/tariffs/{catalog['bigger'].id}", {"idempotency_key": "y" * 24})
    assert response.status_code == 422 and "active line" in response.text


def test_a_tariff_archived_after_the_page_was_shown_is_refused(signed_in, db_session, catalog):
    page = signed_in.get(f"/tariffs/{catalog['bigger'].id}")
    catalog["bigger"].archived = True
    db_session.commit()
    response = signed_in.post_form(f"/tariffs/{catalog['bigger'].id}", {"idempotency_key": key_of(page.text)})
    assert response.status_code == 404


def test_a_missing_key_is_refused_without_change(signed_in, db_session, catalog):
    response = signed_in.post_form(f"/tariffs/{catalog['bigger'].id}", {"idempotency_key": ""})
    assert response.status_code == 422 and "expired" in response.text


def test_htmx_confirmation_is_inline(signed_in, catalog):
    response = signed_in.get(f"/tariffs/{catalog['bigger'].id}", headers={"HX-Request": "true"})
    assert response.text.lstrip().startswith(f'<div id="confirm-{catalog["bigger"].id}"')
    done = switch(signed_in, catalog["bigger"], headers={"HX-Request": "true"})
    assert done.status_code == 204 and done.headers["HX-Redirect"] == "/"


def test_tariff_pages_need_a_customer(client, catalog):
    assert client.get("/tariffs/").status_code == 302
    assert client.get(f"/tariffs/{catalog['bigger'].id}").status_code == 302


def test_a_post_without_csrf_is_refused(signed_in, catalog):
    assert signed_in.post(f"/tariffs/{catalog['bigger'].id}", data={"idempotency_key": "z" * 24}).status_code == 400


def test_the_current_tariff_comes_first_even_when_archived(signed_in, db_session, catalog):
    page = signed_in.get("/tariffs/").text
    cards = re.findall(r'id="tariff-(\d+)"', page)
    assert cards[0] == str(catalog["current"].id) and len(cards) == 3
    catalog["account"].tariff_id = catalog["archived"].id
    db_session.commit()
    page = signed_in.get("/tariffs/").text
    cards = re.findall(r'id="tariff-(\d+)"', page)
    assert cards[0] == str(catalog["archived"].id) and "Smart (2019)" in page and "your tariff" in page


def test_any_two_tariffs_can_be_compared(signed_in, catalog):
    page = signed_in.get("/tariffs/").text
    assert 'action="/tariffs/compare"' in page and 'name="a"' in page and 'name="b"' in page
    compared = signed_in.get("/tariffs/compare", query_string={"a": catalog["bigger"].id, "b": catalog["paid"].id})
    assert compared.status_code == 200
    table = compared.text[compared.text.index('<table class="compare">'):]
    assert "Smart Unlimited" in table and "Senior" in table and "1,500 min" in table and "400 min" in table
    assert "950.00" in table and "250.00" in table
    assert f'href="/tariffs/{catalog["bigger"].id}"' in compared.text


@pytest.mark.parametrize("which", ["archived", "elsewhere", "home"])
def test_only_listed_tariffs_can_be_compared(signed_in, catalog, which):
    response = signed_in.get("/tariffs/compare", query_string={"a": catalog["current"].id, "b": catalog[which].id})
    assert response.status_code == 422 and '<table class="compare">' not in response.text


def test_a_garbled_comparison_is_refused_politely(signed_in, catalog):
    assert signed_in.get("/tariffs/compare", query_string={"a": "x", "b": ""}).status_code == 422


def test_the_comparison_starts_with_the_current_tariff(signed_in, catalog):
    page = signed_in.get("/tariffs/compare")
    assert page.status_code == 200
    table = page.text[page.text.index('<table class="compare">'):]
    assert "Smart" in table and "600 min" in table
