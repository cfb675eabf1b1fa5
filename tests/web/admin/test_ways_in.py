"""The customer's ways in on the staff customer page: passkeys, linked accounts, feed keys, sessions; removing them."""
import re
from datetime import datetime

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, FeedToken, Login, LoginSession, Passkey, SmsMessage, SocialAccount
from tests import factories
from tests.unit.test_sms_delivery import FakeProvider
from tests.web.admin.test_admin import staff_sign_in

ADDED = datetime(2026, 11, 2, 9, 30)


@pytest.fixture
def config_overrides(request):
    """The outbox; ``@sms_centre_down`` sends through an SMS provider answering 500."""
    if getattr(request, "param", None) != "down":
        return {}
    provider = FakeProvider(500)
    request.addfinalizer(provider.stop)
    return {"SMS_BACKEND": "http", "SMS_HTTP_URL": provider.url, "SMS_HTTP_TOKEN": "t0ken", "SMS_HTTP_TIMEOUT": 2,
            "SMS_MAX_ATTEMPTS": 3}


sms_centre_down = pytest.mark.parametrize("config_overrides", ["down"], indirect=True)


@pytest.fixture(params=["support", "admin"])
def staff(request, app, db_session):
    factories.make_staff(db_session, role=request.param)
    db_session.commit()
    client = app.test_client()
    assert staff_sign_in(client).status_code == 303
    return client


@pytest.fixture
def customer_client(app, db_session):
    """The customer signed in on their own browser: one open web session."""
    factories.ensure_login(db_session, "+79161234567")
    client = app.test_client()
    assert client.post_form("/auth/login", {"phone": "+79161234567",
                                            "password": factories.PASSWORD}).status_code == 303
    return client


def ways_in_for(db_session, login):
    passkey = Passkey(login_id=login.id, credential_id=f"cred-{login.id}", user_handle="u", public_key=b"k",
                      name="Pixel 7", created_at=ADDED)
    link = SocialAccount(login_id=login.id, provider="vk", subject=f"{1000 + login.id}", shown="iv***@vk.com",
                         linked_at=ADDED)
    key = FeedToken(login_id=login.id, name="Widget", token_hash=f"{login.id:064d}", hint="bf_Ab12", created_at=ADDED)
    db_session.add_all([passkey, link, key])
    db_session.commit()
    return passkey, link, key


@pytest.fixture
def owner(db_session, customer_client):
    login = db_session.scalar(select(Login))
    passkey, link, key = ways_in_for(db_session, login)
    return login, passkey, link, key


@pytest.fixture
def stranger(db_session):
    login = factories.ensure_login(db_session, "+79035550000")
    return (login, *ways_in_for(db_session, login))


def customer_id(login):
    return login.primary_account.customer_id


def page(staff, login):
    return staff.get(f"/admin/customers/{customer_id(login)}")


def key_of(html: str, form_id: str) -> str:
    form = re.search(rf'<form[^>]*id="{form_id}".*?</form>', html, re.S).group(0)
    return re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', form).group(1)


def test_the_page_shows_each_way_in_of_the_customers_login(staff, owner, stranger):
    login, passkey, link, key = owner
    html = page(staff, login).text
    section = html[html.index('id="ways-in"'):]
    assert "Ways in" in section and "1 open web session" in section
    assert "Pixel 7" in section and "VK ID" in section and "iv***@vk.com" in section
    assert "Widget" in section and "bf_Ab12" in section
    assert "after checking the caller" in section.lower()
    assert f'id="passkey-{passkey.id}"' in section and f'id="shut-{login.id}"' in section
    assert f'id="passkey-{stranger[1].id}"' not in html  # another customer's


def test_a_customer_who_never_signed_in_has_no_ways_in(staff, db_session):
    line = factories.make_line(db_session, "+79167770000")
    db_session.commit()
    html = staff.get(f"/admin/customers/{line.customer_id}").text
    assert "No personal account yet" in html


def actions(db_session, name):
    return list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == name)))


def texts(db_session):
    return [m.text for m in db_session.scalars(select(SmsMessage).where(SmsMessage.to == "+79161234567"))]


def test_staff_remove_one_passkey_once(staff, db_session, owner):
    login, passkey, _link, _key = owner
    passkey_id = passkey.id
    key = key_of(page(staff, login).text, f"passkey-{passkey_id}")
    url = f"/admin/customers/{customer_id(login)}/passkeys/{passkey_id}/remove"
    response = staff.post_form(url, {"idempotency_key": key})
    assert response.status_code == 303 and response.location.endswith("#ways-in")
    db_session.expire_all()
    assert db_session.get(Passkey, passkey_id) is None
    [event] = actions(db_session, "passkey_removed")
    assert event.staff_id is not None and event.account_id == login.primary_account_id
    assert any("support removed the passkey" in t and "Pixel 7" in t for t in texts(db_session))
    again = staff.post_form(url, {"idempotency_key": key})  # a double click: the same submission
    assert again.status_code == 303 and len(texts(db_session)) == 1
    assert "This was done already." in staff.get(again.location).text


def test_staff_unlink_one_account(staff, db_session, owner):
    login, _passkey, link, _key = owner
    link_id = link.id
    key = key_of(page(staff, login).text, f"social-{link_id}")
    response = staff.post_form(f"/admin/customers/{customer_id(login)}/linked-accounts/{link_id}/unlink",
                               {"idempotency_key": key})
    assert response.status_code == 303
    db_session.expire_all()
    assert db_session.get(SocialAccount, link_id) is None
    assert len(actions(db_session, "social_unlinked")) == 1
    assert any("VK ID" in t and "unlinked" in t for t in texts(db_session))


