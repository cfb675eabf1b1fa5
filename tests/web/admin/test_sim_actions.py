"""SIM reissue and port-out on the staff customer page: at once without the lock; under it, a second staff member
records the identity check and approves (the first cannot); port-outs end or keep the contract (admins only)."""
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.models import Account, AuditEvent, GuardedAction, PortOut, SimLock, SmsMessage, SwitchCommand, utcnow
from tests import factories
from tests.web.admin.test_admin import staff_sign_in

MSISDN = "+79161234567"
ICCID = "89701011234567890123"


@pytest.fixture
def line(db_session):
    account = factories.ensure_login(db_session, MSISDN).primary_account
    return account


@pytest.fixture
def first(app, db_session):
    factories.make_staff(db_session, email="first@example.com")  # support
    client = app.test_client()
    assert staff_sign_in(client, "first@example.com").status_code == 303
    return client


@pytest.fixture
def second(app, db_session):
    factories.make_staff(db_session, email="second@example.com", role="admin")
    client = app.test_client()
    assert staff_sign_in(client, "second@example.com").status_code == 303
    return client


def lock(db_session, line):
    db_session.add(SimLock(account_id=line.id, since=utcnow()))
    db_session.commit()


def page(client, line):
    return client.get(f"/admin/customers/{line.customer_id}").text


def key(html, form_id):
    form = html.split(f'id="{form_id}"')[1].split("</form>")[0]
    return re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', form).group(1)


def reissue(client, line, iccid=ICCID, idempotency_key=None):
    idempotency_key = idempotency_key or key(page(client, line), f"sim-reissue-{line.id}")
    return client.post_form(f"/admin/accounts/{line.id}/sim-reissue",
                            {"iccid": iccid, "idempotency_key": idempotency_key})


def test_without_the_lock_support_replaces_the_sim_at_once(first, db_session, line):
    html = page(first, line)
    assert "No SIM lock" in html and "Replace the SIM card" in html
    response = reissue(first, line)
    assert response.status_code == 303 and response.location.endswith(f"#sim-{line.id}")
    assert "The SIM card is replaced" in first.get(response.location).text
    assert db_session.get(Account, line.id).line.iccid == ICCID
    assert db_session.scalar(select(SwitchCommand.operation).where(SwitchCommand.subject == "sim")) == "sim.replace"
    assert "SIM card of number" in db_session.scalar(select(SmsMessage.text).where(SmsMessage.to == MSISDN))
    assert db_session.scalar(select(func.count()).where(AuditEvent.action == "sim_reissued")) == 1


def test_a_double_post_replaces_once(first, db_session, line):
    same = key(page(first, line), f"sim-reissue-{line.id}")
    assert reissue(first, line, idempotency_key=same).status_code == 303
    assert reissue(first, line, idempotency_key=same).status_code == 303
    assert db_session.scalar(select(func.count()).select_from(GuardedAction)) == 1
    assert db_session.scalar(select(func.count()).select_from(SmsMessage)) == 1


@pytest.mark.parametrize("typed, message", [("89701011234567890124", "check digit does not match"),
                                            ("1234", "19 or 20 digits")])
def test_a_wrong_iccid_is_said_next_to_the_field(first, db_session, line, typed, message):
    response = reissue(first, line, typed)
    assert response.status_code == 422 and message in response.text
    assert f'id="iccid-{line.id}-error"' in response.text and f'value="{typed}"' in response.text
    assert db_session.scalar(select(func.count()).select_from(GuardedAction)) == 0


def test_under_the_lock_a_second_staff_member_checks_and_approves(first, second, db_session, line):
    lock(db_session, line)
    html = page(first, line)
    assert f'id="sim-lock-{line.id}"' in html and "SIM lock ON for +7 916 123-45-67" in html
    response = reissue(first, line)
    assert "waits until another staff member" in first.get(response.location).text
    action = db_session.scalar(select(GuardedAction))
    assert action.state == "awaiting_check" and db_session.get(Account, line.id).line.iccid is None
    assert "You started it" in page(first, line)
    own = first.post_form(f"/admin/sim-actions/{action.id}/approve",
                          {"document_type": "passport", "document_last4": "1234"})
    assert own.status_code == 403 and "You started this action" in own.text
    bad = second.post_form(f"/admin/sim-actions/{action.id}/approve", {"document_type": "passport",
                                                                       "document_last4": "12"})
    assert bad.status_code == 422 and f'id="document_last4-{action.id}-error"' in bad.text
    unchosen = second.post_form(f"/admin/sim-actions/{action.id}/approve", {"document_type": "",
                                                                            "document_last4": "1234"})
    assert unchosen.status_code == 422 and f'id="document-type-{action.id}-error"' in unchosen.text
    assert db_session.scalar(select(func.count()).select_from(SmsMessage)) == 0
    approved = second.post_form(f"/admin/sim-actions/{action.id}/approve",
                                {"document_type": "passport", "document_last4": "4321"})
    assert approved.status_code == 303 and "The SIM card is replaced" in second.get(approved.location).text
    db_session.expire_all()
    assert db_session.get(Account, line.id).line.iccid == ICCID
    assert db_session.scalar(select(SmsMessage.to)) == MSISDN
    detail = db_session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "identity_checked"))
    assert detail == "sim_reissue: passport ending 4321"


