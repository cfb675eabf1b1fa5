"""The line's page, the owner's block (lost or voluntary) and unblocking with the password."""
import pytest
from sqlalchemy import func, select

from portal.models import Account, AuditEvent, LoginAccount, LoginThrottle, SmsMessage, SwitchCommand
from tests import factories

MAIN = "+79161234567"
SECOND = "+79031112233"


@pytest.fixture
def lines(db_session):
    """A login with two numbers; returns (main account, second account)."""
    login = factories.ensure_login(db_session, MAIN)
    main = login.primary_account
    second = factories.make_line(db_session, SECOND, customer=main.customer)
    db_session.add(LoginAccount(login_id=login.id, account_id=second.id))
    db_session.commit()
    return main, second


@pytest.fixture
def signed_in(client, login_as, lines):
    login_as(MAIN)
    return client


def status_of(db_session, account_id):
    db_session.expire_all()
    return db_session.get(Account, account_id).status


def sms_to(db_session, msisdn):
    return db_session.scalars(select(SmsMessage).where(SmsMessage.to == msisdn).order_by(SmsMessage.id)).all()


def block(client, account_id, reason="lost", **kwargs):
    return client.post_form(f"/numbers/{account_id}/block", {"reason": reason}, **kwargs)


def unblock(client, account_id, password=factories.PASSWORD, confirm="y", **kwargs):
    data = {"password": password}
    if confirm:
        data["confirm"] = confirm
    return client.post_form(f"/numbers/{account_id}/unblock", data, **kwargs)


def test_the_line_page_shows_number_owner_status_and_the_block_actions(signed_in, lines):
    main, second = lines
    page = signed_in.get(f"/numbers/{second.id}/")
    assert page.status_code == 200
    assert "+7 903 111-22-33" in page.text and main.customer.name in page.text and "Active" in page.text
    assert f'href="/numbers/{second.id}/block?reason=lost"' in page.text
    assert f'href="/numbers/{second.id}/block?reason=voluntary"' in page.text
    assert "/unblock" not in page.text


def test_a_foreign_or_missing_number_is_404(signed_in, db_session):
    stranger = factories.make_line(db_session, "+79265554433")
    factories.make_login(db_session, stranger)
    db_session.commit()
    for url in (f"/numbers/{stranger.id}/", f"/numbers/{stranger.id}/block?reason=lost",
                f"/numbers/{stranger.id}/unblock", "/numbers/987654/"):
        assert signed_in.get(url).status_code == 404, url
    assert block(signed_in, stranger.id).status_code == 404
    assert unblock(signed_in, stranger.id).status_code == 404
    assert status_of(db_session, stranger.id) == "active"


def test_another_logins_linked_number_is_404(signed_in, db_session, lines):
    """A number linked to someone else's login is not ours, even if that login shares our customer."""
    other = factories.make_line(db_session, "+79265554433", customer=lines[0].customer)
    other_login = factories.make_login(db_session, other)
    third = factories.make_line(db_session, "+79267776655")
    db_session.add(LoginAccount(login_id=other_login.id, account_id=third.id))
    db_session.commit()
    assert signed_in.get(f"/numbers/{third.id}/").status_code == 404
    assert block(signed_in, third.id).status_code == 404


def test_the_confirmation_says_what_happens(signed_in, lines):
    page = signed_in.get(f"/numbers/{lines[1].id}/block?reason=lost")
    assert page.status_code == 200
    assert "stop immediately" in page.text and "balance is kept" in page.text and "unblock" in page.text
    assert 'name="reason" type="hidden" value="lost"' in page.text


def test_an_unknown_reason_is_404(signed_in, lines):
    assert signed_in.get(f"/numbers/{lines[1].id}/block?reason=bored").status_code == 404
    assert signed_in.get(f"/numbers/{lines[1].id}/block").status_code == 404
    assert block(signed_in, lines[1].id, reason="bored").status_code == 404


