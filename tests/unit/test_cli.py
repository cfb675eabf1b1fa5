from sqlalchemy import select

from portal.models import AuditEvent, Staff


def test_create_staff(app, db_session):
    result = app.test_cli_runner().invoke(args=["create-staff", "--email", "Boss@Example.com", "--name", "Boss",
                                                "--role", "admin", "--password", "long-enough-pass"])
    assert result.exit_code == 0, result.output
    assert "boss@example.com (admin) created" in result.output
    staff = db_session.scalars(select(Staff)).one()
    assert staff.role == "admin" and staff.password_hash != "long-enough-pass"
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "staff_created")).one()


def test_create_staff_refuses_a_weak_password_and_a_duplicate(app, db_session):
    runner = app.test_cli_runner()
    weak = runner.invoke(args=["create-staff", "--email", "a@example.com", "--name", "A", "--role", "support",
                               "--password", "qwerty"])
    assert weak.exit_code != 0 and "At least 8" in weak.output
    ok = ["create-staff", "--email", "a@example.com", "--name", "A", "--role", "support",
          "--password", "long-enough-pass"]
    assert runner.invoke(args=ok).exit_code == 0
    again = runner.invoke(args=ok)
    assert again.exit_code != 0 and "exists" in again.output
