import csv
import io
import re
from datetime import timedelta

import pytest

from portal.models import AuditEvent, utcnow
from tests import factories


@pytest.fixture
def signed_in(client, db_session, login_as):
    login_as("+79161234567")
    return client


def add_events(db_session, login_id, account_id, n, action="tariff_changed", **values):
    for i in range(n):
        db_session.add(AuditEvent(action=action, login_id=login_id, account_id=account_id, ip="10.0.0.1",
                                  created_at=utcnow() - timedelta(minutes=i + 1), **values))
    db_session.commit()


def test_the_archive_lists_this_logins_actions_newest_first(signed_in, db_session):
    page = signed_in.get("/archive").text
    assert "Signed in" in page  # the sign-in the fixture just made
    signed_in.post_form("/settings/password", {"current_password": factories.PASSWORD,
                                               "new_password": "blue-kettle-77", "confirm": "blue-kettle-77"})
    page = signed_in.get("/archive").text
    assert page.index("Password changed") < page.index("Signed in")


def test_what_happened_to_the_accounts_is_shown_and_staff_marked(signed_in, db_session):
    login = factories.ensure_login(db_session, "+79161234567")
    add_events(db_session, None, login.primary_account_id, 1, action="balance_adjusted", staff_id=None)
    add_events(db_session, None, login.primary_account_id, 1, action="account_suspended")
    page = signed_in.get("/archive").text
    assert "Balance corrected" in page and "Suspended" in page


def test_other_logins_and_staff_only_events_are_not_shown(signed_in, db_session):
    other = factories.ensure_login(db_session, "+79031112233")
    add_events(db_session, other.id, other.primary_account_id, 1, action="tariff_changed")
    add_events(db_session, None, None, 1, action="vouchers_issued")
    page = signed_in.get("/archive").text
    assert "Tariff changed" not in page and "vouchers_issued" not in page


def test_filter_by_kind_paging_and_csv(signed_in, db_session):
    login = factories.ensure_login(db_session, "+79161234567")
    add_events(db_session, login.id, login.primary_account_id, 40)
    page = signed_in.get("/archive?kind=tariffs").text
    assert "Signed in" not in page and page.count("Tariff changed") == 30
    more = re.search(r'<a href="([^"]+before=\d+[^"]*)"', page).group(1).replace("&amp;", "&")
    fragment = signed_in.get(more, headers={"HX-Request": "true"}).text
    assert "<html" not in fragment and fragment.count("Tariff changed") == 10
    rows = list(csv.reader(io.StringIO(signed_in.get("/archive.csv?kind=tariffs").text)))
    assert rows[0] == ["Time (UTC)", "Action", "IP address"] and len(rows) == 41


@pytest.mark.parametrize("query", ["kind=nope", "start=2026-02-01&end=2026-01-01"])
def test_bad_filters_get_a_message(signed_in, query):
    assert signed_in.get(f"/archive?{query}").status_code == 422
    assert signed_in.get(f"/archive.csv?{query}").status_code == 422


def test_the_archive_needs_a_customer(client):
    assert client.get("/archive").status_code == 302