def test_blocking_as_lost_is_immediate_audited_and_tells_the_other_number(signed_in, db_session, lines):
    main, second = lines
    response = block(signed_in, second.id)
    assert response.status_code == 303 and response.headers["Location"] == f"/numbers/{second.id}/"
    assert status_of(db_session, second.id) == "blocked_lost"
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "number_blocked_lost")).one()
    assert event.account_id == second.id
    [notice] = sms_to(db_session, MAIN)
    assert notice.purpose == "notice" and "+7 903 111-22-33" in notice.text and "lost" in notice.text
    assert sms_to(db_session, SECOND) == []  # not to the lost phone
    page = signed_in.get(response.headers["Location"])
    assert "Blocked: lost or stolen" in page.text and f'href="/numbers/{second.id}/unblock"' in page.text
    assert "block?reason" not in page.text


def test_a_voluntary_block(signed_in, db_session, lines):
    assert block(signed_in, lines[1].id, reason="voluntary").status_code == 303
    assert status_of(db_session, lines[1].id) == "blocked_by_owner"


def test_blocking_twice_changes_nothing_and_sends_one_sms(signed_in, db_session, lines):
    assert block(signed_in, lines[1].id).status_code == 303
    assert block(signed_in, lines[1].id).status_code == 303
    assert block(signed_in, lines[1].id, reason="voluntary").status_code == 303
    assert status_of(db_session, lines[1].id) == "blocked_lost"
    assert len(sms_to(db_session, MAIN)) == 1
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action.like("number_blocked%"))) == 1


def test_blocking_the_number_signed_in_with_keeps_the_login_usable(signed_in, db_session, lines, app):
    main, second = lines
    assert block(signed_in, main.id).status_code == 303
    assert status_of(db_session, main.id) == "blocked_lost"
    [notice] = sms_to(db_session, SECOND)
    assert "+7 916 123-45-67" in notice.text
    assert signed_in.get("/").status_code == 200
    fresh = app.test_client()
    assert fresh.post_form("/auth/login", {"phone": MAIN, "password": factories.PASSWORD}).status_code == 303
    assert unblock(fresh, main.id).status_code == 303
    assert status_of(db_session, main.id) == "active"


def test_a_suspended_number_has_no_owner_block_or_unblock(signed_in, db_session, lines):
    second = lines[1]
    second.status = "suspended"
    db_session.commit()
    page = signed_in.get(f"/numbers/{second.id}/")
    assert "Suspended for debt" in page.text and "Top up" in page.text and "block?reason" not in page.text
    assert block(signed_in, second.id).status_code == 422
    assert status_of(db_session, second.id) == "suspended"
    response = unblock(signed_in, second.id)
    assert response.status_code == 422 and "top up" in response.text.lower()
    assert status_of(db_session, second.id) == "suspended"


def test_unblocking_with_the_password(signed_in, db_session, lines):
    main, second = lines
    block(signed_in, second.id)
    page = signed_in.get(f"/numbers/{second.id}/unblock")
    assert page.status_code == 200 and 'name="password"' in page.text and 'name="confirm"' in page.text
    response = unblock(signed_in, second.id)
    assert response.status_code == 303
    assert status_of(db_session, second.id) == "active"
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "number_unblocked")).one()
    notices = sms_to(db_session, MAIN)
    assert len(notices) == 2 and "unblocked" in notices[-1].text
    assert unblock(signed_in, second.id).status_code == 303  # again: nothing changes
    assert len(sms_to(db_session, MAIN)) == 2


def test_a_wrong_password_is_refused_next_to_the_field_and_counted(signed_in, db_session, lines):
    block(signed_in, lines[1].id)
    response = unblock(signed_in, lines[1].id, password="not-my-password")
    assert response.status_code == 422
    assert 'id="password-error"' in response.text and "not your password" in response.text
    assert status_of(db_session, lines[1].id) == "blocked_lost"
    assert db_session.get(LoginThrottle, MAIN + "@127.0.0.0/24").failures == 1
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")).one()


