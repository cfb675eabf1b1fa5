import re

import pytest
from sqlalchemy import func, select

from portal.domain import ledger
from portal.models import Account, AuditEvent, LedgerEntry, SmsMessage, Transfer
from tests import factories
from tests.helpers import key_of


@pytest.fixture
def lines(db_session):
    sender = factories.make_line(db_session, "+79161234567", balance=300000)
    factories.make_login(db_session, sender)
    recipient = factories.make_line(db_session, "+79031112233", balance=1000)
    db_session.commit()
    return sender, recipient


@pytest.fixture
def signed_in(client, lines):
    client.post_form("/auth/login", {"phone": "+79161234567", "password": factories.PASSWORD})
    return client



def send(client, recipient="8 903 111-22-33", amount="250", headers=None):
    page = client.get("/payments/transfer")
    data = {"idempotency_key": key_of(page.text), "recipient": recipient, "amount": amount}
    return client.post_form("/payments/transfer", data, headers=headers or {}), data


def balances(db_session, *accounts):
    db_session.expire_all()
    return [db_session.get(Account, a.id).balance for a in accounts]


def test_a_small_transfer_moves_money_both_ways_at_once(signed_in, db_session, lines):
    response, _ = send(signed_in)
    assert response.status_code == 303
    assert balances(db_session, *lines) == [300000 - 25000, 1000 + 25000]
    out, in_ = db_session.scalars(select(LedgerEntry).where(LedgerEntry.kind.in_(("transfer_out", "transfer_in")))
                                  .order_by(LedgerEntry.id)).all()
    assert (out.amount, in_.amount, in_.related_entry_id) == (-25000, 25000, out.id)
    assert ledger.verify(db_session) == []
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "transfer_sent")).one()
    assert "Sent." in signed_in.get(response.location).text


def test_the_recipient_sees_it_in_their_history(signed_in, client, db_session, lines, app):
    send(signed_in)
    other = app.test_client()
    factories.make_login(db_session, lines[1])
    db_session.commit()
    other.post_form("/auth/login", {"phone": "+79031112233", "password": factories.PASSWORD})
    assert "From +7 916 123-45-67" in other.get("/payments/history").text


def test_the_same_form_twice_sends_once(signed_in, db_session, lines):
    _, data = send(signed_in)
    assert signed_in.post_form("/payments/transfer", data).status_code == 303
    assert db_session.scalar(select(func.count()).select_from(Transfer)) == 1
    assert balances(db_session, *lines) == [275000, 26000]


def test_a_large_transfer_waits_for_the_sms_code(signed_in, db_session, lines):
    response, _ = send(signed_in, amount="1500")
    transfer = db_session.scalars(select(Transfer)).one()
    assert transfer.status == "pending_code" and balances(db_session, *lines) == [300000, 1000]
    sms = db_session.scalars(select(SmsMessage).where(SmsMessage.purpose == "transfer_code")).one()
    code = re.search(r"code (\d{6})", sms.text).group(1)
    assert sms.to == "+79161234567" and sms.is_secret
    wrong = signed_in.post_form(response.location, {"code": "000000"})
    assert wrong.status_code == 422 and "Attempts left: 2" in wrong.text
    right = signed_in.post_form(response.location, {"code": code})
    assert right.status_code == 303 and balances(db_session, *lines) == [150000, 151000]


def test_three_wrong_codes_cancel_the_transfer(signed_in, db_session, lines):
    response, _ = send(signed_in, amount="1500")
    for _ in range(2):
        signed_in.post_form(response.location, {"code": "000000"})
    last = signed_in.post_form(response.location, {"code": "000000"})
    assert "the transfer is cancelled" in last.text and "No money was sent" in last.text
    assert db_session.scalars(select(Transfer)).one().status == "cancelled"
    assert balances(db_session, *lines) == [300000, 1000]


@pytest.mark.parametrize("recipient, amount, message", [
    ("+79169999999", "100", "not served by us"),
    ("+79161234567", "100", "the number you are sending from"),
    ("hello", "100", "does not look like a phone number"),
    ("+44 20 7946 0958", "100", "not served by us"),
    ("+79031112233", "0.5", "From ₽1 to ₽5,000"),
    ("+79031112233", "5000.01", "From ₽1 to ₽5,000"),
    ("+79031112233", "-10", "cannot be negative"),
    ("+79031112233", "ten", "Enter an amount"),
    ("+79031112233", "10.001", "Enter an amount"),
])
def test_bad_transfers_are_refused_next_to_the_field(signed_in, db_session, lines, recipient, amount, message):
    response, _ = send(signed_in, recipient=recipient, amount=amount)
    assert response.status_code == 422 and message in response.text
    assert balances(db_session, *lines) == [300000, 1000]


