"""The holiday pause page of a home contract, resuming from the dashboard, and the home tariff switch."""
import gzip
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.models import Account, HomeContract, HomePause, LedgerEntry, ScheduledTariffChange, utcnow
from tests import factories
from tests.helpers import key_of

CONTRACT = "HC-100200"


def make_home(db_session, contract_no, *, tariff, connection_type="gpon", status="active"):
    customer = factories.make_customer(db_session)
    account = Account(customer=customer, kind="home", region="Moscow", tariff=tariff, balance=100000,
                      status=status)
    db_session.add_all([account, HomeContract(account=account, contract_no=contract_no, address="Moscow",
                                              connection_type=connection_type, billing_day=10)])
    db_session.flush()
    db_session.add(LedgerEntry(account_id=account.id, amount=100000, kind="adjustment"))
    factories.make_login(db_session, account)
    db_session.commit()
    return account


@pytest.fixture
def home(db_session):
    tariff = factories.make_tariff(db_session, kind="home", name="Home 500 + TV", monthly_fee=99000,
                                   pause_monthly_fee=9900, unlimited_data=True, speed_mbps=500,
                                   connection_types="gpon")
    return make_home(db_session, CONTRACT, tariff=tariff)


@pytest.fixture
def signed_in(client, home):
    assert client.post_form("/auth/login", {"phone": CONTRACT, "password": factories.PASSWORD}).status_code == 303
    return client


def today():
    """The customer's date (Moscow by default), as the pages count it."""
    return (utcnow() + timedelta(hours=3)).date()


def post_pause(client, start_on, days, *, confirm=False, key=None):
    key = key or key_of(client.get("/home/pause").text)
    data = {"start_on": start_on.isoformat(), "days": str(days), "idempotency_key": key}
    if confirm:
        data["confirm"] = "1"
    return client.post_form("/home/pause", data)


def count(db_session, model, *where):
    return db_session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_page_shows_the_reduced_fee_then_the_end_date_before_pausing(signed_in, db_session, home):
    page = signed_in.get("/home/pause")
    assert page.status_code == 200 and "990.00" in page.text and "99.00" in page.text
    start = today() + timedelta(days=2)
    preview = post_pause(signed_in, start, 14)
    assert preview.status_code == 200 and 'name="confirm" value="1"' in preview.text
    assert (start + timedelta(days=14)).isoformat() not in preview.text  # shown as a date, not an ISO string
    assert count(db_session, HomePause) == 0
    done = post_pause(signed_in, start, 14, confirm=True, key=key_of(preview.text))
    assert done.status_code == 303 and done.headers["Location"].endswith("/")
    pause = db_session.scalars(select(HomePause)).one()
    assert (pause.start_on, pause.resume_on, pause.status, pause.monthly_fee) == (
        start, start + timedelta(days=14), "scheduled", 9900)
    assert "A pause is scheduled" in signed_in.get("/").text


def test_a_pause_from_today_blocks_the_contract_and_resuming_restores_it(signed_in, db_session, home):
    key = key_of(signed_in.get("/home/pause").text)
    for _ in range(2):  # a double click pauses once
        assert post_pause(signed_in, today(), 7, confirm=True, key=key).status_code == 303
    pause = db_session.scalars(select(HomePause)).one()
    db_session.expire_all()
    assert db_session.get(Account, home.id).status == "blocked_by_owner"
    dashboard = signed_in.get("/").text
    assert "paused at your request until" in dashboard and "Resume now" in dashboard
    assert "Home contract paused" in signed_in.get("/archive").text
    assert signed_in.post_form(f"/home/pause/{pause.id}/end").status_code == 303
    db_session.expire_all()
    assert db_session.get(Account, home.id).status == "active"
    assert db_session.get(HomePause, pause.id).status == "ended"
    assert "Home contract resumed after a pause" in signed_in.get("/archive").text


@pytest.mark.parametrize(("offset", "days", "message"), [
    (0, 6, "A pause lasts from 7 to 90 days."), (0, 91, "A pause lasts from 7 to 90 days."),
    (-1, 14, "Choose today or a day up to 30 days ahead."), (31, 14, "Choose today or a day up to 30 days ahead."),
])
def test_dates_out_of_bounds_are_refused_next_to_the_field(signed_in, db_session, offset, days, message):
    for confirm in (False, True):
        response = post_pause(signed_in, today() + timedelta(days=offset), days, confirm=confirm)
        assert response.status_code == 422 and message in response.text and 'aria-invalid="true"' in response.text
    assert count(db_session, HomePause) == 0


