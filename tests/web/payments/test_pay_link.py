"""Pay without a password: the SMS carries a signed link (low balance, suspension); the page shows the masked number
and the amount due and pays through the provider with no sign-in; a damaged or old link says so."""
import re

import pytest
from sqlalchemy import select

from portal.domain import alerts, ledger, paylink
from portal.domain.audit import SYSTEM
from portal.models import AccountStatus, CardPayment, SmsMessage, utcnow
from portal.payment_gateway.dev import SUCCEEDS
from tests import factories
from tests.conftest import SECRET
from tests.helpers import key_of, pay_on_provider_page

PUBLIC = "https://my.example"


@pytest.fixture
def config_overrides():
    return {"PUBLIC_URL": PUBLIC}


@pytest.fixture
def line(db_session):
    tariff = factories.make_tariff(db_session, monthly_fee=95000)
    account = factories.make_line(db_session, "+79161234567", tariff=tariff, balance=93600)
    factories.make_login(db_session, account)
    db_session.commit()
    return account


def link_of(account) -> str:
    return "/p/" + paylink.make_token(account.id, secret=SECRET)


def test_the_page_shows_the_masked_number_and_the_amount_due_and_nothing_else(client, line):
    page = client.get(link_of(line))
    assert page.status_code == 200
    assert "+7 916 ***-**-67" in page.text and "₽14.00" in page.text
    assert "123-45-67" not in page.text and "936" not in page.text  # the number and the balance stay hidden
    assert 'name="amount"' in page.text and 'value="14"' in page.text and "save_card" not in page.text


def test_paying_through_the_link_credits_the_line_with_no_sign_in(client, db_session, line):
    url = link_of(line)
    form = client.get(url).text
    started = client.post_form(url, {"idempotency_key": key_of(form), "amount": "100", "method": "card"})
    assert started.status_code == 303 and "/dev/pay/" in started.location
    back = pay_on_provider_page(client, started.location, SUCCEEDS)
    assert back.status_code == 303 and back.location.startswith(f"http://localhost{url}/")
    done = client.get(back.location)
    assert done.status_code == 200 and "Paid." in done.text and "+7 916 ***-**-67" in done.text
    payment = db_session.scalar(select(CardPayment))
    assert (payment.login_id, payment.amount, payment.status, payment.save_card) == (None, 10000, "confirmed", False)
    db_session.expire_all()
    assert db_session.get(type(line), line.id).balance == 93600 + 10000


def test_the_same_form_twice_is_one_payment(client, db_session, line):
    url = link_of(line)
    data = {"idempotency_key": key_of(client.get(url).text), "amount": "100", "method": "card"}
    first, again = client.post_form(url, data), client.post_form(url, data)
    assert first.location == again.location
    assert len(db_session.scalars(select(CardPayment)).all()) == 1


def test_a_bad_amount_is_said_next_to_the_field(client, db_session, line):
    url = link_of(line)
    response = client.post_form(url, {"idempotency_key": key_of(client.get(url).text), "amount": "abc",
                                      "method": "card"})
    assert response.status_code == 422 and 'id="amount-error"' in response.text
    assert db_session.scalar(select(CardPayment)) is None


def test_a_damaged_link_and_an_expired_one_get_clear_pages(app, client, line):
    token = paylink.make_token(line.id, secret=SECRET)
    damaged = client.get("/p/" + token[:-3] + "xyz")
    assert damaged.status_code == 400 and "This link is damaged" in damaged.text
    assert client.get("/p/" + paylink.make_token(line.id, secret="other")).status_code == 400
    app.config["PAY_LINK_MAX_AGE_S"] = -1
    expired = client.get("/p/" + token)
    assert expired.status_code == 410 and "This link has expired" in expired.text


def test_a_closed_line_or_another_payment_reveal_nothing(client, db_session, line):
    other = factories.make_line(db_session, "+79031112233")
    db_session.add(CardPayment(token="t" * 24, account_id=other.id, amount=500, idempotency_key="p" * 24,
                               status="confirmed", provider="dev"))
    db_session.commit()
    assert client.get(f"{link_of(line)}/{'t' * 24}").status_code == 404  # another line's payment
    line.status = AccountStatus.terminated.value
    db_session.commit()
    assert client.get(link_of(line)).status_code == 400


def test_a_low_balance_sms_carries_the_link(db_session, line):
    alerts.save_settings(db_session, account_id=line.id, low_balance_below=90000, on_payment=True, on_change=True,
                         on_new_device=True, on_every_login=False, quiet_from=None, quiet_to=None, actor=SYSTEM,
                         now=utcnow())
    ledger.post(db_session, line, amount=-5000, kind="service_fee", key="fee", description="", now=utcnow())
    db_session.commit()
    [text] = db_session.scalars(select(SmsMessage.text).where(SmsMessage.purpose == "alert")).all()
    found = re.search(rf"{PUBLIC}(/p/\S+)", text)
    assert "Pay without a password" in text and found
    assert paylink.account_of(found.group(1)[3:], secret=SECRET, max_age_s=60) == line.id


def test_a_suspended_line_is_told_with_the_link(db_session, line):
    alerts.suspended(db_session, account=line, now=utcnow())
    db_session.commit()
    [text] = db_session.scalars(select(SmsMessage.text).where(SmsMessage.purpose == "alert")).all()
    assert "the number is suspended" in text and f"{PUBLIC}/p/" in text