def test_the_unblock_form_cannot_be_used_to_guess_the_password(signed_in, db_session, lines, app):
    block(signed_in, lines[1].id)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        unblock(signed_in, lines[1].id, password="guess")
    response = unblock(signed_in, lines[1].id)  # even the right one waits now
    assert response.status_code == 429 and "Too many failed attempts" in response.text
    assert status_of(db_session, lines[1].id) == "blocked_lost"
    fresh = app.test_client()  # and signing in is locked too: the same throttle
    assert fresh.post_form("/auth/login", {"phone": MAIN, "password": factories.PASSWORD}).status_code == 429


def test_the_confirmation_box_is_required(signed_in, db_session, lines):
    block(signed_in, lines[1].id)
    response = unblock(signed_in, lines[1].id, confirm=None)
    assert response.status_code == 422 and 'id="confirm-error"' in response.text
    assert status_of(db_session, lines[1].id) == "blocked_lost"
    assert db_session.get(LoginThrottle, MAIN + "@127.0.0.0/24") is None  # not a password failure


def test_posts_without_a_csrf_token_are_refused(signed_in, db_session, lines):
    assert signed_in.post(f"/numbers/{lines[1].id}/block", data={"reason": "lost"}).status_code == 400
    assert signed_in.post(f"/numbers/{lines[1].id}/unblock",
                          data={"password": factories.PASSWORD, "confirm": "y"}).status_code == 400
    assert status_of(db_session, lines[1].id) == "active"


def test_the_archive_shows_block_and_unblock(signed_in, lines):
    block(signed_in, lines[1].id)
    unblock(signed_in, lines[1].id)
    page = signed_in.get("/archive?kind=status")
    assert page.status_code == 200
    assert "Number blocked: lost or stolen" in page.text and "Number unblocked" in page.text


def test_the_unblock_page_of_an_active_number_says_so(signed_in, lines):
    page = signed_in.get(f"/numbers/{lines[1].id}/unblock")
    assert page.status_code == 200 and "is not blocked" in page.text and 'name="password"' not in page.text


def switch_commands(db_session, account_id):
    db_session.expire_all()
    return db_session.scalars(select(SwitchCommand).where(SwitchCommand.account_id == account_id)
                              .order_by(SwitchCommand.id)).all()


def test_a_block_and_an_unblock_go_to_the_switch_once_each_and_the_page_says_where_they_stand(
        signed_in, db_session, lines):
    second = lines[1]
    block(signed_in, second.id)
    block(signed_in, second.id)  # a double click: blocked already, nothing sent again
    assert [(c.operation, c.status) for c in switch_commands(db_session, second.id)] == [("line.block", "applied")]
    assert "In the network:" in signed_in.get(f"/numbers/{second.id}/").text
    unblock(signed_in, second.id)
    assert [c.operation for c in switch_commands(db_session, second.id)] == ["line.block", "line.unblock"]


@pytest.mark.parametrize("config_overrides", [{"PROVISIONING_FAIL_NUMBERS": [SECOND]}])
def test_a_block_the_switch_refused_is_shown_and_can_be_retried(signed_in, db_session, lines, app):
    second = lines[1]
    block(signed_in, second.id)
    [command] = switch_commands(db_session, second.id)
    assert command.status == "failed"
    assert status_of(db_session, second.id) == "blocked_lost"  # billing-wise it is blocked; the network is behind
    page = signed_in.get(f"/numbers/{second.id}/").text
    assert "failed, try again" in page and f'action="/settings/switch/{command.id}/retry"' in page
    app.config["PROVISIONING_FAIL_NUMBERS"] = []
    response = signed_in.post_form(f"/settings/switch/{command.id}/retry")
    assert response.status_code == 303 and response.headers["Location"] == f"/numbers/{second.id}/"
    assert switch_commands(db_session, second.id)[0].status == "applied"
