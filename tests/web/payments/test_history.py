import csv
import io
import re
from datetime import timedelta

import pytest

from portal.models import LedgerEntry, utcnow
from tests import factories


@pytest.fixture
def account(db_session):
    account = factories.make_line(db_session, "+79161234567", balance=0)
    factories.make_login(db_session, account)
    now = utcnow()
    rows = [(-55000, "tariff_fee", 40), (100000, "card_topup", 35), (-3000, "service_fee", 20),
            (-1250, "usage", 5), (-999, "usage", 3)] + [(-10, "usage", 2)] * 40
    for amount, kind, days in rows:
        db_session.add(LedgerEntry(account_id=account.id, amount=amount, kind=kind, description=f"{kind} test",
                                   created_at=now - timedelta(days=days)))
        account.balance += amount
    db_session.commit()
    return account


@pytest.fixture
def signed_in(client, account):
    client.post_form("/auth/login", {"phone": "+79161234567", "password": factories.PASSWORD})
    return client


def test_the_last_30_days_by_default_with_totals(signed_in):
    page = signed_in.get("/payments/history").text
    assert "Income: " in page and "30.00" in page  # the service fee 20 days ago
    assert "tariff_fee test" not in page  # 40 days ago: outside the default period
    assert "card_topup test" not in page


def test_a_chosen_period_and_kind(signed_in):
    start = (utcnow() - timedelta(days=60)).date().isoformat()
    page = signed_in.get(f"/payments/history?start={start}&kind=card_topup").text
    assert "card_topup test" in page and "usage test" not in page
    assert "1,000.00" in page


def test_paging_without_js_and_with_htmx(signed_in):
    first = signed_in.get("/payments/history").text
    more = re.search(r'<a href="([^"]+before=\d+[^"]*)"', first).group(1).replace("&amp;", "&")
    assert first.count("<tr>") == 30 + 1  # the header row and 30 entries
    plain = signed_in.get(more)
    assert "<html" in plain.text and "Back to the newest" in plain.text
    fragment = signed_in.get(more, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and fragment.text.count("<tr>") >= 10


def test_the_csv_has_every_entry_of_the_period(signed_in):
    start = (utcnow() - timedelta(days=60)).date().isoformat()
    response = signed_in.get(f"/payments/history.csv?start={start}")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["Time (UTC)", "Kind code", "Kind", "Description", "Amount, ₽"]
    assert len(rows) == 1 + 45
    amounts = {r[4] for r in rows[1:]}
    assert {"-550.00", "1000.00", "-30.00", "-0.10"} <= amounts


def test_the_monthly_chart_is_inline_svg_with_amounts_as_text(signed_in):
    page = signed_in.get("/payments/history").text
    assert "<svg" in page and 'class="seg seg-usage"' in page and "<desc" in page
    assert "<img" not in page


@pytest.mark.parametrize("query, message", [
    ("start=2026-02-01&end=2026-01-01", "start must come before"),
    ("end=2999-01-01", "cannot end in the future"),
    ("start=2020-01-01&end=2026-01-01", "at most a year"),
    ("start=yesterday", "Not a valid date"),
    ("kind=bogus", "Not a valid choice"),
])
def test_bad_periods_get_a_message(signed_in, query, message):
    response = signed_in.get(f"/payments/history?{query}")
    assert response.status_code == 422 and message in response.text
    assert signed_in.get(f"/payments/history.csv?{query}").status_code == 422


def test_another_login_sees_only_its_own_history(client, db_session, app, account):
    factories.ensure_login(db_session, "+79031112233")
    client.post_form("/auth/login", {"phone": "+79031112233", "password": factories.PASSWORD})
    start = (utcnow() - timedelta(days=60)).date().isoformat()
    assert "card_topup test" not in client.get(f"/payments/history?start={start}").text


def test_a_statement_line_follows_the_readers_language(client, db_session):
    account = factories.make_line(db_session, "+79161234568", balance=-100)
    factories.make_login(db_session, account, language="en")
    db_session.add(LedgerEntry(account_id=account.id, amount=-100, kind="service_fee", created_at=utcnow(),
                               description="Плата за обещанный платёж", params={"kind": "promised_fee"}))
    db_session.commit()
    client.post_form("/auth/login", {"phone": "+79161234568", "password": factories.PASSWORD})
    page = client.get("/payments/history").text
    assert "Promised payment fee" in page and "Плата" not in page
