"""Issue 14.19: sessions end on the server after an idle and an absolute lifetime; a job cleans the rows."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import celery
from portal.models import AuditEvent, LoginSession, StaffSession, utcnow
from tests import factories


@pytest.fixture
def customer(client, login_as):
    login_as("+79161234567")
    return client


@pytest.fixture
def agent_client(app, db_session):
    factories.make_staff(db_session)
    db_session.commit()
    client = app.test_client()
    assert client.post_form("/admin/login", {"email": "agent@example.com",
                                             "password": factories.PASSWORD}).status_code == 303
    return client


def _age(db_session, table, *, idle=timedelta(0), age=timedelta(0)):
    row = db_session.scalars(select(table)).one()
    row.last_seen_at = utcnow() - idle
    row.created_at = utcnow() - age
    db_session.commit()
    return row


def test_a_customer_session_ends_after_the_idle_lifetime(customer, db_session, app):
    assert customer.get("/").status_code == 200
    _age(db_session, LoginSession, idle=app.config["SESSION_IDLE_LIFETIME"] + timedelta(minutes=1))
    response = customer.get("/")
    assert response.status_code == 302 and "/auth/login" in response.location


def test_a_busy_customer_session_ends_after_the_absolute_lifetime(customer, db_session, app):
    _age(db_session, LoginSession, age=app.config["SESSION_ABSOLUTE_LIFETIME"] - timedelta(minutes=1))
    assert customer.get("/").status_code == 200
    _age(db_session, LoginSession, age=app.config["SESSION_ABSOLUTE_LIFETIME"] + timedelta(minutes=1))
    assert customer.get("/").status_code == 302


def test_staff_sessions_are_shorter_and_follow_activity(agent_client, db_session, app):
    assert app.config["STAFF_SESSION_IDLE_LIFETIME"] < app.config["SESSION_IDLE_LIFETIME"]
    assert app.config["STAFF_SESSION_ABSOLUTE_LIFETIME"] < app.config["SESSION_ABSOLUTE_LIFETIME"]
    idle = app.config["STAFF_SESSION_IDLE_LIFETIME"]
    _age(db_session, StaffSession, idle=idle - timedelta(minutes=2))
    assert agent_client.get("/admin/").status_code == 200  # in use: the idle clock starts again
    db_session.expire_all()
    assert utcnow() - db_session.scalars(select(StaffSession)).one().last_seen_at < timedelta(minutes=1)
    _age(db_session, StaffSession, idle=idle + timedelta(minutes=1))
    response = agent_client.get("/admin/")
    assert response.status_code == 302 and "/admin/login" in response.location


def test_a_staff_session_ends_after_its_absolute_lifetime(agent_client, db_session, app):
    _age(db_session, StaffSession, age=app.config["STAFF_SESSION_ABSOLUTE_LIFETIME"] + timedelta(minutes=1))
    assert agent_client.get("/admin/").status_code == 302


def test_the_cleanup_command_ends_expired_sessions_and_deletes_old_rows(customer, agent_client, db_session, app):
    login_id = db_session.scalars(select(LoginSession)).one().login_id
    now = utcnow()
    db_session.add_all([
        LoginSession(token="idle", login_id=login_id, created_at=now - timedelta(days=20),
                     last_seen_at=now - timedelta(days=15)),
        LoginSession(token="old-ended", login_id=login_id, created_at=now - timedelta(days=200),
                     last_seen_at=now - timedelta(days=100), revoked_at=now - timedelta(days=91)),
        LoginSession(token="recently-ended", login_id=login_id, created_at=now - timedelta(days=3),
                     last_seen_at=now - timedelta(days=2), revoked_at=now - timedelta(days=2)),
    ])
    _age(db_session, StaffSession, idle=timedelta(hours=1))
    result = app.test_cli_runner().invoke(args=["sessions", "clean"])
    assert result.exit_code == 0 and "2 session(s) ended, 1 old row(s) deleted." in result.output
    db_session.expire_all()
    rows = {s.token: s.revoked_at for s in db_session.scalars(select(LoginSession))}
    assert "old-ended" not in rows and rows["idle"] is not None and rows["recently-ended"] is not None
    assert sum(1 for token, ended in rows.items() if ended is None) == 1  # the signed-in customer's
    assert db_session.scalars(select(StaffSession)).one().revoked_at is not None
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "sessions_cleaned")) == 1
    assert customer.get("/").status_code == 200
    again = app.test_cli_runner().invoke(args=["sessions", "clean"])
    assert "0 session(s) ended, 0 old row(s) deleted." in again.output


def test_the_beat_runs_the_cleanup(app):
    entry = celery.conf.beat_schedule["clean-sessions"]
    assert entry["task"] == "portal.clean_sessions" and "portal.clean_sessions" in celery.tasks
    assert celery.tasks["portal.clean_sessions"].apply().get() == "0 ended, 0 deleted"
