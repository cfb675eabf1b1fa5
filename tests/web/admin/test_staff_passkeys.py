"""Staff passkeys: each adds their own; where required, signing in takes the password and then a passkey."""
import pytest
from sqlalchemy import select

from portal.models import AuditEvent, Passkey, Staff
from tests import factories
from tests.passkey_client import add_passkey, sign_in_with
from tests.soft_authenticator import SoftAuthenticator
from tests.web.admin.test_admin import staff_sign_in


@pytest.fixture
def member(db_session):
    return factories.make_staff(db_session)


def require(db_session, email="agent@example.com"):
    db_session.execute(select(Staff).where(Staff.email == email)).scalar_one().passkey_required = True
    db_session.commit()


def staff_with_passkey(client, db_session) -> SoftAuthenticator:
    device = SoftAuthenticator()
    staff_sign_in(client)
    assert add_passkey(client, device, name="YubiKey", base="/admin/passkeys").status_code == 200
    client.post_form("/admin/logout")
    return device


def test_staff_add_and_remove_their_passkeys(client, db_session, member):
    device = SoftAuthenticator()
    staff_sign_in(client)
    assert add_passkey(client, device, name="YubiKey", base="/admin/passkeys").status_code == 200
    page = client.get("/admin/passkeys").text
    assert "YubiKey" in page
    passkey = db_session.scalar(select(Passkey))
    assert passkey.staff_id == member.id and passkey.login_id is None
    assert client.post_form(f"/admin/passkeys/{passkey.id}/remove").status_code == 303
    assert db_session.scalar(select(Passkey)) is None


def test_another_staff_members_passkey_is_not_found(app, client, db_session, member):
    factories.make_staff(db_session, email="other@example.com")
    other = app.test_client()
    staff_sign_in(other, email="other@example.com")
    add_passkey(other, SoftAuthenticator(), base="/admin/passkeys")
    staff_sign_in(client)
    passkey_id = db_session.scalar(select(Passkey.id))
    assert client.post_form(f"/admin/passkeys/{passkey_id}/remove").status_code == 404


def test_without_the_requirement_the_password_is_enough(client, db_session, member):
    staff_with_passkey(client, db_session)
    assert staff_sign_in(client).location == "/admin/"


def test_a_required_passkey_is_the_second_step(client, db_session, member):
    device = staff_with_passkey(client, db_session)
    require(db_session)
    response = staff_sign_in(client)
    assert response.status_code == 303 and response.location == "/admin/login/passkey"
    assert client.get("/admin/").status_code == 302  # the password alone opens nothing
    assert 'data-passkey="sign-in"' in client.get("/admin/login/passkey").text
    assert sign_in_with(client, SoftAuthenticator(), base="/admin/login/passkey").status_code == 422
    response = sign_in_with(client, device, base="/admin/login/passkey")
    assert response.status_code == 200 and response.json["redirect"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert "password and passkey YubiKey" in db_session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "staff_login")).all()


def test_a_member_who_must_use_a_passkey_keeps_the_last_one(client, db_session, member):
    """The security review found it: removing the last one made the password alone enough again."""
    device = staff_with_passkey(client, db_session)
    require(db_session)
    staff_sign_in(client)
    sign_in_with(client, device, base="/admin/login/passkey")
    passkey_id = db_session.scalar(select(Passkey.id))
    refused = client.post_form(f"/admin/passkeys/{passkey_id}/remove")
    assert refused.status_code == 303 and "add another one before you remove your last" in client.get(
        refused.location).text
    assert db_session.scalar(select(Passkey.id)) == passkey_id
    assert add_passkey(client, SoftAuthenticator(), name="Spare", base="/admin/passkeys").status_code == 200
    assert client.post_form(f"/admin/passkeys/{passkey_id}/remove").status_code == 303
    assert db_session.scalars(select(Passkey.name)).all() == ["Spare"]


def test_the_second_step_needs_the_password_first(client, db_session, member):
    staff_with_passkey(client, db_session)
    require(db_session)
    options = client.post("/admin/login/passkey/options", json={}, headers={"X-CSRFToken": client.csrf_token()})
    assert options.status_code == 403
    assert "took too long" in client.get("/admin/login/passkey").text


def test_another_staff_members_passkey_is_no_second_step(app, client, db_session, member):
    factories.make_staff(db_session, email="other@example.com")
    other = app.test_client()
    staff_sign_in(other, email="other@example.com")
    theirs = SoftAuthenticator()
    add_passkey(other, theirs, base="/admin/passkeys")
    staff_with_passkey(client, db_session)
    require(db_session)
    staff_sign_in(client)
    assert sign_in_with(client, theirs, base="/admin/login/passkey").status_code == 422
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize("config_overrides", [{"STAFF_PASSKEY_REQUIRED": True}])
def test_required_for_everyone_by_config_and_added_first(client, db_session, member):
    staff_sign_in(client)
    response = client.get("/admin/")
    assert response.status_code == 302 and response.location.endswith("/admin/passkeys")
    assert "until you do, the staff pages stay closed" in client.get("/admin/passkeys").text
    assert add_passkey(client, SoftAuthenticator(), base="/admin/passkeys").status_code == 200
    assert client.get("/admin/").status_code == 200
    client.post_form("/admin/logout")
    assert staff_sign_in(client).location == "/admin/login/passkey"


def test_the_cli_requires_a_passkey_of_one_staff_member(app, db_session, member):
    result = app.test_cli_runner().invoke(args=["staff-passkey", "agent@example.com"])
    assert result.exit_code == 0 and "required" in result.output
    db_session.expire_all()
    assert db_session.get(Staff, member.id).passkey_required
    assert app.test_cli_runner().invoke(args=["staff-passkey", "nobody@example.com"]).exit_code != 0
    app.test_cli_runner().invoke(args=["staff-passkey", "agent@example.com", "--optional"])
    db_session.expire_all()
    assert not db_session.get(Staff, member.id).passkey_required
