"""SMS from the web: the form, the result, refusals next to the field, limits, a double click, CSRF."""
import pytest
from sqlalchemy import select

from portal.models import Account, AuditEvent, LoginAccount, SmsMessage, UsageRecord, WebSms
from tests import factories
from tests.helpers import key_of

MAIN = "+79161234567"
TO = "+79031112233"


@pytest.fixture
def config_overrides():
    return {"WEB_SMS_QUOTAS": ((3, 3600), (100, 86400))}


@pytest.fixture
def account(db_session):
    login = factories.ensure_login(db_session, MAIN)
    account = login.primary_account
    account.tariff.sms_price = 300
    factories.make_allowance(db_session, account, sms_left=1)
    db_session.commit()
    return account


@pytest.fixture
def signed_in(client, login_as, account):
    login_as(MAIN)
    return client


def send(client, text="Hello there", to="8 903 111-22-33", key=None):
    key = key or key_of(client.get("/numbers/sms").text)
    return client.post_form("/numbers/sms", {"to": to, "text": text, "idempotency_key": key})


def test_the_page_shows_the_form_rules_and_loads_the_counter(signed_in):
    page = signed_in.get("/numbers/sms")
    assert page.status_code == 200
    assert 'name="to"' in page.text and '<textarea' in page.text and 'id="sms-counter"' in page.text
    assert "160 Latin characters" in page.text and "at most 6 parts" in page.text
    assert "sms-counter.js" in page.text and "defer" in page.text
    assert "sms-counter.js" not in signed_in.get("/").text


def test_sending_charges_the_package_then_the_price_and_confirms(signed_in, db_session, account):
    response = send(signed_in, text="a" * 200)  # 2 parts: 1 from the package, 1 for 3 roubles
    assert response.status_code == 303 and response.headers["Location"] == "/numbers/sms"
    page = signed_in.get("/numbers/sms").text
    assert "Sent to +7 903 111-22-33. Parts: 2, cost:" in page and "3.00" in page
    assert 'id="sms-recent"' in page
    sms = db_session.scalars(select(WebSms)).one()
    assert (sms.to, sms.parts, sms.from_allowance, sms.cost) == (TO, 2, 1, 300)
    message = db_session.get(SmsMessage, sms.sms_message_id)
    assert message.sender == MAIN and message.text == "a" * 200 and message.status == "sent"
    assert db_session.scalars(select(UsageRecord).where(UsageRecord.kind == "sms")).one().quantity == 2
    db_session.expire_all()
    assert db_session.get(Account, account.id).balance == 10000 - 300
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "web_sms_sent")).one()
    archive = signed_in.get("/archive").text
    assert "SMS sent from the site" in archive


def test_an_international_recipient_is_fine(signed_in, db_session):
    assert send(signed_in, to="+44 20 7946 0958").status_code == 303
    assert db_session.scalars(select(WebSms)).one().to == "+442079460958"


def test_line_breaks_from_the_browser_count_as_one_character(signed_in, db_session):
    assert send(signed_in, text="a" * 79 + "\r\n" + "b" * 80).status_code == 303  # 160 with LF: one part
    assert db_session.scalars(select(WebSms)).one().parts == 1


@pytest.mark.parametrize("to, text, field, message", [
    ("", "Hi", "to", "Enter your phone number"),
    ("12", "Hi", "to", "This number does not exist"),
    ("call me", "Hi", "to", "does not look like a phone number"),
    (TO, "", "sms-text", "Write the message"),
    (TO, "   ", "sms-text", "Write the message"),
    (TO, "a" * (153 * 6 + 1), "sms-text", "7 SMS parts, at most 6"),
    (TO, "б" * 10_240, "sms-text", "far too long"),
])
def test_bad_input_is_refused_next_to_the_field(signed_in, db_session, to, text, field, message):
    response = send(signed_in, to=to, text=text)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text and message in response.text
    assert db_session.scalars(select(SmsMessage)).all() == []


def test_the_server_shows_the_count_after_a_refusal(signed_in):
    response = send(signed_in, text="б" * 500)
    assert response.status_code == 422
    assert "Characters: 500. Parts: 8 (UCS-2, Unicode)." in response.text


