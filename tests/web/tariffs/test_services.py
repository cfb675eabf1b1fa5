import re

import pytest
from sqlalchemy import func, select

from portal.models import Account, AuditEvent, LedgerEntry, Subscription
from tests import factories
from tests.helpers import key_of


@pytest.fixture
def line(db_session):
    smart = factories.make_tariff(db_session, name="Smart")
    other_tariff = factories.make_tariff(db_session, name="Kids")
    account = factories.make_line(db_session, "+79161234567", tariff=smart, balance=100000)
    factories.make_login(db_session, account)
    s = dict(
        who=factories.make_service(db_session, name="Who called", category="calls", monthly_fee=1500),
        hidden=factories.make_service(db_session, name="Hidden number", category="calls", connection_fee=3000,
                                      monthly_fee=3900),
        kids_only=factories.make_service(db_session, name="Kids pack", category="internet", monthly_fee=9000),
        cinema=factories.make_service(db_session, name="Online cinema", category="subscription", monthly_fee=29900,
                                      refund_unused=True),
        numbers=factories.make_service(db_session, name="Number management", category="number_management",
                                       monthly_fee=0),
        tv=factories.make_service(db_session, name="TV Basic", category="tv", kind="tv"),
        old=factories.make_service(db_session, name="Old thing", archived=True),
    )
    s["kids_only"].tariffs.append(other_tariff)
    s["hidden"].conflicts.append(s["who"])
    db_session.commit()
    return account, s


@pytest.fixture
def signed_in(client, line):
    client.post_form("/auth/login", {"phone": "+79161234567", "password": factories.PASSWORD})
    return client



def connect(client, service, **kwargs):
    page = client.get(f"/services/{service.id}")
    return client.post_form(f"/services/{service.id}", {"idempotency_key": key_of(page.text)}, **kwargs)


def ledger_matches(db_session, account_id):
    db_session.expire_all()
    total = db_session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.account_id == account_id))
    return total == db_session.get(Account, account_id).balance


def test_the_catalog_groups_services_by_category_with_fees(signed_in, line):
    page = signed_in.get("/services/").text
    for shown in ("Calls", "Internet", "Paid subscriptions", "Number management", "Who called", "15.00",
                  "connection", "30.00", "free"):
        assert shown in page
    assert "TV Basic" not in page and "Old thing" not in page
    assert "does not work with your tariff" in page  # Kids pack on Smart


def test_connecting_charges_the_fee_and_this_months_share(signed_in, db_session, line):
    account, s = line
    page = signed_in.get(f"/services/{s['hidden'].id}").text
    assert "30.00" in page and "39.00" in page
    assert connect(signed_in, s["hidden"]).status_code == 303
    subscription = db_session.scalars(select(Subscription)).one()
    assert subscription.service_id == s["hidden"].id and subscription.status == "active"
    fees = db_session.scalars(select(LedgerEntry.amount).where(LedgerEntry.kind == "service_fee")).all()
    assert -3000 in fees and len(fees) == 2 and all(f < 0 for f in fees) and sum(fees) >= -6900
    assert ledger_matches(db_session, account.id)
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "service_connected")).one()
    assert "is connected" in signed_in.get("/services/").text


def test_a_double_submit_connects_and_charges_once(signed_in, db_session, line):
    _, s = line
    key = key_of(signed_in.get(f"/services/{s['who'].id}").text)
    for _ in range(2):
        assert signed_in.post_form(f"/services/{s['who'].id}", {"idempotency_key": key}).status_code == 303
    assert db_session.scalar(select(func.count()).select_from(Subscription)) == 1
    fees = select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "service_fee")
    assert db_session.scalar(fees) == 1


def test_a_service_for_other_tariffs_is_refused_with_the_reason(signed_in, db_session, line):
    _, s = line
    response = signed_in.post_form(f"/services/{s['kids_only'].id}", {"idempotency_key": "k" * 24})
    assert response.status_code == 422 and "does not work with your tariff" in response.text
    assert db_session.scalar(select(func.count()).select_from(Subscription)) == 0


def test_services_that_clash_are_refused(signed_in, db_session, line):
    _, s = line
    connect(signed_in, s["who"])
    page = signed_in.get(f"/services/{s['hidden'].id}").text
    assert "cannot work together with “Who called”" in page
    response = signed_in.post_form(f"/services/{s['hidden'].id}", {"idempotency_key": "c" * 24})
    assert response.status_code == 422