def test_the_balance_must_cover_it(signed_in, db_session, lines):
    lines[0].balance = 10000
    db_session.commit()
    response, _ = send(signed_in, amount="100.01")
    assert response.status_code == 422 and "balance is too low" in response.text


def test_the_daily_limit(signed_in, db_session, lines, app):
    app.config["TRANSFER_DAY_MAX"] = 40000
    assert send(signed_in, amount="300")[0].status_code == 303
    response, _ = send(signed_in, amount="100.01")
    assert response.status_code == 422 and "limit of ₽400 a day" in response.text


def test_a_blocked_sender_cannot_send(signed_in, db_session, lines):
    lines[0].status = "blocked_lost"
    db_session.commit()
    assert "only from an active number" in send(signed_in)[0].text


def test_the_fee_is_charged_when_configured(signed_in, db_session, lines, app):
    app.config["TRANSFER_FEE"] = 500
    send(signed_in)
    assert balances(db_session, *lines) == [300000 - 25000 - 500, 26000]
    assert ledger.verify(db_session) == []


def test_an_old_code_expires(signed_in, db_session, lines):
    from datetime import timedelta

    response, _ = send(signed_in, amount="1500")
    transfer = db_session.scalars(select(Transfer)).one()
    transfer.created_at -= timedelta(minutes=11)
    db_session.commit()
    assert "expired" in signed_in.post_form(response.location, {"code": "123456"}).text
    assert balances(db_session, *lines) == [300000, 1000]


def test_someone_elses_transfer_is_404(signed_in, db_session, lines, app):
    response, _ = send(signed_in)
    other = app.test_client()
    factories.make_login(db_session, lines[1])
    db_session.commit()
    other.post_form("/auth/login", {"phone": "+79031112233", "password": factories.PASSWORD})
    assert other.get(response.location).status_code == 404
    assert signed_in.get("/payments/transfer/nope").status_code == 404


def test_htmx_form_errors_swap_only_the_form(signed_in, lines):
    response, _ = send(signed_in, amount="0", headers={"HX-Request": "true"})
    assert response.status_code == 422 and response.text.lstrip().startswith('<form id="transfer-form"')


def test_the_daily_limit_counts_from_the_customers_midnight(db_session, lines):
    from datetime import datetime

    from portal.domain.transfers import _sent_today

    sender = lines[0]
    # 22:00 UTC yesterday is 01:00 today in Moscow: it counts for today there, not in UTC.
    db_session.add(LedgerEntry(account_id=sender.id, amount=-5000, kind="transfer_out",
                               created_at=datetime(2026, 11, 27, 22, 0)))
    db_session.commit()
    now = datetime(2026, 11, 28, 9, 0)
    assert _sent_today(db_session, sender.id, now, "Europe/Moscow") == 5000
    assert _sent_today(db_session, sender.id, now, "UTC") == 0


@pytest.mark.parametrize("amount", ["0", "0.5", "5000000"])
def test_a_bad_amount_is_refused_before_the_recipient_is_looked_at(signed_in, db_session, lines, amount):
    """Issue 14.16: an impossible amount must not tell whether a number is ours."""
    ours, _ = send(signed_in, recipient="+79031112233", amount=amount)
    not_ours, _ = send(signed_in, recipient="+79169999999", amount=amount)
    assert ours.status_code == not_ours.status_code == 422
    assert "not served by us" not in not_ours.text
    assert re.search(r'class="error"[^>]*>([^<]*)', ours.text).group(1) == \
        re.search(r'class="error"[^>]*>([^<]*)', not_ours.text).group(1)


def test_more_than_the_balance_is_refused_before_the_recipient_is_looked_at(signed_in, db_session, lines):
    response, _ = send(signed_in, recipient="+79169999999", amount="4000")
    assert response.status_code == 422 and "balance is too low" in response.text


def test_the_code_sms_is_in_the_owners_language_with_the_amount_in_roubles(signed_in, db_session, lines):
    from portal.models import Login

    db_session.scalars(select(Login)).one().language = "ru"  # the portal's default here is English
    db_session.commit()
    send(signed_in, amount="1500")
    sms = db_session.scalars(select(SmsMessage).where(SmsMessage.purpose == "transfer_code")).one()
    assert "код" in sms.text and "1\u00a0500\u00a0₽" in sms.text and "руб" not in sms.text
