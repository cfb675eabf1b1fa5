"""The blacklist page: add with the fee agreed, remove ticked numbers, 422 on bad input, 404 for others'."""
import pytest
from sqlalchemy import func, select

from portal.models import BlacklistEntry, Subscription, SwitchCommand
from tests import factories
from tests.helpers import key_of

PHONE = "+79161234567"
CALLER = "+79035556677"


@pytest.fixture
def signed_in(client, login_as, db_session, app):
    login_as(PHONE)
    factories.make_service(db_session, code="blacklist", name="Blacklist", category="security", monthly_fee=0,
                           daily_fee=150)
    db_session.commit()
    app.config["BLACKLIST_LIMIT"] = 3
    return client


def add(client, number=CALLER, **extra):
    key = key_of(client.get("/settings/blacklist").text)
    return client.post_form("/settings/blacklist/add", {"idempotency_key": key, "number": number, **extra})


def count(db_session, model, *where):
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_page_shows_the_daily_fee_before_anything_is_connected(signed_in):
    page = signed_in.get("/settings/blacklist")
    assert page.status_code == 200 and "1.50" in page.text and "a day" in page.text and 'name="connect"' in page.text


def test_the_first_number_without_agreeing_to_the_fee_is_refused_next_to_the_box(signed_in, db_session):
    response = add(signed_in)
    assert response.status_code == 422 and 'id="connect-error"' in response.text
    assert count(db_session, BlacklistEntry) == count(db_session, Subscription) == 0


def test_adding_connects_lists_and_applies(signed_in, db_session):
    response = add(signed_in, "8 903 555-66-77", connect="y")
    assert response.status_code == 303 and response.headers["Location"] == "/settings/blacklist"
    page = signed_in.get("/settings/blacklist").text
    assert "+7 903 555-66-77" in page and "The service is connected" in page and 'name="connect"' not in page
    assert count(db_session, SwitchCommand, SwitchCommand.status == "applied") == 2
    assert "Added to the blacklist" in signed_in.get("/archive").text


@pytest.mark.parametrize(("number", "message"), [
    (PHONE, "the number itself"), ("12345", "does not"), ("", "Enter the number"), ("7" * 10_000, ""),
])
def test_bad_numbers_are_refused_next_to_the_field(signed_in, db_session, number, message):
    response = add(signed_in, number, connect="y")
    assert response.status_code == 422 and 'class="error"' in response.text and message in response.text
    assert count(db_session, BlacklistEntry) == 0


def test_the_entry_over_the_limit_is_refused(signed_in, db_session):
    for n in range(3):
        assert add(signed_in, f"+7903555660{n}", connect="y").status_code == 303
    response = add(signed_in, "+79035556699")
    assert response.status_code == 422 and "at most 3 numbers" in response.text
    assert count(db_session, BlacklistEntry) == 3


def test_removing_the_ticked_numbers_and_disconnecting_when_empty(signed_in, db_session):
    add(signed_in, connect="y")
    add(signed_in, "+79035556678")
    ids = [e.id for e in db_session.scalars(select(BlacklistEntry))]
    key = key_of(signed_in.get("/settings/blacklist").text.split('id="blacklist-list"')[1])
    response = signed_in.post_form("/settings/blacklist/remove", {"idempotency_key": key, "entries": ids,
                                                                  "disconnect": "y"})
    assert response.status_code == 303
    assert count(db_session, BlacklistEntry) == 0
    assert count(db_session, Subscription, Subscription.status == "active") == 0


def test_removing_nothing_ticked_is_422_and_another_lines_entry_404(signed_in, db_session):
    add(signed_in, connect="y")
    key = key_of(signed_in.get("/settings/blacklist").text.split('id="blacklist-list"')[1])
    assert signed_in.post_form("/settings/blacklist/remove", {"idempotency_key": key}).status_code == 422
    other = factories.make_line(db_session, "+79031112233")
    db_session.add(BlacklistEntry(account_id=other.id, msisdn=CALLER))
    db_session.commit()
    foreign = db_session.scalar(select(BlacklistEntry.id).where(BlacklistEntry.account_id == other.id))
    response = signed_in.post_form("/settings/blacklist/remove", {"idempotency_key": key, "entries": [foreign]})
    assert response.status_code == 404 and count(db_session, BlacklistEntry) == 2


def test_posts_need_the_csrf_token(signed_in, db_session):
    assert signed_in.post("/settings/blacklist/add", data={"number": CALLER, "connect": "y"}).status_code == 400
    assert count(db_session, BlacklistEntry) == 0


@pytest.mark.parametrize("config_overrides", [{"PROVISIONING_FAIL_NUMBERS": [PHONE]}])
def test_a_number_the_switch_refused_is_shown_with_a_retry(signed_in, db_session):
    add(signed_in, connect="y")
    page = signed_in.get("/settings/blacklist").text
    assert "failed, try again" in page and "/retry" in page


def test_a_full_list_of_300_stays_within_the_page_budget(signed_in, db_session, app):
    import gzip

    app.config["BLACKLIST_LIMIT"] = 300
    add(signed_in, connect="y")
    account_id = db_session.scalar(select(BlacklistEntry.account_id))
    db_session.add_all([BlacklistEntry(account_id=account_id, msisdn=f"+79{n:09d}") for n in range(1, 300)])
    db_session.commit()
    page = signed_in.get("/settings/blacklist")
    assert page.text.count('name="entries"') == 300 and "300 of 300 numbers" in page.text
    assert len(gzip.compress(page.data)) <= 14 * 1024
