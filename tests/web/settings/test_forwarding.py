"""The call-forwarding page: four conditions, each saved alone, checked, sent to the switch."""
import re

import pytest
from sqlalchemy import func, select

from portal.models import ForwardingRule, LoginAccount, SwitchCommand
from tests import factories

PHONE = "+79161234567"
FRIEND = "+79031112233"


@pytest.fixture
def signed_in(client, login_as):
    login_as(PHONE)
    return client


def key_of(page: str, condition: str) -> str:
    return re.search(rf'name="{condition}-idempotency_key" type="hidden" value="([^"]+)"', page).group(1)


def save(client, condition="busy", **values):
    page = client.get("/settings/forwarding").text
    key = key_of(page, condition)
    data = {f"{condition}-{name}": value for name, value in values.items()}
    return client.post_form(f"/settings/forwarding/{condition}", {f"{condition}-idempotency_key": key, **data})


def count(db_session, model):
    return db_session.scalar(select(func.count()).select_from(model))


def test_the_page_shows_the_four_conditions(signed_in):
    page = signed_in.get("/settings/forwarding")
    assert page.status_code == 200
    for condition in ("always", "busy", "no_answer", "unreachable"):
        assert f'action="/settings/forwarding/{condition}"' in page.text
    assert 'name="no_answer-seconds"' in page.text and 'name="busy-seconds"' not in page.text


def test_a_condition_is_saved_applied_and_shown(signed_in, db_session):
    response = save(signed_in, "no_answer", enabled="y", target="8 (903) 111-22-33", seconds="15")
    assert response.status_code == 303 and response.headers["Location"] == "/settings/forwarding"
    rule = db_session.scalar(select(ForwardingRule))
    assert (rule.condition, rule.target, rule.enabled, rule.seconds) == ("no_answer", FRIEND, True, 15)
    page = signed_in.get("/settings/forwarding").text
    section = page[page.index('id="fwd-no_answer"'):page.index('id="fwd-unreachable"')]
    assert "+7 903 111-22-33" in section and "applied" in section
    assert signed_in.get("/archive").text.count("Call forwarding changed") == 1


def test_a_double_submission_sends_one_command(signed_in, db_session):
    page = signed_in.get("/settings/forwarding").text
    key = key_of(page, "busy")
    data = {"busy-idempotency_key": key, "busy-enabled": "y", "busy-target": FRIEND}
    assert signed_in.post_form("/settings/forwarding/busy", data).status_code == 303
    assert signed_in.post_form("/settings/forwarding/busy", data).status_code == 303
    assert count(db_session, SwitchCommand) == 1


def test_always_on_says_the_others_do_not_work(signed_in, db_session):
    save(signed_in, "busy", enabled="y", target=FRIEND)
    save(signed_in, "always", enabled="y", target=FRIEND)
    page = signed_in.get("/settings/forwarding").text
    assert 'id="always-note"' in page and "Not working while" in page


@pytest.mark.parametrize(("condition", "values", "message"), [
    ("busy", dict(enabled="y", target=PHONE), "the number itself"),
    ("busy", dict(enabled="y", target="+44 20 7946 0000"), "only to numbers in this country"),
    ("busy", dict(enabled="y", target="12345"), "does not"),
    ("busy", dict(enabled="y", target="9" * 10_000), ""),
    ("busy", dict(enabled="y"), "Enter the number"),
    ("no_answer", dict(enabled="y", target=FRIEND, seconds="45"), "5 to 30"),
    ("no_answer", dict(enabled="y", target=FRIEND, seconds="x" * 10_000), ""),
])
def test_bad_input_is_refused_next_to_the_field_and_nothing_changes(signed_in, db_session, condition, values,
                                                                     message):
    response = save(signed_in, condition, **values)
    assert response.status_code == 422 and 'class="error"' in response.text and message in response.text
    assert count(db_session, ForwardingRule) == count(db_session, SwitchCommand) == 0


