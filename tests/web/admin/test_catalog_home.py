"""The admin tariff form's home fields: speed, connection types, when a switch takes effect, the pause fee."""
import pytest
from sqlalchemy import select

from portal.models import Tariff
from tests import factories
from tests.web.admin.test_admin import staff_sign_in
from tests.web.admin.test_catalog import ADMIN, error_of, tariff_form


@pytest.fixture
def admin(client, db_session):
    factories.make_staff(db_session, email=ADMIN, role="admin")
    assert staff_sign_in(client, email=ADMIN).status_code == 303
    return client


def home_form(**changes):
    return tariff_form(**{"code": "fibre-1000", "name": "Fibre 1000", "kind": "home", "minutes": "0", "sms": "0",
                          "data_mb": "0", "unlimited_data": "y", "speed_mbps": "1000",
                          "connection_types": ["gpon", "fttb"], "change_effective": "next_period",
                          "pause_monthly_fee": "99", **changes})


def test_a_home_tariff_keeps_its_speed_connections_rule_and_pause_fee(admin, db_session):
    assert admin.post_form("/admin/catalog/tariffs/new", home_form()).status_code == 303
    tariff = db_session.scalars(select(Tariff)).one()
    assert (tariff.speed_mbps, tariff.connection_types, tariff.change_effective, tariff.pause_monthly_fee) == (
        1000, "fttb,gpon", "next_period", 9900)
    page = admin.get(f"/admin/catalog/tariffs/{tariff.id}").text
    assert 'value="1000"' in page and 'value="99.00"' in page
    assert 'checked id="connection_types-1" name="connection_types" type="checkbox" value="gpon"' in page
    assert '<option selected value="next_period">' in page


def test_empty_home_fields_mean_no_speed_any_connection_and_no_pause(admin, db_session):
    form = home_form(speed_mbps="", pause_monthly_fee="", change_effective="now")
    del form["connection_types"]
    assert admin.post_form("/admin/catalog/tariffs/new", form).status_code == 303
    tariff = db_session.scalars(select(Tariff)).one()
    assert (tariff.speed_mbps, tariff.connection_types, tariff.change_effective, tariff.pause_monthly_fee) == (
        None, "", "now", None)
    assert tariff.carries("adsl")


@pytest.mark.parametrize(("field", "value"), [
    ("connection_types", ["gpon", "fiber"]), ("change_effective", "tomorrow"), ("speed_mbps", "0"),
    ("speed_mbps", "fast"), ("pause_monthly_fee", "-5"),
])
def test_bad_home_values_are_refused_next_to_the_field(admin, db_session, field, value):
    response = admin.post_form("/admin/catalog/tariffs/new", home_form(**{field: value}))
    assert response.status_code == 422 and error_of(response.text, field)
    assert db_session.scalars(select(Tariff)).first() is None
