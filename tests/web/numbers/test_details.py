"""Call details pages: the filter and table, paging, CSV, PDF, orders by e-mail and their status."""
import csv
import io
import re
from datetime import timedelta

import pytest
from flask_babel import to_user_timezone
from sqlalchemy import func, select

from portal.models import AuditEvent, DetailOrder, UsageRecord, utcnow
from tests import factories
from tests.helpers import key_of

MSISDN = "+79161234567"


@pytest.fixture
def today(app):
    with app.test_request_context():
        return to_user_timezone(utcnow()).date()


@pytest.fixture
def account(client, db_session, login_as):
    login_as(MSISDN)
    return factories.ensure_login(db_session, MSISDN).primary_account


def add_usage(session, account_id, n, *, kind="call_out", quantity=75, cost=150, counterpart="+79031112233",
              days_ago=1):
    start = utcnow() - timedelta(days=days_ago)
    for i in range(n):
        session.add(UsageRecord(account_id=account_id, started_at=start - timedelta(minutes=i), kind=kind,
                                counterpart=counterpart, quantity=quantity, cost=cost))
    session.commit()


def period(today, days=10):
    return {"start": (today - timedelta(days=days)).isoformat(), "end": today.isoformat()}


def test_the_page_shows_this_months_records_and_totals(client, db_session, account, today):
    add_usage(db_session, account.id, 2, days_ago=0)
    add_usage(db_session, account.id, 1, kind="data", quantity=3072, cost=0, counterpart="internet", days_ago=0)
    response = client.get("/numbers/details")
    assert response.status_code == 200
    page = response.text
    assert f'value="{today.replace(day=1).isoformat()}"' in page and f'value="{today.isoformat()}"' in page
    assert page.count("Outgoing call") == 2 and "+7 903 111-22-33" in page and "1:15" in page
    assert "3 MB" in page and "Internet session" in page
    assert re.search(r"Records</dt><dd>3<", page) and "2:30" in page and "3.00" in page
    assert '<th scope="col">' in page


def test_kind_filter_and_paging_older_with_and_without_htmx(client, db_session, account, today):
    add_usage(db_session, account.id, 60)
    add_usage(db_session, account.id, 5, kind="sms", quantity=1)
    query = {**period(today), "kind": "calls"}
    page = client.get("/numbers/details", query_string=query).text
    assert page.count("Outgoing call") == 50 and "<td>SMS</td>" not in page
    more = re.search(r'<a href="([^"]+before=[^"]+)"', page).group(1).replace("&amp;", "&")
    fragment = client.get(more, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and fragment.text.count("Outgoing call") == 10
    assert "details-more" not in fragment.text and "HX-Request" in fragment.headers["Vary"]
    full = client.get(more).text  # without JS: the next page as a whole page
    assert "<html" in full and full.count("Outgoing call") == 10 and "Back to the newest" in full


@pytest.mark.parametrize("bad", [
    lambda t: {"start": (t + timedelta(days=1)).isoformat(), "end": t.isoformat()},
    lambda t: {"start": t.isoformat(), "end": (t + timedelta(days=1)).isoformat()},
    lambda t: {"start": (t - timedelta(days=200)).isoformat(), "end": t.isoformat()},
    lambda t: {"start": "yesterday", "end": t.isoformat()},
])
def test_a_bad_period_is_422_with_a_message_and_no_data(client, db_session, account, today, bad):
    add_usage(db_session, account.id, 3)
    for url in ("/numbers/details", "/numbers/details.csv", "/numbers/details.pdf"):
        response = client.get(url, query_string=bad(today))
        assert response.status_code == 422, url
        assert 'class="error"' in response.text and "Outgoing call" not in response.text


def test_only_the_number_in_focus_is_shown(client, db_session, account, today):
    other = factories.make_line(db_session, "+79035556677")
    add_usage(db_session, other.id, 3, counterpart="+79990001122")
    assert "+7 999 000-11-22" not in client.get("/numbers/details", query_string=period(today)).text


def test_csv_streams_the_filtered_period(client, db_session, account, today):
    add_usage(db_session, account.id, 3)
    add_usage(db_session, account.id, 2, kind="sms", quantity=1, cost=200, counterpart="Bank")
    response = client.get("/numbers/details.csv", query_string={**period(today), "kind": "sms"})
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert len(rows) == 3 and rows[1][1:4] == ["sms", "SMS", "Bank"] and rows[1][6] == "2.00"


def test_the_printed_form_is_a_pdf(client, db_session, account, today):
    add_usage(db_session, account.id, 3)
    response = client.get("/numbers/details.pdf", query_string=period(today))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF") and "attachment" in response.headers["Content-Disposition"]


def order(client, today, **values):
    page = client.get("/numbers/details", query_string=period(today)).text
    data = {**period(today), "kind": "", "email": "anna@example.com", "format": "csv",
            "idempotency_key": key_of(page), **values}
    return client.post_form("/numbers/details/email", data)


def test_an_order_is_made_once_audited_and_sent_by_the_console_backend(client, db_session, account, today, capfd):
    add_usage(db_session, account.id, 3)
    response = order(client, today)
    assert response.status_code == 303
    again = order(client, today, idempotency_key=key_of(client.get("/numbers/details").text))
    assert again.status_code == 303
    first = db_session.scalars(select(DetailOrder).order_by(DetailOrder.id)).first()
    twin = client.post_form("/numbers/details/email", {**period(today), "email": "anna@example.com",
                                                       "format": "csv", "idempotency_key": first.idempotency_key})
    assert twin.headers["Location"] == response.headers["Location"]
    assert db_session.scalar(select(func.count(DetailOrder.id))) == 2
    assert first.status == "sent" and first.sent_at and first.email == "anna@example.com"
    assert first.account_id == account.id and first.format == "csv"
    assert db_session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "details_ordered")) == 2
    assert "[mail to anna@example.com" in capfd.readouterr().err
    status = client.get(response.headers["Location"])
    assert status.status_code == 200 and "Sent to anna@example.com" in status.text and "every 2s" not in status.text
    assert "Call details ordered by e-mail" in client.get("/archive").text


