"""Staff lift a customer's own block (lost or voluntary) with a reason; suspension for debt stays."""
import pytest
from sqlalchemy import select

from portal.models import Account, AuditEvent, LoginAccount, SmsMessage
from tests import factories
from tests.web.admin.test_money_admin import staff_client


@pytest.fixture
def lost(db_session):
    account = factories.make_line(db_session, "+79161234567", status="blocked_lost")
    login = factories.make_login(db_session, account)
    other = factories.make_line(db_session, "+79031112233", customer=account.customer)
    db_session.add(LoginAccount(login_id=login.id, account_id=other.id))
    db_session.commit()
    return account


def unblock(client, account_id, reason="Customer called, identity checked"):
    return client.post_form(f"/admin/accounts/{account_id}/unblock", {"reason": reason})


def test_the_customer_page_shows_the_status_and_the_unblock_form_to_admins(app, db_session, lost):
    admin = staff_client(app, db_session, "admin")
    page = admin.get(f"/admin/customers/{lost.customer_id}").text
    assert "Blocked: lost or stolen" in page and f'action="/admin/accounts/{lost.id}/unblock"' in page


def test_support_staff_see_the_status_but_cannot_unblock(app, db_session, lost):
    support = staff_client(app, db_session, "support")
    page = support.get(f"/admin/customers/{lost.customer_id}").text
    assert "Blocked: lost or stolen" in page and "/unblock" not in page
    assert unblock(support, lost.id).status_code == 403
    assert db_session.get(Account, lost.id).status == "blocked_lost"


def test_an_admin_unblocks_a_lost_number_with_a_reason(app, db_session, lost):
    admin = staff_client(app, db_session, "admin")
    response = unblock(admin, lost.id)
    assert response.status_code == 303
    db_session.expire_all()
    assert db_session.get(Account, lost.id).status == "active"
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "number_unblocked")).one()
    assert event.staff_id is not None and "identity checked" in event.detail and event.account_id == lost.id
    [notice] = db_session.scalars(select(SmsMessage).where(SmsMessage.to == "+79031112233")).all()
    assert "unblocked" in notice.text


def test_a_reason_is_required(app, db_session, lost):
    admin = staff_client(app, db_session, "admin")
    response = unblock(admin, lost.id, reason="ok")
    assert response.status_code == 422 and f'id="unblock-reason-{lost.id}-error"' in response.text
    assert db_session.get(Account, lost.id).status == "blocked_lost"


def test_a_debt_suspension_is_not_lifted(app, db_session, lost):
    lost.status = "suspended"
    db_session.commit()
    admin = staff_client(app, db_session, "admin")
    assert unblock(admin, lost.id).status_code == 422
    db_session.expire_all()
    assert db_session.get(Account, lost.id).status == "suspended"


def test_an_unknown_account_is_404_and_csrf_is_required(app, db_session, lost):
    admin = staff_client(app, db_session, "admin")
    assert unblock(admin, 987654).status_code == 404
    assert admin.post(f"/admin/accounts/{lost.id}/unblock", data={"reason": "no token here"}).status_code == 400