def test_missing_values_are_refused(signed_in, db_session):
    key = key_of(signed_in.get("/home/pause").text)
    response = signed_in.post_form("/home/pause", {"start_on": "", "days": "many", "idempotency_key": key})
    assert response.status_code == 422 and "Choose the first day." in response.text


def test_a_tariff_without_a_pause_shows_why(signed_in, db_session, home):
    home.tariff.pause_monthly_fee = None
    db_session.commit()
    page = signed_in.get("/home/pause")
    assert "cannot be paused" in page.text and 'id="pause-form"' not in page.text
    for confirm in (False, True):
        response = post_pause(signed_in, today(), 14, confirm=confirm, key="k" * 24)
        assert response.status_code == 422 and "cannot be paused" in response.text
    assert count(db_session, HomePause) == 0


def test_posts_without_the_csrf_token_are_refused(signed_in, db_session, home):
    key = key_of(signed_in.get("/home/pause").text)
    response = signed_in.post("/home/pause", data={"start_on": today().isoformat(), "days": "14",
                                                   "idempotency_key": key, "confirm": "1"})
    assert response.status_code == 400 and count(db_session, HomePause) == 0
    pause = HomePause(account_id=home.id, start_on=today(), resume_on=today() + timedelta(days=7), status="active")
    db_session.add(pause)
    db_session.commit()
    assert signed_in.post(f"/home/pause/{pause.id}/end").status_code == 400
    assert db_session.get(HomePause, pause.id).status == "active"


def test_another_contracts_pause_is_not_found(signed_in, db_session, home):
    other = make_home(db_session, "HC-999999", tariff=home.tariff)
    theirs = HomePause(account_id=other.id, start_on=today(), resume_on=today() + timedelta(days=7), status="active")
    db_session.add(theirs)
    db_session.commit()
    assert signed_in.post_form(f"/home/pause/{theirs.id}/end").status_code == 404
    assert signed_in.post_form("/home/pause/999999/end").status_code == 404
    assert db_session.get(HomePause, theirs.id).status == "active"


def test_a_mobile_line_has_no_pause_page(client, login_as):
    login_as("+79161234567")
    assert client.get("/home/pause").status_code == 404
    assert client.post_form("/home/pause", {"days": "14"}).status_code == 404


@pytest.fixture
def offers(db_session, home):
    made = dict(
        later=factories.make_tariff(db_session, kind="home", name="Fibre 1000", monthly_fee=120000, switch_fee=5000,
                                    speed_mbps=1000, unlimited_data=True, connection_types="gpon,fttb",
                                    change_effective="next_period"),
        dsl=factories.make_tariff(db_session, kind="home", name="DSL 30", connection_types="adsl"),
        mobile=factories.make_tariff(db_session, kind="mobile", name="Smart"),
    )
    db_session.commit()
    return made


def test_the_home_pages_fit_the_budget_without_inline_script_or_style(signed_in, db_session, home, offers):
    start = today() + timedelta(days=3)
    pages = [signed_in.get("/home/pause"), post_pause(signed_in, start, 10)]
    post_pause(signed_in, start, 10, confirm=True)
    signed_in.post_form(f"/tariffs/{offers['later'].id}",
                        {"idempotency_key": key_of(signed_in.get(f"/tariffs/{offers['later'].id}").text)})
    pages += [signed_in.get("/"), signed_in.get("/home/pause"), signed_in.get("/tariffs/"),
              signed_in.get(f"/tariffs/{offers['dsl'].id}")]
    assert "Cancel the pause" in pages[3].text and "Keep my tariff" in pages[2].text
    for page in pages:
        assert page.status_code == 200 and len(gzip.compress(page.data)) <= 14 * 1024
        assert " style=" not in page.text and not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)


def test_the_home_dashboard_with_a_pause_and_a_scheduled_change_runs_few_queries(signed_in, db_session, home, offers,
                                                                                 count_queries):
    db_session.add_all([
        HomePause(account_id=home.id, start_on=today() + timedelta(days=3), resume_on=today() + timedelta(days=10)),
        ScheduledTariffChange(account_id=home.id, tariff_id=offers["later"].id, effective_on=date(2030, 1, 10))])
    db_session.commit()
    with count_queries() as statements:
        page = signed_in.get("/")
    assert "A pause is scheduled" in page.text and "Your tariff changes to Fibre 1000" in page.text
    assert len(statements) <= 10, "\n".join(statements)