def test_the_second_staff_member_finds_every_waiting_action_in_one_list(first, second, db_session, line, client,
                                                                        login_as):
    lock(db_session, line)
    other = factories.ensure_login(db_session, "+79035550000").primary_account
    lock(db_session, other)
    assert second.get("/admin/sim-actions").text.count('id="waiting-') == 0
    reissue(first, line)
    reissue(first, other, iccid="89701011234567890131")
    listed = second.get("/admin/sim-actions").text
    waiting = [a.id for a in db_session.scalars(select(GuardedAction).order_by(GuardedAction.id))]
    assert [f'id="waiting-{i}"' in listed for i in waiting] == [True, True]
    assert "+7 916 123-45-67" in listed and "+7 903 555-00-00" in listed
    assert f'href="/admin/customers/{line.customer_id}#sim-{line.id}"' in listed
    assert 'href="/admin/sim-actions"' in listed  # in the staff menu
    second.post_form(f"/admin/sim-actions/{waiting[0]}/approve", {"document_type": "passport",
                                                                 "document_last4": "4321"})
    listed = second.get("/admin/sim-actions").text
    assert f'id="waiting-{waiting[0]}"' not in listed and f'id="waiting-{waiting[1]}"' in listed
    login_as(MSISDN)  # a customer is not staff
    assert client.get("/admin/sim-actions").status_code in (302, 303, 403, 404)


def test_a_waiting_action_is_cancelled_and_needs_the_token(first, db_session, line):
    lock(db_session, line)
    reissue(first, line)
    action = db_session.scalar(select(GuardedAction))
    assert first.post(f"/admin/sim-actions/{action.id}/cancel").status_code == 400
    assert first.post_form(f"/admin/sim-actions/{action.id}/cancel").status_code == 303
    db_session.expire_all()
    assert db_session.get(GuardedAction, action.id).state == "cancelled"


def test_unknown_objects_are_404_and_customers_cannot_act(client, first, db_session, line, login_as):
    assert first.post_form("/admin/accounts/999999/sim-reissue", {"iccid": ICCID}).status_code == 404
    assert first.post_form("/admin/sim-actions/999999/approve", {}).status_code == 404
    login_as(MSISDN)
    response = client.post_form(f"/admin/accounts/{line.id}/sim-reissue", {"iccid": ICCID,
                                                                            "idempotency_key": "k" * 24})
    assert response.status_code == 302 and "/admin/login" in response.location
    assert db_session.scalar(select(func.count()).select_from(GuardedAction)) == 0


def start_port_out(client, line, date="2026-12-01"):
    html = page(client, line)
    return client.post_form(f"/admin/accounts/{line.id}/port-out", {
        "recipient": "Other Mobile", "requested_on": date,
        "idempotency_key": key(html, f"port-out-form-{line.id}")})


def test_support_starts_a_port_out_only_an_admin_finishes_it(first, second, db_session, line):
    today = date.today().isoformat()
    assert start_port_out(first, line, today).status_code == 303
    port = db_session.scalar(select(PortOut))
    assert port.state == "started" and "move number" in db_session.scalar(select(SmsMessage.text))
    assert "Porting out to Other Mobile" in page(first, line)
    assert first.post_form(f"/admin/port-outs/{port.id}/done").status_code == 403
    assert second.post_form(f"/admin/port-outs/{port.id}/done").status_code == 303
    db_session.expire_all()
    assert db_session.get(PortOut, port.id).state == "done"
    assert db_session.get(Account, line.id).status == "terminated"


def test_a_port_out_with_a_future_date_is_refused_on_its_field(first, db_session, line):
    response = start_port_out(first, line, "2999-01-01")
    assert response.status_code == 422 and f'id="requested_on-{line.id}-error"' in response.text
    assert db_session.scalar(select(func.count()).select_from(PortOut)) == 0
