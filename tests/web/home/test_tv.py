"""/home/tv: TV packages with channels, connect and disconnect, the parental PIN."""

import pytest
from sqlalchemy import func, select

from portal.domain.passwords import check_secret
from portal.models import AuditEvent, LedgerEntry, ParentalPin, SmsMessage, Subscription
from tests import factories
from tests.helpers import key_of
from tests.home_fixtures import CONTACT, CONTRACT_NO, make_home


def count(db_session, model, *where):
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_page_lists_packages_with_prices_and_channels(client, signed_in):
    page = client.get("/home/tv")
    assert page.status_code == 200
    html = page.text
    assert "TV: Basic" in html and "TV: Night 18+" in html and "199.00" in html
    assert "<details>" in html and "Первый канал" in html and "Ночной клуб 18+" in html
    assert "Parental PIN is not set" in html


def test_the_home_dashboard_links_the_tv_and_extras_pages(client, signed_in):
    html = client.get("/").text
    assert 'href="/home/tv"' in html and 'href="/home/extras"' in html


def test_a_mobile_line_gets_a_clear_404(client, login_as):
    login_as("+79031112233")
    for url in ("/home/tv", "/home/tv/pin", "/home/extras"):
        page = client.get(url)
        assert page.status_code == 404 and "home internet and TV contract" in page.text, url
    assert client.post_form("/home/tv/pin/reset").status_code == 404


def test_connecting_a_package_asks_first_with_the_price_and_what_is_charged_now(client, db_session, signed_in):
    url = f"/home/tv/{signed_in.night.id}/connect"
    assert f'href="{url}"' in client.get("/home/tv").text
    page = client.get(url)
    assert page.status_code == 200 and "Charged now" in page.text and f'action="{url}"' in page.text
    assert 'href="/home/tv"' in page.text  # cancel goes back to the packages
    assert count(db_session, Subscription) == 0
    assert count(db_session, LedgerEntry, LedgerEntry.kind == "service_fee") == 0


def test_connecting_a_package_charges_through_the_ledger_once(client, db_session, signed_in):
    url = f"/home/tv/{signed_in.night.id}/connect"
    key = key_of(client.get(url).text)
    response = client.post_form(url, {"idempotency_key": key})
    assert response.status_code == 303 and response.headers["Location"] == "/home/tv"
    assert client.post_form(url, {"idempotency_key": key}).status_code in (303, 422)  # the double click
    assert count(db_session, Subscription, Subscription.status == "active") == 1
    assert count(db_session, LedgerEntry, LedgerEntry.kind == "service_fee") == 1
    page = client.get("/home/tv").text
    assert "is connected" in page and "Disconnect" in page


def test_a_refused_connection_shows_why_with_422(client, db_session, signed_in):
    signed_in.account.balance = 0
    db_session.commit()
    response = client.post_form(f"/home/tv/{signed_in.night.id}/connect", {"idempotency_key": "k" * 24})
    assert response.status_code == 422 and "too low" in response.text
    assert count(db_session, Subscription) == 0


def test_only_offered_tv_packages_can_be_connected_here(client, signed_in):
    for service_id in (signed_in.antivirus.id, 999_999):
        response = client.post_form(f"/home/tv/{service_id}/connect", {"idempotency_key": "k" * 24})
        assert response.status_code == 404


def test_disconnecting_a_package(client, db_session, signed_in):
    subscription = factories.make_subscription(db_session, signed_in.account, signed_in.night)
    db_session.commit()
    response = client.post_form(f"/home/tv/subscriptions/{subscription.id}/disconnect",
                                {"idempotency_key": "d" * 24})
    assert response.status_code == 303
    db_session.expire_all()
    assert db_session.get(Subscription, subscription.id).status == "ended"


def test_another_customers_subscription_is_404(client, db_session, signed_in):
    other = make_home(db_session, contract_no="HC-999")
    subscription = factories.make_subscription(db_session, other, signed_in.night)
    db_session.commit()
    response = client.post_form(f"/home/tv/subscriptions/{subscription.id}/disconnect",
                                {"idempotency_key": "d" * 24})
    assert response.status_code == 404
    assert db_session.get(Subscription, subscription.id).status == "active"


def test_posts_without_a_csrf_token_are_refused(client, db_session, signed_in):
    for url in (f"/home/tv/{signed_in.night.id}/connect", "/home/tv/pin", "/home/tv/pin/reset"):
        assert client.post(url, data={"idempotency_key": "k" * 24, "pin": "1234", "confirm": "1234"}).status_code \
            == 400, url
    assert count(db_session, Subscription) == 0 and count(db_session, ParentalPin) == 0


def test_setting_the_pin(client, db_session, signed_in):
    response = client.post_form("/home/tv/pin", {"pin": "4821", "confirm": "4821"})
    assert response.status_code == 303 and response.headers["Location"] == "/home/tv"
    assert check_secret(db_session.get(ParentalPin, signed_in.account.id).pin_hash, "4821")
    assert "Parental PIN is set" in client.get("/home/tv").text
    assert "Parental PIN set" in client.get("/archive").text