def test_a_pending_order_is_polled_and_a_failed_one_offers_a_retry(client, db_session, account, today):
    login = factories.ensure_login(db_session, MSISDN)
    pending = DetailOrder(account_id=account.id, login_id=login.id, period_start=today, period_end=today,
                          format="pdf", email="a@example.com", idempotency_key="k" * 24)
    failed = DetailOrder(account_id=account.id, login_id=login.id, period_start=today, period_end=today,
                         format="pdf", email="a@example.com", idempotency_key="f" * 24, status="failed")
    db_session.add_all([pending, failed])
    db_session.commit()
    page = client.get(f"/numbers/details/orders/{pending.id}")
    assert 'hx-trigger="every 2s"' in page.text and "Refresh" in page.text and "<html" in page.text
    fragment = client.get(f"/numbers/details/orders/{pending.id}", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and 'id="detail-order"' in fragment.text
    assert "Try again" in client.get(f"/numbers/details/orders/{failed.id}").text


def test_another_logins_order_is_404(client, db_session, account, today):
    other = factories.ensure_login(db_session, "+79035556677")
    theirs = DetailOrder(account_id=other.primary_account_id, login_id=other.id, period_start=today,
                         period_end=today, format="csv", email="x@example.com", idempotency_key="o" * 24)
    db_session.add(theirs)
    db_session.commit()
    assert client.get(f"/numbers/details/orders/{theirs.id}").status_code == 404
    assert client.get("/numbers/details/orders/999999").status_code == 404
    twin = order(client, today, idempotency_key="o" * 24)  # their form's key does not reveal their order
    assert twin.status_code == 404


@pytest.mark.parametrize("values", [{"email": "not-an-address"}, {"email": ""}, {"format": "doc"},
                                    {"start": "2000-01-01"}, {"end": "tomorrow"}])
def test_a_bad_order_is_422_and_saves_nothing(client, db_session, account, today, values):
    response = order(client, today, **values)
    assert response.status_code == 422 and 'role="alert"' in response.text
    assert db_session.scalar(select(func.count(DetailOrder.id))) == 0


def test_a_bad_order_over_htmx_returns_the_form_alone(client, db_session, account, today):
    page = client.get("/numbers/details").text
    response = client.post("/numbers/details/email", data={**period(today), "email": "nope", "format": "csv",
                                                           "idempotency_key": key_of(page)},
                           headers={"X-CSRFToken": client.csrf_token(), "HX-Request": "true"})
    assert response.status_code == 422 and response.text.lstrip().startswith("<form")


def test_orders_a_day_are_limited(client, db_session, account, today, app):
    app.config["DETAILS_ORDERS_PER_DAY"] = 1
    assert order(client, today).status_code == 303
    response = order(client, today)
    assert response.status_code == 422 and "enough orders for today" in response.text


def test_an_order_without_a_csrf_token_is_refused(client, db_session, account, today):
    response = client.post("/numbers/details/email", data={**period(today), "email": "a@example.com"})
    assert response.status_code == 400


def test_the_period_follows_the_logins_time_zone(client, db_session, login_as):
    from datetime import datetime

    from portal.models import Login

    login_as("+79161234567")
    login = db_session.scalar(select(Login))
    login.timezone = "Asia/Vladivostok"  # UTC+10
    # 20:30 UTC on the 1st is already the 2nd in Vladivostok: outside a period of the 1st only.
    db_session.add(UsageRecord(account_id=login.primary_account_id, kind="sms", counterpart="+79031112233",
                               started_at=datetime(2026, 11, 1, 20, 30), quantity=1, cost=0))
    db_session.commit()
    page = client.get("/numbers/details?start=2026-11-01&end=2026-11-01").text
    assert "+7 903 111-22-33" not in page
    page = client.get("/numbers/details?start=2026-11-02&end=2026-11-02").text
    assert "+7 903 111-22-33" in page
