"""Staff see every command sent to the switch, filtered by state and number."""
import pytest

from portal.models import SwitchCommand
from tests import factories
from tests.web.admin.test_money_admin import staff_client


@pytest.fixture
def commands(db_session):
    one = factories.make_line(db_session, "+79161234567")
    two = factories.make_line(db_session, "+79031112233")
    db_session.add_all([
        SwitchCommand(account_id=one.id, msisdn="+79161234567", subject="forwarding:busy",
                      operation="forwarding.set", status="applied", attempts=1, reference="dev-cmd-1"),
        SwitchCommand(account_id=two.id, msisdn="+79031112233", subject="line", operation="line.block",
                      status="failed", attempts=1, error="the switch refused the command"),
    ])
    db_session.commit()


def test_the_log_lists_commands_with_their_answers(app, db_session, commands):
    page = staff_client(app, db_session, "support").get("/admin/provisioning")
    assert page.status_code == 200
    assert "forwarding.set" in page.text and "line.block" in page.text
    assert "the switch refused the command" in page.text and "dev-cmd-1" in page.text
    assert page.text.index("line.block") < page.text.index("forwarding.set")  # newest first


def test_the_log_filters_by_state_and_number(app, db_session, commands):
    staff = staff_client(app, db_session, "support")
    failed = staff.get("/admin/provisioning?status=failed").text
    assert "line.block" in failed and "forwarding.set" not in failed
    by_number = staff.get("/admin/provisioning?number=8+916+123-45-67").text
    assert "forwarding.set" in by_number and "line.block" not in by_number


def test_a_bad_filter_is_explained_not_a_500(app, db_session, commands):
    response = staff_client(app, db_session, "support").get("/admin/provisioning?number=" + "x" * 10_000)
    assert response.status_code == 422 and 'class="error"' in response.text


def test_customers_and_strangers_do_not_see_it(client, login_as):
    assert client.get("/admin/provisioning").status_code in (302, 303)
    login_as("+79161234567")
    assert client.get("/admin/provisioning").status_code in (302, 303, 403)
