"""Either logout address ends whichever session the request carries, customer or staff."""
import pytest
from sqlalchemy import select

from portal.models import AuditEvent, LoginSession, StaffSession
from tests import factories


def stolen_cookie(client) -> dict:
    with client.session_transaction() as sess:
        return dict(sess)


def replay(client, cookie: dict) -> None:
    with client.session_transaction() as sess:
        sess.update(cookie)


@pytest.mark.parametrize("logout_url", ["/auth/logout", "/admin/logout"])
def test_a_customer_session_is_revoked_by_either_logout(client, login_as, db_session, logout_url):
    login_as("+79161234567")
    cookie = stolen_cookie(client)
    assert client.post_form(logout_url).status_code == 303
    assert db_session.scalars(select(LoginSession)).one().revoked_at is not None
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "logout")).one()
    replay(client, cookie)
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("logout_url", ["/admin/logout", "/auth/logout"])
def test_a_staff_session_is_revoked_by_either_logout(client, db_session, logout_url):
    factories.make_staff(db_session)
    db_session.commit()
    client.post_form("/admin/login", {"email": "agent@example.com", "password": factories.PASSWORD})
    cookie = stolen_cookie(client)
    assert client.post_form(logout_url).status_code == 303
    assert db_session.scalars(select(StaffSession)).one().revoked_at is not None
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "staff_logout")).one()
    replay(client, cookie)
    assert client.get("/admin/").status_code == 302