def test_too_low_a_balance_is_refused(signed_in, db_session, line):
    account, s = line
    account.balance = 100
    db_session.commit()
    response = signed_in.post_form(f"/services/{s['cinema'].id}", {"idempotency_key": "b" * 24})
    assert response.status_code == 422 and "balance is too low" in response.text


def test_archived_and_foreign_kind_services_are_404(signed_in, line):
    _, s = line
    for service in (s["old"], s["tv"]):
        assert signed_in.get(f"/services/{service.id}").status_code == 404
    assert signed_in.get("/services/999999").status_code == 404


def test_disconnect_with_the_labelled_button_keeps_the_fee(signed_in, db_session, line):
    account, s = line
    connect(signed_in, s["who"])
    subscription = db_session.scalars(select(Subscription)).one()
    catalog = signed_in.get("/services/").text
    link = re.search(rf'<a [^>]*href="/services/subscriptions/{subscription.id}/disconnect"[^>]*>([^<]*)</a>',
                     catalog)
    assert link.group(1) == "Disconnect" and "×" not in catalog
    page = signed_in.get(f"/services/subscriptions/{subscription.id}/disconnect").text
    assert "not returned" in page
    balance = db_session.get(Account, account.id).balance
    response = signed_in.post_form(f"/services/subscriptions/{subscription.id}/disconnect",
                                   {"idempotency_key": key_of(page)})
    assert response.status_code == 303
    db_session.expire_all()
    assert db_session.get(Subscription, subscription.id).status == "ended"
    assert db_session.get(Account, account.id).balance == balance
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "service_disconnected")).one()


def test_a_refundable_subscription_returns_the_unused_part(signed_in, db_session, line):
    account, s = line
    connect(signed_in, s["cinema"])
    subscription = db_session.scalars(select(Subscription)).one()
    page = signed_in.get("/services/subscriptions").text
    assert "Online cinema" in page and "299.00" in page and "Cancel the subscription" in page
    charged = -db_session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.kind == "service_fee"))
    signed_in.post_form(f"/services/subscriptions/{subscription.id}/disconnect", {"idempotency_key": "r" * 24})
    refund = db_session.scalar(select(LedgerEntry.amount).where(LedgerEntry.kind == "adjustment",
                                                                LedgerEntry.amount > 0,
                                                                LedgerEntry.description.contains("Unused")))
    assert 0 < refund <= charged
    assert ledger_matches(db_session, account.id)


def test_another_customers_subscription_is_404(signed_in, db_session, line):
    _, s = line
    stranger = factories.make_line(db_session, "+79031112233")
    theirs = factories.make_subscription(db_session, stranger, s["who"])
    db_session.commit()
    url = f"/services/subscriptions/{theirs.id}/disconnect"
    assert signed_in.get(url).status_code == 404
    assert signed_in.post_form(url, {"idempotency_key": "s" * 24}).status_code == 404
    assert db_session.get(Subscription, theirs.id).status == "active"


def test_htmx_confirmations_are_inline(signed_in, line):
    _, s = line
    response = signed_in.get(f"/services/{s['who'].id}", headers={"HX-Request": "true"})
    assert response.text.lstrip().startswith(f'<div id="connect-{s["who"].id}"')
    done = connect(signed_in, s["who"], headers={"HX-Request": "true"})
    assert done.status_code == 204 and done.headers["HX-Redirect"] == "/services/"


def test_service_pages_need_a_customer(client, line):
    for url in ("/services/", "/services/subscriptions"):
        assert client.get(url).status_code == 302


def test_cancelling_from_the_subscriptions_page_comes_back_to_it(signed_in, db_session, line):
    account, s = line
    subscription = factories.make_subscription(db_session, account, s["cinema"])
    db_session.commit()
    page = signed_in.get("/services/subscriptions").text
    assert f"/services/subscriptions/{subscription.id}/disconnect?back=subscriptions" in page
    form = signed_in.get(f"/services/subscriptions/{subscription.id}/disconnect?back=subscriptions").text
    assert 'name="back" value="subscriptions"' in form
    response = signed_in.post_form(f"/services/subscriptions/{subscription.id}/disconnect",
                                   {"idempotency_key": key_of(form), "back": "subscriptions"})
    assert response.location == "/services/subscriptions"
