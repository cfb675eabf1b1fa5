"""Sign-in with an outside account (portal/auth/social.py) against the fake provider on loopback."""
import re

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, LoginSession, SmsMessage, SocialAccount
from tests import factories
from tests.fake_oidc import running_provider

OWNER, OTHER = "+79161234567", "+79169876543"


@pytest.fixture(scope="module")
def fake():
    with running_provider() as fake:
        yield fake


@pytest.fixture
def config_overrides(fake):
    fake.reset()
    return {"SOCIAL_PROVIDERS": fake.settings(), "SOCIAL_TIMEOUT": 1}


def start(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 303, response.text
    return response.headers["Location"]


def link_as_signed_in(client, fake, provider="fake", user="1"):
    return client.get(fake.approve(start(client, f"/auth/social/{provider}/link?csrf={client.csrf_token()}"), user))


def links(db_session):
    db_session.expire_all()
    return db_session.scalars(select(SocialAccount)).all()


@pytest.mark.parametrize("provider", ["fake", "plain"])
def test_a_signed_in_customer_links_an_account_and_signs_in_with_it(client, login_as, db_session, fake, provider):
    login_as(OWNER)
    response = link_as_signed_in(client, fake, provider)
    assert response.status_code == 303 and response.headers["Location"].endswith("/settings/sessions")
    [row] = links(db_session)
    assert (row.provider, row.subject, row.shown) == (provider, "dev-user-1", "te***@example.com")
    [token_call] = fake.provider.token_requests
    assert ("state" in token_call) == (provider == "plain")  # repeated from the callback where configured
    assert token_call["code_verifier"] and token_call["grant_type"] == "authorization_code"
    assert db_session.scalar(select(SmsMessage).where(SmsMessage.to == OWNER,
                                                      SmsMessage.text.contains("can now sign in")))
    page = client.get("/settings/sessions").text
    assert "te***@example.com" in page and "Unlink" in page
    client.post_form("/auth/logout")

    authorize = start(client, f"/auth/social/{provider}/sign-in")
    assert "code_challenge_method=S256" in authorize and "state=" in authorize
    assert ("nonce=" in authorize) == (provider == "fake")
    response = client.get(fake.approve(authorize))
    assert response.status_code == 303 and response.headers["Location"].endswith("/")
    assert client.get("/").status_code == 200
    actions = db_session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "login")).all()
    assert f"social {provider}" in actions
    assert db_session.scalar(select(SocialAccount.last_used_at)) is not None
    assert len(db_session.scalars(select(LoginSession)).all()) == 2


def test_an_unlinked_account_signs_no_one_in_and_is_linked_only_after_the_number_and_a_yes(client, db_session, fake):
    factories.ensure_login(db_session, OWNER)
    response = client.get(fake.approve(start(client, "/auth/social/fake/sign-in"), "2"))
    assert response.status_code == 200 and "is not linked to a personal account" in response.text
    assert client.get("/", follow_redirects=False).status_code == 302  # not signed in
    response = client.post_form("/auth/login", {"phone": OWNER, "password": factories.PASSWORD})
    assert response.headers["Location"].endswith("/auth/social/confirm")
    assert links(db_session) == []
    page = client.get("/auth/social/confirm")
    assert "Link Fake ID to this personal account?" in page.text and "te***@example.com" in page.text
    assert client.post("/auth/social/confirm", data={"answer": "link"}).status_code == 400  # no CSRF token
    response = client.post_form("/auth/social/confirm", {"answer": "link"})
    assert response.status_code == 303
    assert [(r.provider, r.subject) for r in links(db_session)] == [("fake", "dev-user-2")]
    # used once: the offer is gone
    assert client.get("/auth/social/confirm").headers["Location"].endswith("/settings/sessions")


def test_after_an_sms_password_the_offer_comes_once_the_password_is_changed(client, db_session, fake):
    factories.ensure_login(db_session, OWNER).must_change_password = True
    db_session.commit()
    client.get(fake.approve(start(client, "/auth/social/fake/sign-in")))
    response = client.post_form("/auth/login", {"phone": OWNER, "password": factories.PASSWORD})
    assert response.headers["Location"].endswith("/settings/password")
    assert client.get("/auth/social/confirm").headers["Location"].endswith("/settings/password")
    response = client.post_form("/settings/password", {"current_password": factories.PASSWORD,
                                                       "new_password": "amber-heron-9031",
                                                       "confirm": "amber-heron-9031"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/auth/social/confirm")
    assert links(db_session) == []


def test_declining_the_offer_links_nothing(client, db_session, fake):
    factories.ensure_login(db_session, OWNER)
    client.get(fake.approve(start(client, "/auth/social/fake/sign-in")))
    client.post_form("/auth/login", {"phone": OWNER, "password": factories.PASSWORD})
    assert client.post_form("/auth/social/confirm", {"answer": "no"}).status_code == 303
    assert links(db_session) == []


def test_another_logins_linked_account_cannot_be_linked_again(client, login_as, db_session, fake):
    login_as(OTHER)
    link_as_signed_in(client, fake)
    client.post_form("/auth/logout")
    login_as(OWNER)
    response = link_as_signed_in(client, fake)
    assert response.status_code == 409 and "already linked to another personal account" in response.text
    assert [r.login_id for r in links(db_session)] != [] and len(links(db_session)) == 1


def test_unlink_asks_then_unlinks_and_another_customers_link_is_404(client, login_as, db_session, fake):
    login_as(OTHER)
    link_as_signed_in(client, fake)
    [theirs] = links(db_session)
    client.post_form("/auth/logout")
    login_as(OWNER)
    assert client.get(f"/auth/social/accounts/{theirs.id}/unlink").status_code == 404
    assert client.post_form(f"/auth/social/accounts/{theirs.id}/unlink").status_code == 404
    link_as_signed_in(client, fake, user="2")
    mine = next(r for r in links(db_session) if r.subject == "dev-user-2")
    page = client.get(f"/auth/social/accounts/{mine.id}/unlink")
    assert page.status_code == 200 and "Unlink Fake ID?" in page.text
    assert client.post(f"/auth/social/accounts/{mine.id}/unlink").status_code == 400  # no CSRF token
    assert client.post_form(f"/auth/social/accounts/{mine.id}/unlink").status_code == 303
    assert [r.subject for r in links(db_session)] == ["dev-user-1"]
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "social_unlinked"))


