"""Ending a contract: admins only, with a reason; refused while the balance is negative."""
import pytest
from sqlalchemy import select

from portal.models import Account, AuditEvent, Subscription
from tests import factories


def staff_client(app, db_session, role):
    factories.make_staff(db_session, email=f"{role}@example.com", role=role)
    client = app.test_client()
    client.post_form("/admin/login", {"email": f"{role}@example.com", "password": factories.PASSWORD})
    return client


@pytest.fixture
def line(db_session):
    account = factories.make_line(db_session, "+79161234567", balance=5_000)
    factories.make_subscription(db_session, account, factories.make_service(db_session))
    db_session.commit()
    return account


def test_an_admin_ends_a_contract_with_a_reason(app, db_session, line):
    admin = staff_client(app, db_session, "admin")
    assert f"/admin/accounts/{line.id}/terminate" in admin.get(f"/admin/customers/{line.customer_id}").text
    response = admin.post_form(f"/admin/accounts/{line.id}/terminate", {"reason": "", "confirm": "y"})
    assert response.status_code == 422 and "Give the reason" in response.text
    response = admin.post_form(f"/admin/accounts/{line.id}/terminate", {"reason": "Owner's request, shop 12",
                                                                        "confirm": "y"})
    assert response.status_code == 303
    db_session.expire_all()
    assert db_session.get(Account, line.id).status == "terminated"
    assert db_session.get(Account, line.id).balance == 5_000  # the money stays for a refund by the shop
    assert db_session.scalar(select(Subscription.status)) == "ended"
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "account_terminated"))
    assert event.staff_id and "shop 12" in event.detail


def test_a_negative_balance_refuses(app, db_session, line):
    line.balance = -100
    db_session.commit()
    admin = staff_client(app, db_session, "admin")
    response = admin.post_form(f"/admin/accounts/{line.id}/terminate", {"reason": "Moving abroad", "confirm": "y"})
    assert response.status_code == 422 and "debt" in response.text
    assert db_session.get(Account, line.id).status == "active"


def test_support_staff_and_customers_cannot(app, db_session, line, client, login_as):
    support = staff_client(app, db_session, "support")
    assert support.get(f"/admin/accounts/{line.id}/terminate").status_code == 403
    assert support.post_form(f"/admin/accounts/{line.id}/terminate", {"reason": "x" * 5,
                                                                      "confirm": "y"}).status_code == 403
    login_as("+79161234567")
    assert client.post_form(f"/admin/accounts/{line.id}/terminate").status_code == 302
    admin = staff_client(app, db_session, "admin")
    assert admin.get("/admin/accounts/999999/terminate").status_code == 404