def test_bad_pins_stay_on_the_form_with_422(client, db_session, signed_in):
    for data, message in (({"pin": "48", "confirm": "48"}, "4 digits"),
                          ({"pin": "4821", "confirm": "4822"}, "The two PINs differ"),
                          ({"pin": "", "confirm": ""}, "Type 4 digits")):
        page = client.post_form("/home/tv/pin", data)
        assert page.status_code == 422 and message in page.text and 'aria-invalid="true"' in page.text
    assert count(db_session, ParentalPin) == 0


def test_changing_the_pin_needs_the_current_one(client, db_session, signed_in):
    client.post_form("/home/tv/pin", {"pin": "4821", "confirm": "4821"})
    assert 'name="old_pin"' in client.get("/home/tv/pin").text
    page = client.post_form("/home/tv/pin", {"old_pin": "0000", "pin": "1111", "confirm": "1111"})
    assert page.status_code == 422 and "current PIN is wrong" in page.text
    response = client.post_form("/home/tv/pin", {"old_pin": "4821", "pin": "1111", "confirm": "1111"})
    assert response.status_code == 303
    db_session.expire_all()
    assert check_secret(db_session.get(ParentalPin, signed_in.account.id).pin_hash, "1111")


def test_a_new_pin_by_sms_with_a_daily_limit(client, db_session, signed_in):
    for _ in range(3):
        response = client.post_form("/home/tv/pin/reset")
        assert response.status_code == 303
    assert "916 ***-**-67" in client.get("/home/tv").text  # the flash names the masked phone
    page = client.post_form("/home/tv/pin/reset")
    assert page.status_code == 429 and "too many times" in page.text
    assert count(db_session, SmsMessage, SmsMessage.to == CONTACT) == 3
    assert db_session.get(ParentalPin, signed_in.account.id) is not None


def test_the_connect_form_carries_an_idempotency_key(client, signed_in):
    assert key_of(client.get("/home/extras").text)  # the mailbox form, rendered by WTForms


def test_the_home_pages_fit_the_budget_without_inline_script_or_style(client, db_session, signed_in):
    import gzip

    from portal.domain.demo import CHANNELS
    from portal.models import TvChannel

    db_session.add_all(TvChannel(name=f"Demo {name}", number=number + 1000, adult=adult, packages=[signed_in.basic])
                       for number, name, adult, _ in CHANNELS)
    db_session.commit()
    for url in ("/home/tv", "/home/tv/pin", "/home/extras"):
        response = client.get(url)
        assert response.status_code == 200
        assert len(gzip.compress(response.data)) <= 14 * 1024, url
        assert " style=" not in response.text and "<script>" not in response.text, url


def test_an_expired_form_is_422_not_500(client, db_session, signed_in):
    subscription = factories.make_subscription(db_session, signed_in.account, signed_in.night)
    db_session.commit()
    for url in (f"/home/tv/subscriptions/{subscription.id}/disconnect", f"/home/tv/{signed_in.basic.id}/connect"):
        page = client.post_form(url, {"idempotency_key": "bad key"})
        assert page.status_code == 422 and "The form has expired" in page.text, url
    assert db_session.get(Subscription, subscription.id).status == "active"


def test_guessing_the_old_pin_is_rate_limited_per_login(client, db_session, signed_in):
    client.post_form("/home/tv/pin", {"pin": "4821", "confirm": "4821"})
    statuses = [client.post_form("/home/tv/pin", {"old_pin": f"{n:04d}", "pin": "1111", "confirm": "1111"}).status_code
                for n in range(5)]
    assert statuses == [422, 422, 422, 422, 429]
    assert client.get("/home/tv/pin").status_code == 200  # reading the page is not limited


def _sign_in_again(client):
    client.post_form("/auth/logout")
    response = client.post_form("/auth/login", {"phone": CONTRACT_NO, "password": factories.PASSWORD})
    assert response.status_code == 303


def test_the_pin_rate_limit_is_per_login_not_per_session(client, db_session, signed_in):
    """Issue 14.12: the limit was keyed on the session, so every new sign-in reset it."""
    client.post_form("/home/tv/pin", {"pin": "4821", "confirm": "4821"})
    for n in range(3):
        client.post_form("/home/tv/pin", {"old_pin": f"{n:04d}", "pin": "1111", "confirm": "1111"})
    _sign_in_again(client)
    page = client.post_form("/home/tv/pin", {"old_pin": "0003", "pin": "1111", "confirm": "1111"})
    assert page.status_code == 422
    assert client.post_form("/home/tv/pin", {"old_pin": "0004", "pin": "1111",
                                             "confirm": "1111"}).status_code == 429


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_PARENTAL_PIN": "1000 per minute",
                                               "PARENTAL_PIN_FAILURES_PER_DAY": 5}])
def test_wrong_old_pins_are_counted_per_contract_in_the_database(client, db_session, signed_in, app,
                                                                 config_overrides):
    client.post_form("/home/tv/pin", {"pin": "4821", "confirm": "4821"})
    for n in range(5):
        assert client.post_form("/home/tv/pin", {"old_pin": f"{n:04d}", "pin": "1111",
                                                 "confirm": "1111"}).status_code == 422
    _sign_in_again(client)
    refused = client.post_form("/home/tv/pin", {"old_pin": "4821", "pin": "1111", "confirm": "1111"})
    assert refused.status_code == 429 and "Too many wrong PINs today" in refused.text
    assert check_secret(db_session.get(ParentalPin, signed_in.account.id).pin_hash, "4821")
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "parental_pin_failed")) == 5
