import pytest
from sqlalchemy import select

from portal.models import AuditEvent, Login, LoginSession
from tests import factories

NEW = "blue-kettle-77"


@pytest.fixture
def signed_in(client, login_as):
    login_as("+79161234567")
    return client


def change(client, current=factories.PASSWORD, new=NEW, confirm=None, **kwargs):
    return client.post_form("/settings/password", {"current_password": current, "new_password": new,
                                                   "confirm": confirm or new}, **kwargs)


def test_settings_lists_the_password_page(signed_in):
    page = signed_in.get("/settings/")
    assert page.status_code == 200 and 'href="/settings/password"' in page.text


def test_a_customer_changes_the_password(signed_in, db_session, app):
    response = change(signed_in)
    assert response.status_code == 303
    login = db_session.scalars(select(Login)).one()
    assert login.password_changed_at is not None
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "password_changed")).one()
    signed_in.post_form("/auth/logout")
    assert signed_in.post_form("/auth/login", {"phone": "+79161234567", "password": NEW}).status_code == 303


def test_other_devices_are_signed_out_and_this_one_stays(signed_in, db_session, app):
    other = app.test_client()
    assert other.post_form("/auth/login", {"phone": "+79161234567",
                                           "password": factories.PASSWORD}).status_code == 303
    assert other.get("/").status_code == 200
    change(signed_in)
    assert other.get("/").status_code == 302
    assert signed_in.get("/").status_code == 200
    sessions = db_session.scalars(select(LoginSession).order_by(LoginSession.id)).all()
    assert [s.revoked_at is None for s in sessions] == [True, False]


def test_the_current_password_is_required(signed_in):
    response = change(signed_in, current="wrong-one")
    assert response.status_code == 422
    assert 'id="current_password-error"' in response.text


@pytest.mark.parametrize("new, message", [
    ("short", "At least 8 characters"),
    ("password1", "most common"),
    ("89161234567", "must not contain your phone number"),
    ("my79161234567", "must not contain your phone number"),
])
def test_weak_passwords_are_refused_next_to_the_field(signed_in, db_session, new, message):
    response = change(signed_in, new=new)
    assert response.status_code == 422
    assert message in response.text
    assert 'id="new_password-error"' in response.text
    assert db_session.scalars(select(Login)).one().password_changed_at is None


def test_the_two_new_passwords_must_match(signed_in):
    response = change(signed_in, confirm="something-else-9")
    assert response.status_code == 422 and "differ" in response.text


def test_htmx_gets_the_form_fragment_with_errors(signed_in):
    response = change(signed_in, new="short", headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert response.text.lstrip().startswith('<form id="password-form"')


def test_htmx_success_redirects_the_page(signed_in):
    response = change(signed_in, headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/settings/"


def test_a_post_without_the_csrf_token_is_refused(signed_in):
    assert signed_in.post("/settings/password", data={"new_password": NEW, "confirm": NEW}).status_code == 400


def test_the_common_password_list_is_large(app):
    from portal.domain.passwords import common_passwords

    assert len(common_passwords()) >= 10_000


def test_guessing_the_current_password_counts_and_locks_like_sign_in(signed_in, db_session, app):
    """Issue 14.12: the current-password check had no limit at all for a signed-in session."""
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert change(signed_in, current="guess-guess").status_code == 422
    locked = change(signed_in)  # even the right one waits now
    assert locked.status_code == 429 and "Too many failed attempts" in locked.text
    assert db_session.scalars(select(Login)).one().password_changed_at is None
    fresh = app.test_client()  # a new session of the same login from the same network does not reset it
    assert fresh.post_form("/auth/login", {"phone": "+79161234567",
                                           "password": factories.PASSWORD}).status_code == 429


def test_a_forced_change_shows_no_tabs_only_a_way_out(signed_in, db_session):
    """Signed in with an SMS password: every other page leads back here, so the page offers none of them."""
    login = db_session.scalars(select(Login)).one()
    login.must_change_password = True
    db_session.commit()
    page = signed_in.get("/settings/password")
    assert page.status_code == 200 and "Choose your password" in page.text
    assert 'class="tabs"' not in page.text and 'action="/numbers/focus"' not in page.text
    assert 'action="/auth/logout"' in page.text
    assert signed_in.get("/payments/").headers["Location"].endswith("/settings/password")


def test_a_chosen_change_keeps_the_tabs(signed_in):
    assert 'class="tabs"' in signed_in.get("/settings/password").text
