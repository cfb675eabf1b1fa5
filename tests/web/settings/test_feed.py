"""The balance feed, web side: making a key (shown once), revoking it, and reading with it as JSON and as a page."""
import re

import pytest
from sqlalchemy import func, select

from portal.models import FeedToken, LoginAccount
from tests import factories
from tests.helpers import key_of


@pytest.fixture
def owner(client, db_session, login_as):
    tariff = factories.make_tariff(db_session, name="Смарт", name_en="Smart", unlimited_data=True)
    line = factories.make_line(db_session, "+79161234567", tariff=tariff, balance=93600)
    factories.make_allowance(db_session, line)
    login = factories.make_login(db_session, line)
    home = factories.make_home_contract(db_session, "HC-100200", balance=-5000, status="suspended")
    db_session.add(LoginAccount(login_id=login.id, account_id=home.id))
    db_session.commit()
    login_as()
    return login


def make_key(client, name="Widget") -> str:
    form = client.get("/settings/feed").text
    response = client.post_form("/settings/feed", {"name": name, "idempotency_key": key_of(form)})
    assert response.status_code == 200, response.text
    return re.search(r'<code class="secret">(bf_[^<]+)</code>', response.text).group(1)


def test_the_settings_page_links_to_the_keys(client, owner):
    assert 'href="/settings/feed"' in client.get("/settings/").text
    assert "A key lets a home-screen widget" in client.get("/settings/feed").text


def test_a_key_is_shown_once_and_listed_without_it_after(client, db_session, owner):
    secret = make_key(client, "Widget on my phone")
    page = client.get("/settings/feed").text
    assert "Widget on my phone" in page and secret not in page and secret[:8] + "…" in page
    assert "not used yet" in page


def test_the_same_form_twice_makes_one_key_and_shows_it_once(client, db_session, owner):
    key = key_of(client.get("/settings/feed").text)
    first = client.post_form("/settings/feed", {"name": "W", "idempotency_key": key})
    again = client.post_form("/settings/feed", {"name": "W", "idempotency_key": key})
    assert first.status_code == 200 and again.status_code == 303
    assert db_session.scalar(select(func.count()).select_from(FeedToken)) == 1


def test_a_key_without_a_name_is_refused_next_to_the_field(client, db_session, owner):
    response = client.post_form("/settings/feed", {"name": "  ", "idempotency_key": "k" * 24})
    assert response.status_code == 422 and 'id="name-error"' in response.text and "Name the key" in response.text
    assert db_session.scalar(select(func.count()).select_from(FeedToken)) == 0


def test_making_and_revoking_need_the_csrf_token(client, db_session, owner):
    assert client.post("/settings/feed", data={"name": "W"}).status_code == 400
    make_key(client)
    token_id = db_session.scalar(select(FeedToken.id))
    assert client.post(f"/settings/feed/{token_id}/revoke").status_code == 400


def test_the_json_with_the_header_or_in_the_url(client, db_session, owner):
    secret = make_key(client)
    client.post_form("/auth/logout")
    for response in (client.get("/feed.json", headers={"Authorization": f"Bearer {secret}"}),
                     client.get(f"/feed/{secret}.json")):
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "private, no-store" and "Set-Cookie" not in response.headers
        line, home = response.json["accounts"]
        assert (line["number"], line["balance"], line["balance_kopecks"], line["status"], line["tariff"]) == \
            ("+79161234567", "936.00", 93600, "active", "Смарт")
        assert line["package"]["minutes_left"] >= 0 and line["package"]["data_mb_left"] is None  # unlimited
        assert (home["number"], home["balance"], home["status"], home["package"]) == \
            ("HC-100200", "-50.00", "suspended", None)


def test_the_page_for_a_widget_speaks_the_owners_language(client, db_session, owner):
    secret = make_key(client)
    owner.language = "ru"
    db_session.commit()
    client.post_form("/auth/logout")
    page = client.get(f"/feed/{secret}")
    assert page.status_code == 200 and "Set-Cookie" not in page.headers
    assert "936,00" in page.text and "HC-100200" in page.text and 'http-equiv="refresh"' in page.text
    assert "csrf" not in page.text and "Баланс" in page.text
    assert "Balance" in client.get(f"/feed/{secret}?lang=en").text  # the language the settings page linked


def test_the_widget_link_carries_the_language_it_was_made_in(client, db_session, owner):
    form = client.get("/settings/feed").text
    made = client.post_form("/settings/feed", {"name": "W", "idempotency_key": key_of(form)}).text
    assert re.search(r'href="/feed/bf_[^"?]+\?lang=en"', made)


@pytest.mark.parametrize("how", ["header", "url", "page", "none", "basic"])
def test_a_revoked_or_unknown_key_gets_404(client, db_session, owner, how):
    secret = make_key(client)
    token_id = db_session.scalar(select(FeedToken.id))
    assert client.post_form(f"/settings/feed/{token_id}/revoke").status_code == 303
    assert "revoked" in client.get("/settings/feed").text
    response = {"header": lambda: client.get("/feed.json", headers={"Authorization": f"Bearer {secret}"}),
                "url": lambda: client.get(f"/feed/{secret}.json"), "page": lambda: client.get(f"/feed/{secret}"),
                "none": lambda: client.get("/feed.json"),
                "basic": lambda: client.get("/feed.json", headers={"Authorization": f"Basic {secret}"})}[how]()
    assert response.status_code == 404


def test_another_customer_cannot_revoke_the_key(client, db_session, owner, login_as):
    make_key(client)
    token_id = db_session.scalar(select(FeedToken.id))
    client.post_form("/auth/logout")
    login_as("+79031112233")
    assert client.post_form(f"/settings/feed/{token_id}/revoke").status_code == 404
    assert db_session.get(FeedToken, token_id).revoked_at is None


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_FEED": "2 per hour"}])
def test_a_key_is_rate_limited(client, db_session, owner, config_overrides):
    secret = make_key(client)
    codes = [client.get(f"/feed/{secret}.json").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
