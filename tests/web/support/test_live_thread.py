"""An open thread updates itself (htmx): it asks with the version it shows, gets 204 while nothing changed, the
thread when a message came, a whole-page reload when the state changed; staff see the customer's reply likewise."""
import re

import pytest
from sqlalchemy import select

from portal.domain.audit import Actor
from portal.domain.support import requests as support
from portal.models import Staff, SupportRequest, utcnow
from tests import factories
from tests.web.support.test_support_pages import open_request, staff_client

HTMX = {"HX-Request": "true"}


@pytest.fixture
def request_id(client, login_as, db_session):
    login_as("+79161234567")
    assert open_request(client).status_code == 303
    return db_session.scalar(select(SupportRequest.id))


def live_url(html: str) -> str:
    return re.search(r'id="live-thread" hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")


def staff_answers(db_session, request_id, text, *, internal=False):
    staff = db_session.scalar(select(Staff)) or factories.make_staff(db_session)
    support.reply_as_staff(db_session, request_id=request_id, staff_id=staff.id, text=text, internal=internal,
                           idempotency_key=None, actor=Actor(staff_id=staff.id), now=utcnow())


def test_nothing_new_is_a_204(client, request_id):
    url = live_url(client.get(f"/support/{request_id}").text)
    assert "every 20s" in client.get(f"/support/{request_id}").text
    response = client.get(url, headers=HTMX)
    assert response.status_code == 204 and response.data == b""


def test_a_note_changes_nothing_for_the_customer_and_an_answer_reloads_the_page(client, db_session, request_id):
    url = live_url(client.get(f"/support/{request_id}").text)
    staff_answers(db_session, request_id, "Only a note for colleagues.", internal=True)
    quiet = client.get(url, headers=HTMX)
    assert quiet.status_code == 204 and "HX-Refresh" not in quiet.headers  # the customer's thread is the same
    staff_answers(db_session, request_id, "We moved you to another cell.")
    response = client.get(url, headers=HTMX)
    assert response.status_code == 204 and response.headers["HX-Refresh"] == "true"  # the state changed too


def test_a_new_message_without_a_state_change_swaps_the_thread_only(client, db_session, request_id, app):
    staff = staff_client(app, db_session)
    page = staff.get(f"/admin/support/{request_id}").text
    url = live_url(page)
    assert url.startswith(f"/admin/support/{request_id}/thread?seen=")
    assert staff.get(url, headers=HTMX).status_code == 204
    client.post_form(f"/support/{request_id}/reply", {"text": "And in the mornings too.",
                                                      "idempotency_key": "k" * 24})
    response = staff.get(url, headers=HTMX)
    assert response.status_code == 200 and "HX-Refresh" not in response.headers
    assert "And in the mornings too." in response.text and response.text.lstrip().startswith('<div id="live-thread"')
    assert "<html" not in response.text and live_url(response.text) != url
    assert staff.get(live_url(response.text), headers=HTMX).status_code == 204


def test_opened_as_a_page_it_is_the_request_page(client, request_id):
    response = client.get(f"/support/{request_id}/thread?seen=x")
    assert response.status_code == 303 and response.location.endswith(f"/support/{request_id}")


def test_another_customer_and_a_visitor_get_nothing(client, app, db_session, request_id, login_as):
    client.post_form("/auth/logout")
    assert client.get(f"/support/{request_id}/thread", headers=HTMX).status_code in (302, 401)
    login_as("+79031112233")
    assert client.get(f"/support/{request_id}/thread", headers=HTMX).status_code == 404
    assert client.get(f"/admin/support/{request_id}/thread", headers=HTMX).status_code in (302, 401, 403)