def test_a_mismatched_state_is_refused(client, db_session, fake):
    callback = fake.approve(start(client, "/auth/social/fake/sign-in"))
    response = client.get(callback.replace("state=", "state=x"))
    assert response.status_code == 400 and "did not confirm who you are" in response.text


def test_a_callback_without_a_start_is_refused(client, fake):
    other = fake.approve(start(client, "/auth/social/fake/sign-in"))
    client.get(other)  # finished (not linked): the start is used up
    assert client.get(other).status_code == 400


def test_a_replayed_code_is_refused(client, db_session, fake):
    authorize = start(client, "/auth/social/fake/sign-in")
    callback = fake.approve(authorize)
    assert client.get(callback).status_code == 200  # not linked
    # the same code again, with a fresh start in this browser: the provider refuses it
    start(client, "/auth/social/fake/sign-in")
    with client.session_transaction() as sess:
        state_key = next(k for k in sess if k.startswith("_state_fake_"))
        data = sess.pop(state_key)
        sess[f"_state_fake_{callback.split('state=')[1].split('&')[0]}"] = data
    assert client.get(callback).status_code == 400


def test_an_error_from_the_provider_is_a_clear_page(client, fake):
    response = client.get(fake.approve(start(client, "/auth/social/fake/sign-in"), user=""))
    assert response.status_code == 400 and "did not confirm who you are" in response.text


@pytest.mark.parametrize("claims", [{"nonce": "not-this-sign-in"}, {"aud": "someone-else"},
                                    {"iss": "https://evil.example"}, {"exp": 1000}],
                         ids=["nonce", "audience", "issuer", "expired"])
def test_a_bad_id_token_is_refused(client, login_as, db_session, fake, claims):
    login_as(OWNER)
    fake.provider.id_token_overrides = claims
    response = link_as_signed_in(client, fake)
    assert response.status_code == 400 and links(db_session) == []


def test_a_forged_id_token_signature_is_refused(client, login_as, db_session, fake):
    login_as(OWNER)
    fake.provider.forge_signature = True
    assert link_as_signed_in(client, fake).status_code == 400
    assert links(db_session) == []


def test_an_oidc_provider_without_an_id_token_is_refused(client, login_as, db_session, fake):
    login_as(OWNER)
    fake.provider.with_id_token = False
    assert link_as_signed_in(client, fake).status_code == 400
    assert links(db_session) == []


def test_a_slow_provider_is_a_clear_page(client, login_as, db_session, fake):
    login_as(OWNER)
    fake.provider.token_delay = 1.5  # SOCIAL_TIMEOUT is 1 s
    response = link_as_signed_in(client, fake)
    assert response.status_code == 502 and "is not answering now" in response.text
    assert links(db_session) == []


def test_a_provider_that_is_down_is_a_clear_page(app, client, login_as, db_session, fake):
    down = "http://127.0.0.1:9"  # the discard port: nothing answers
    settings = fake.settings()
    settings["fake"]["discovery_url"] = f"{down}/.well-known/openid-configuration"
    settings["plain"]["token_url"] = f"{down}/token"  # the person signs in at the provider, then its API is gone
    app.config["SOCIAL_PROVIDERS"] = settings
    response = client.get("/auth/social/fake/sign-in")
    assert response.status_code == 502 and "is not answering now" in response.text
    login_as(OWNER)
    response = link_as_signed_in(client, fake, "plain")
    assert response.status_code == 502 and "is not answering now" in response.text
    assert links(db_session) == []


def test_linking_starts_only_from_the_portal_own_page_with_its_csrf_token(client, login_as, db_session, fake):
    """Another site sending a signed-in browser to the link address (and on to a provider where that browser is
    signed in as someone else) must not link that account to the login."""
    login_as(OWNER)
    for query in ("", "?csrf=", "?csrf=forged"):
        response = client.get(f"/auth/social/fake/link{query}")
        assert response.status_code == 400 and "Location" not in response.headers
    page = client.get("/settings/sessions").text
    [link_address] = re.findall(r'href="(/auth/social/fake/link\?csrf=[^"]+)"', page)
    assert client.get(fake.approve(start(client, link_address.replace("&amp;", "&")), "1")).status_code == 303
    assert len(links(db_session)) == 1


def test_forged_host_headers_do_not_pile_up_provider_clients(app, client, fake):
    for n in range(5):
        assert client.get("/auth/social/fake/sign-in", base_url=f"http://forged{n}.example").status_code == 303
    assert len(app.extensions["social_clients"]) == 1


def test_linking_needs_a_signed_in_customer_and_unknown_providers_are_404(client, fake):
    assert client.get("/auth/social/fake/link").status_code == 302
    assert client.get("/auth/social/nope/sign-in").status_code == 404
    assert client.get("/auth/social/nope/back").status_code == 404


def test_the_sign_in_page_offers_only_configured_providers(client):
    page = client.get("/auth/login").text
    assert "Sign in with Fake ID" in page and "Sign in with Plain ID" in page and "VK ID" not in page
