"""The staff outbox: each message's delivery state with its time, filtered by state."""
from datetime import datetime

import pytest

from portal.models import SmsMessage
from tests import factories
from tests.web.admin.test_admin import staff_sign_in


@pytest.fixture
def outbox(db_session):
    factories.make_staff(db_session)
    rows = {
        "queued": SmsMessage(to="+79161234567", text="queued text", purpose="notice", status="queued"),
        "sent": SmsMessage(to="+79161234567", text="sent text", purpose="notice", status="sent",
                           sent_at=datetime(2026, 12, 1, 9, 0)),
        "delivered": SmsMessage(to="+79161234567", text="delivered text", purpose="notice", status="delivered",
                                sent_at=datetime(2026, 12, 1, 9, 0), done_at=datetime(2026, 12, 1, 9, 7)),
        "failed": SmsMessage(to="+79161234567", text="failed text", purpose="notice", status="failed",
                             sent_at=datetime(2026, 12, 1, 9, 0), done_at=datetime(2026, 12, 1, 10, 11),
                             error="SMSC error 0x0000000B: Invalid destination address"),
        "expired": SmsMessage(to="+79161234567", text="expired text", purpose="notice", status="expired",
                              sent_at=datetime(2026, 12, 1, 9, 0), done_at=datetime(2026, 12, 2, 9, 0)),
    }
    db_session.add_all(rows.values())
    db_session.commit()
    return rows


def test_every_delivery_state_is_shown_with_its_time(client, outbox):
    staff_sign_in(client)
    page = client.get("/admin/sms")
    assert page.status_code == 200
    text = page.text.replace("\u202f", " ")  # the tests' locale is English; times are Moscow time
    for state in ("queued", "sent", "delivered", "failed", "expired"):
        assert f"{state} text" in text
    assert "<td>queued</td>" in text
    assert "sent, 12/01/2026, 12:00 PM" in text
    assert "delivered, 12/01/2026, 12:07 PM" in text  # the receipt's time
    assert "failed, 12/01/2026, 1:11 PM (SMSC error 0x0000000B" in text
    assert "expired, 12/02/2026, 12:00 PM" in text


@pytest.mark.parametrize("state", ["queued", "sent", "delivered", "failed", "expired"])
def test_the_outbox_filters_by_state(client, outbox, state):
    staff_sign_in(client)
    page = client.get(f"/admin/sms?state={state}")
    assert page.status_code == 200
    shown = {s for s in outbox if f"{s} text" in page.text}
    assert shown == {state}
    assert f'<option selected value="{state}">' in page.text


def test_an_unknown_state_is_refused_next_to_the_field_and_everything_shown(client, outbox):
    staff_sign_in(client)
    page = client.get("/admin/sms?state=lost")
    assert page.status_code == 422
    assert 'id="state-error"' in page.text and all(f"{s} text" in page.text for s in outbox)


def test_older_keeps_the_filter(client, db_session, outbox):
    db_session.add_all(SmsMessage(to="+79161234567", text=f"bulk {n}", purpose="notice", status="delivered")
                       for n in range(100))
    db_session.commit()
    staff_sign_in(client)
    page = client.get("/admin/sms?state=delivered")
    assert "state=delivered" in page.text.split("before=")[1].split('"')[0]
