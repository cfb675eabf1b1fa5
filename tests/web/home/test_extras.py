"""/home/extras: a mailbox, antivirus licences and a static IP, connected and disconnected like services."""
import re

import pytest
from sqlalchemy import func, select

from portal.models import AntivirusLicence, Mailbox, StaticIp, Subscription
from tests import factories
from tests.home_fixtures import make_home

MAILBOX = {"mailbox_name": "anna.petrova", "mailbox_password": "river-stone-9", "confirm": "river-stone-9",
           "idempotency_key": "m" * 24}


def count(db_session, model):
    return db_session.scalar(select(func.count()).select_from(model))


def test_the_page_lists_the_extras_with_fees(client, signed_in):
    page = client.get("/home/extras")
    assert page.status_code == 200
    for text in ("Mailbox", "Antivirus", "Static IP", "200.00", 'id="mailbox-form"', "@home.example.ru"):
        assert text in page.text


def test_a_mailbox_is_connected_and_shown(client, db_session, signed_in):
    response = client.post_form(f"/home/extras/{signed_in.mailbox.id}/connect", MAILBOX)
    assert response.status_code == 303 and response.headers["Location"] == "/home/extras"
    assert db_session.scalar(select(Mailbox.name)) == "anna.petrova"
    assert "anna.petrova@home.example.ru" in client.get("/home/extras").text


@pytest.mark.parametrize(("name", "message"), [("ab", "3 to 30 characters"), ("Anna Petrova", "3 to 30 characters"),
                                               ("taken", "This name is taken")])
def test_a_bad_or_taken_mailbox_name_is_shown_next_to_the_field(client, db_session, signed_in, name, message):
    other = make_home(db_session, contract_no="HC-2")
    subscription = factories.make_subscription(db_session, other, signed_in.mailbox)
    db_session.add(Mailbox(account_id=other.id, subscription_id=subscription.id, name="taken", password_hash="x"))
    db_session.commit()
    page = client.post_form(f"/home/extras/{signed_in.mailbox.id}/connect", {**MAILBOX, "mailbox_name": name})
    assert page.status_code == 422
    assert re.search(r'id="mailbox_name-error" class="error" role="alert">[^<]*' + message, page.text)
    assert count(db_session, Mailbox) == 1 and count(db_session, Subscription) == 1


def test_mismatched_mailbox_passwords_are_422(client, db_session, signed_in):
    page = client.post_form(f"/home/extras/{signed_in.mailbox.id}/connect", {**MAILBOX, "confirm": "other-stone-9"})
    assert page.status_code == 422 and "The two passwords differ" in page.text
    assert count(db_session, Mailbox) == 0


def test_the_antivirus_key_is_shown_once_then_masked(client, db_session, signed_in):
    response = client.post_form(f"/home/extras/{signed_in.antivirus.id}/connect", {"idempotency_key": "a" * 24})
    assert response.status_code == 303
    first = client.get("/home/extras").text
    key = re.search(r"Your licence key: ([A-Z0-9-]{24})", first).group(1)
    assert db_session.scalar(select(AntivirusLicence.key_tail)) == key[-4:]
    again = client.get("/home/extras").text
    assert key not in again and f"XXXX-XXXX-XXXX-{key[-4:]}" in again


def test_a_static_ip_is_assigned_from_the_pool_and_released(client, db_session, signed_in):
    client.post_form(f"/home/extras/{signed_in.static_ip.id}/connect", {"idempotency_key": "s" * 24})
    assert "198.51.100.1" in client.get("/home/extras").text
    subscription_id = db_session.scalar(select(Subscription.id))
    response = client.post_form(f"/home/extras/subscriptions/{subscription_id}/disconnect",
                                {"idempotency_key": "t" * 24})
    assert response.status_code == 303
    assert count(db_session, StaticIp) == 0 and "198.51.100.1" not in client.get("/home/extras").text


def test_only_extras_are_connected_here(client, signed_in):
    for service_id in (signed_in.night.id, 999_999):
        response = client.post_form(f"/home/extras/{service_id}/connect", {"idempotency_key": "a" * 24})
        assert response.status_code == 404


def test_another_customers_extra_is_404(client, db_session, signed_in):
    other = make_home(db_session, contract_no="HC-2")
    subscription = factories.make_subscription(db_session, other, signed_in.static_ip)
    db_session.commit()
    response = client.post_form(f"/home/extras/subscriptions/{subscription.id}/disconnect",
                                {"idempotency_key": "t" * 24})
    assert response.status_code == 404
    assert db_session.get(Subscription, subscription.id).status == "active"