def test_staff_revoke_one_feed_key(staff, db_session, owner):
    login, _passkey, _link, token = owner
    key = key_of(page(staff, login).text, f"feed-{token.id}")
    response = staff.post_form(f"/admin/customers/{customer_id(login)}/feed-keys/{token.id}/revoke",
                               {"idempotency_key": key})
    assert response.status_code == 303
    db_session.expire_all()
    assert db_session.get(FeedToken, token.id).revoked_at is not None
    assert len(actions(db_session, "feed_key_revoked")) == 1
    assert any("Widget" in t for t in texts(db_session))
    assert "Widget" not in page(staff, login).text.split('id="ways-in"')[1]


def test_the_notice_arrives_even_with_change_alerts_off(staff, db_session, owner):
    from portal.models import AlertSettings

    login, passkey, _link, _key = owner
    db_session.add(AlertSettings(account_id=login.primary_account_id, on_change=False))
    db_session.commit()
    key = key_of(page(staff, login).text, f"passkey-{passkey.id}")
    staff.post_form(f"/admin/customers/{customer_id(login)}/passkeys/{passkey.id}/remove", {"idempotency_key": key})
    assert len(texts(db_session)) == 1


def test_another_customers_things_are_not_found(staff, db_session, owner, stranger):
    login = owner[0]
    other_login, passkey, link, token = stranger
    cid = customer_id(login)
    data = {"idempotency_key": "k" * 32, "confirm": "y"}
    for url in (f"/admin/customers/{cid}/passkeys/{passkey.id}/remove",
                f"/admin/customers/{cid}/linked-accounts/{link.id}/unlink",
                f"/admin/customers/{cid}/feed-keys/{token.id}/revoke",
                f"/admin/customers/{cid}/logins/{other_login.id}/shut",
                f"/admin/customers/{cid}/passkeys/999999/remove"):
        assert staff.post_form(url, data).status_code == 404, url
    db_session.expire_all()
    assert db_session.get(Passkey, passkey.id) and db_session.get(SocialAccount, link.id)
    assert db_session.get(FeedToken, token.id).revoked_at is None


def test_a_post_without_the_csrf_token_is_refused(staff, db_session, owner):
    login, passkey, _link, _key = owner
    response = staff.post(f"/admin/customers/{customer_id(login)}/passkeys/{passkey.id}/remove",
                          data={"idempotency_key": "k" * 32})
    assert response.status_code == 400
    assert db_session.get(Passkey, passkey.id) is not None


def test_shutting_everything_needs_the_box_ticked(staff, db_session, owner):
    login = owner[0]
    key = key_of(page(staff, login).text, f"shut-{login.id}")
    response = staff.post_form(f"/admin/customers/{customer_id(login)}/logins/{login.id}/shut",
                               {"idempotency_key": key})
    assert response.status_code == 422
    assert 'id="confirm-shut-{}-error"'.format(login.id) in response.text
    assert key_of(response.text, f"shut-{login.id}") == key  # the same submission when ticked and sent again
    assert db_session.scalar(select(func.count()).select_from(Passkey)) == 1  # nothing removed


def test_shut_every_way_in_ends_the_customers_session(staff, db_session, owner, customer_client, stranger):
    login = owner[0]
    assert customer_client.get("/").status_code == 200
    key = key_of(page(staff, login).text, f"shut-{login.id}")
    url = f"/admin/customers/{customer_id(login)}/logins/{login.id}/shut"
    response = staff.post_form(url, {"idempotency_key": key, "confirm": "y"})
    assert response.status_code == 303
    db_session.expire_all()
    count = lambda model, *where: db_session.scalar(select(func.count()).select_from(model).where(*where))  # noqa: E731
    assert count(Passkey, Passkey.login_id == login.id) == 0
    assert count(SocialAccount, SocialAccount.login_id == login.id) == 0
    assert count(FeedToken, FeedToken.login_id == login.id, FeedToken.revoked_at.is_(None)) == 0
    assert count(LoginSession, LoginSession.login_id == login.id, LoginSession.revoked_at.is_(None)) == 0
    assert count(Passkey, Passkey.login_id == stranger[0].id) == 1  # nobody else's
    [event] = actions(db_session, "ways_in_shut")
    assert event.staff_id is not None and "passkeys 1" in event.detail and "sessions 1" in event.detail
    assert any("signed you out everywhere" in t for t in texts(db_session))
    signed_out = customer_client.get("/")
    assert signed_out.status_code == 302 and "/auth/" in signed_out.location
    assert staff.post_form(url, {"idempotency_key": key, "confirm": "y"}).status_code == 303
    assert len(actions(db_session, "ways_in_shut")) == 1 and len(texts(db_session)) == 1


def test_a_tampered_form_is_refused_next_to_it(staff, db_session, owner):
    login, passkey, _link, _key = owner
    response = staff.post_form(f"/admin/customers/{customer_id(login)}/passkeys/{passkey.id}/remove",
                               {"idempotency_key": "short"})
    assert response.status_code == 422
    form = re.search(rf'<form[^>]*id="passkey-{passkey.id}".*?</form>', response.text, re.S).group(0)
    assert "The form has expired" in form
    assert db_session.get(Passkey, passkey.id) is not None


@sms_centre_down
def test_with_the_sms_centre_down_the_ways_in_are_shut_and_the_notice_waits(staff, db_session, owner):
    login = owner[0]
    key = key_of(page(staff, login).text, f"shut-{login.id}")
    response = staff.post_form(f"/admin/customers/{customer_id(login)}/logins/{login.id}/shut",
                               {"idempotency_key": key, "confirm": "y"})
    assert response.status_code == 303
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Passkey)) == 0
    [notice] = db_session.scalars(select(SmsMessage).where(SmsMessage.to == "+79161234567"))
    assert notice.status == "queued" and notice.attempts == 1  # kept in the outbox for the retry job