def test_htmx_gets_the_condition_back_with_the_error(signed_in, db_session):
    page = signed_in.get("/settings/forwarding").text
    key = key_of(page, "busy")
    response = signed_in.post_form("/settings/forwarding/busy", {"busy-idempotency_key": key, "busy-enabled": "y",
                                                                 "busy-target": PHONE}, headers={"HX-Request": "true"})
    assert response.status_code == 422 and response.text.lstrip().startswith('<section class="card switch-setting"')


def test_a_loop_with_another_line_of_the_login_is_refused(signed_in, db_session):
    login = factories.ensure_login(db_session, PHONE)
    child = factories.make_line(db_session, "+79161234568", customer=login.primary_account.customer)
    db_session.add_all([LoginAccount(login_id=login.id, account_id=child.id),
                        ForwardingRule(account_id=child.id, condition="busy", target=PHONE, enabled=True)])
    db_session.commit()
    response = save(signed_in, "unreachable", enabled="y", target="+79161234568")
    assert response.status_code == 422 and "loop" in response.text


@pytest.mark.parametrize("config_overrides", [{"PROVISIONING_FAIL_NUMBERS": [PHONE]}])
def test_a_refused_change_says_failed_and_is_retried_from_the_page(signed_in, db_session, app):
    save(signed_in, "busy", enabled="y", target=FRIEND)
    command = db_session.scalar(select(SwitchCommand))
    page = signed_in.get("/settings/forwarding").text
    assert "failed, try again" in page and f"/settings/switch/{command.id}/retry" in page
    app.config["PROVISIONING_FAIL_NUMBERS"] = []
    response = signed_in.post_form(f"/settings/switch/{command.id}/retry")
    assert response.status_code == 303 and response.headers["Location"] == "/settings/forwarding"
    db_session.expire_all()
    assert db_session.get(SwitchCommand, command.id).status == "applied"
    assert "failed, try again" not in signed_in.get("/settings/forwarding").text


def test_another_logins_command_is_404(signed_in, db_session):
    stranger = factories.make_line(db_session, "+79265554433")
    command = SwitchCommand(account_id=stranger.id, msisdn="+79265554433", subject="forwarding:busy",
                            operation="forwarding.set", status="failed")
    db_session.add(command)
    db_session.commit()
    assert signed_in.post_form(f"/settings/switch/{command.id}/retry").status_code == 404
    assert signed_in.post_form("/settings/switch/999999/retry").status_code == 404
    db_session.expire_all()
    assert db_session.get(SwitchCommand, command.id).status == "failed"


def test_an_unknown_condition_is_404_and_posts_need_the_csrf_token(signed_in, db_session):
    assert signed_in.post_form("/settings/forwarding/sometimes", {}).status_code == 404
    assert signed_in.post("/settings/forwarding/busy", data={"busy-enabled": "y", "busy-target": FRIEND}
                          ).status_code == 400
    assert signed_in.post("/settings/switch/1/retry").status_code == 400
    assert count(db_session, ForwardingRule) == 0


def test_a_home_contract_in_focus_has_no_forwarding(signed_in, db_session):
    login = factories.ensure_login(db_session, PHONE)
    home = factories.make_home_contract(db_session, customer=login.primary_account.customer)
    db_session.add(LoginAccount(login_id=login.id, account_id=home.id))
    db_session.commit()
    assert signed_in.post_form("/numbers/focus", {"account": str(home.id)}).status_code == 303
    assert signed_in.get("/settings/forwarding").status_code == 404
    assert signed_in.post_form("/settings/forwarding/busy", {"busy-enabled": "y"}).status_code == 404
    assert count(db_session, ForwardingRule) == 0


def test_the_settings_menu_offers_a_numbers_settings_only_for_a_mobile_number(signed_in, db_session):
    page = signed_in.get("/settings/").text
    assert 'href="/settings/forwarding"' in page and "+7 916 123-45-67" in page
    login = factories.ensure_login(db_session, PHONE)
    home = factories.make_home_contract(db_session, customer=login.primary_account.customer)
    db_session.add(LoginAccount(login_id=login.id, account_id=home.id))
    db_session.commit()
    signed_in.post_form("/numbers/focus", {"account": str(home.id)})
    page = signed_in.get("/settings/").text
    assert 'href="/settings/forwarding"' not in page and "HC-100200" in page and 'href="/settings/password"' in page