def test_extras_posts_need_the_csrf_token(client, db_session, signed_in):
    assert client.post(f"/home/extras/{signed_in.mailbox.id}/connect", data=MAILBOX).status_code == 400
    assert count(db_session, Mailbox) == 0


def test_the_plain_services_page_sends_extras_here(client, db_session, signed_in):
    response = client.post_form(f"/services/{signed_in.antivirus.id}", {"idempotency_key": "a" * 24})
    assert response.status_code == 303 and response.headers["Location"] == "/home/extras"
    response = client.get(f"/services/{signed_in.antivirus.id}", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"] == "/home/extras"
    assert count(db_session, Subscription) == 0


def test_the_pages_stay_within_the_query_budget(client, db_session, signed_in, count_queries):
    for service in (signed_in.basic, signed_in.night, signed_in.antivirus, signed_in.static_ip):
        factories.make_subscription(db_session, signed_in.account, service)
    db_session.commit()
    for url in ("/home/tv", "/home/extras", "/home/tv/pin"):
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        assert len(statements) <= 10, (url, len(statements), statements)


def test_an_expired_extras_form_is_422_not_500(client, db_session, signed_in):
    subscription = factories.make_subscription(db_session, signed_in.account, signed_in.static_ip)
    db_session.commit()
    page = client.post_form(f"/home/extras/subscriptions/{subscription.id}/disconnect", {"idempotency_key": "x"})
    assert page.status_code == 422 and "The form has expired" in page.text
    page = client.post_form(f"/home/extras/{signed_in.mailbox.id}/connect", {**MAILBOX, "idempotency_key": "x"})
    assert page.status_code == 422 and "The form has expired" in page.text


def test_disconnecting_asks_first_and_says_what_is_lost(client, db_session, signed_in):
    client.post_form(f"/home/extras/{signed_in.mailbox.id}/connect", MAILBOX)
    subscription_id = db_session.scalar(select(Subscription.id))
    page = client.get("/home/extras")
    assert f'href="/home/extras/subscriptions/{subscription_id}/disconnect"' in page.text
    confirm = client.get(f"/home/extras/subscriptions/{subscription_id}/disconnect")
    assert confirm.status_code == 200 and "letters are deleted" in confirm.text
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', confirm.text).group(1)
    assert count(db_session, Mailbox) == 1  # nothing happens on GET
    response = client.post_form(f"/home/extras/subscriptions/{subscription_id}/disconnect", {"idempotency_key": key})
    assert response.status_code == 303 and count(db_session, Mailbox) == 0
    assert client.get(f"/home/extras/subscriptions/{subscription_id}/disconnect").status_code == 404  # ended


def test_a_tv_subscription_is_not_disconnected_on_the_extras_page(client, db_session, signed_in):
    subscription = factories.make_subscription(db_session, signed_in.account, signed_in.night)
    db_session.commit()
    assert client.get(f"/home/extras/subscriptions/{subscription.id}/disconnect").status_code == 404
    assert client.get(f"/home/tv/subscriptions/{subscription.id}/disconnect").status_code == 200


@pytest.mark.parametrize("extra", ["antivirus", "static_ip"])
def test_an_extra_asks_first_with_its_price_and_what_is_charged_now(client, db_session, signed_in, extra):
    service = getattr(signed_in, extra)
    url = f"/home/extras/{service.id}/connect"
    assert f'href="{url}"' in client.get("/home/extras").text
    page = client.get(url)
    assert page.status_code == 200 and "Charged now" in page.text and f'action="{url}"' in page.text
    assert count(db_session, Subscription) == 0
    response = client.post_form(url, {"idempotency_key": re.search(
        r'name="idempotency_key" type="hidden" value="([^"]+)"', page.text).group(1)})
    assert response.status_code == 303 and count(db_session, Subscription) == 1


def test_the_mailbox_form_shows_what_is_charged_now(client, signed_in):
    page = client.get("/home/extras").text
    form = page[page.index('id="mailbox-form"'):]
    assert "Charged now" in form[:form.index("</form>")]
    assert client.get(f"/home/extras/{signed_in.mailbox.id}/connect").status_code == 303