def test_a_double_click_sends_once(signed_in, db_session):
    key = key_of(signed_in.get("/numbers/sms").text)
    assert send(signed_in, key=key).status_code == 303
    assert send(signed_in, key=key).status_code == 303
    assert len(db_session.scalars(select(SmsMessage)).all()) == 1


def test_a_blocked_number_cannot_send(signed_in, db_session, account):
    account.status = "blocked_lost"
    db_session.commit()
    page = signed_in.get("/numbers/sms")
    assert page.status_code == 200 and "The number is blocked" in page.text and 'id="sms-form"' not in page.text
    response = send(signed_in, key="x" * 24)
    assert response.status_code == 422 and "The number is blocked" in response.text
    assert db_session.scalars(select(SmsMessage)).all() == []


def test_a_balance_too_low_is_refused(signed_in, db_session, account):
    account.tariff.sms_price = 20000
    db_session.commit()
    response = send(signed_in, text="a" * 200)
    assert response.status_code == 422 and "balance does not cover" in response.text
    assert db_session.scalars(select(SmsMessage)).all() == []


def test_the_hourly_limit_says_when_to_try_again(signed_in, db_session):
    for _ in range(3):
        assert send(signed_in).status_code == 303
    response = send(signed_in)
    assert response.status_code == 429 and "The limit of SMS from the site is reached. Try again after" in response.text
    assert len(db_session.scalars(select(SmsMessage)).all()) == 3


def test_the_number_in_focus_sends(signed_in, db_session, account):
    other = factories.make_line(db_session, "+79267776655", customer=account.customer)
    login = db_session.scalars(select(LoginAccount)).first().login_id
    db_session.add(LoginAccount(login_id=login, account_id=other.id))
    db_session.commit()
    signed_in.post_form("/numbers/focus", {"account": other.id})
    assert send(signed_in).status_code == 303
    assert db_session.scalars(select(SmsMessage)).one().sender == "+79267776655"


def test_a_post_without_csrf_is_refused(signed_in, db_session):
    response = signed_in.post("/numbers/sms", data={"to": TO, "text": "Hi", "idempotency_key": "k" * 24})
    assert response.status_code == 400
    assert db_session.scalars(select(SmsMessage)).all() == []


def test_staff_do_not_see_the_text_in_the_outbox(signed_in, db_session, app):
    send(signed_in, text="my private words")
    factories.make_staff(db_session)
    staff = app.test_client()
    staff.post_form("/admin/login", {"email": "agent@example.com", "password": factories.PASSWORD})
    page = staff.get("/admin/sms").text
    assert "my private words" not in page and "own message" in page


def test_a_home_contract_in_focus_sends_nothing(signed_in, db_session, account):
    from portal.models import HomeContract

    home = Account(customer=account.customer, kind="home", region="Moscow")
    db_session.add_all([home, HomeContract(account=home, contract_no="H-77", address="Street 1",
                                           connection_type="gpon")])
    db_session.flush()
    login = db_session.scalars(select(LoginAccount)).first().login_id
    db_session.add(LoginAccount(login_id=login, account_id=home.id))
    db_session.commit()
    signed_in.post_form("/numbers/focus", {"account": home.id})
    page = signed_in.get("/numbers/sms")
    assert page.status_code == 200 and 'id="sms-form"' not in page.text
    response = send(signed_in, key="h" * 24)
    assert response.status_code == 422 and "mobile numbers only" in response.text
    assert db_session.scalars(select(SmsMessage)).all() == []


@pytest.mark.parametrize(("status", "shown"), [("delivered", ">delivered<"), ("expired", ">not delivered<"),
                                               ("failed", ">not delivered<")])
def test_the_recent_list_says_what_the_delivery_receipt_said(signed_in, db_session, status, shown):
    send(signed_in)
    message = db_session.get(SmsMessage, db_session.scalars(select(WebSms)).one().sms_message_id)
    message.status = status  # as the SMSC's receipt sets it (portal.domain.sms.apply_receipt)
    db_session.commit()
    assert shown in signed_in.get("/numbers/sms").text
