"""The tariff switch of a home contract: home tariffs only, the connection type, next-period switches."""
from datetime import date, timedelta

from sqlalchemy import select

from portal.models import Account, AuditEvent, LedgerEntry, ScheduledTariffChange
from tests.helpers import key_of
from tests.web.account import test_home_pause as shared

# The home contract, its login and the tariffs on offer: the same fixtures as the pause page's tests.
home, signed_in, offers = shared.home, shared.signed_in, shared.offers
count, make_home = shared.count, shared.make_home


def test_the_catalog_shows_home_tariffs_only_with_speed_and_connection(signed_in, offers):
    page = signed_in.get("/tariffs/").text
    assert "Fibre 1000" in page and "DSL 30" in page and "Smart" not in page
    assert "up to 1000 Mbit/s" in page and "GPON / FTTB" in page and "from the next billing period" in page
    assert signed_in.get(f"/tariffs/{offers['mobile'].id}").status_code == 404


def test_a_tariff_the_line_cannot_carry_shows_the_reason(signed_in, db_session, home, offers):
    page = signed_in.get(f"/tariffs/{offers['dsl'].id}").text
    assert "DSL 30 works only over ADSL; the line at your address is GPON." in page
    response = signed_in.post_form(f"/tariffs/{offers['dsl'].id}", {"idempotency_key": "k" * 24})
    assert response.status_code == 422
    assert db_session.get(Account, home.id).tariff_id == home.tariff_id


def test_a_next_period_switch_is_scheduled_shown_and_cancelled(signed_in, db_session, home, offers):
    page = signed_in.get(f"/tariffs/{offers['later'].id}").text
    assert "first day of your next billing period" in page and "1,200.00" in page and "50.00" in page
    response = signed_in.post_form(f"/tariffs/{offers['later'].id}", {"idempotency_key": key_of(page)})
    assert response.status_code == 303
    change = db_session.scalars(select(ScheduledTariffChange)).one()
    assert change.status == "scheduled" and change.effective_on > date.today() - timedelta(days=1)
    db_session.expire_all()
    assert db_session.get(Account, home.id).tariff_id != offers["later"].id
    assert count(db_session, LedgerEntry, LedgerEntry.kind == "tariff_fee") == 0
    dashboard = signed_in.get("/").text
    assert "Your tariff changes to Fibre 1000 on" in dashboard
    assert signed_in.post(f"/tariffs/scheduled/{change.id}/cancel").status_code == 400  # no CSRF token
    assert signed_in.post_form(f"/tariffs/scheduled/{change.id}/cancel").status_code == 303
    db_session.expire_all()
    assert db_session.get(ScheduledTariffChange, change.id).status == "cancelled"
    assert "Scheduled tariff change cancelled" in signed_in.get("/archive").text


def test_another_contracts_scheduled_change_is_not_found(signed_in, db_session, home, offers):
    other = make_home(db_session, "HC-999999", tariff=home.tariff)
    theirs = ScheduledTariffChange(account_id=other.id, tariff_id=offers["later"].id, effective_on=date(2030, 1, 1))
    db_session.add(theirs)
    db_session.commit()
    assert signed_in.post_form(f"/tariffs/scheduled/{theirs.id}/cancel").status_code == 404
    assert db_session.get(ScheduledTariffChange, theirs.id).status == "scheduled"
    assert count(db_session, AuditEvent, AuditEvent.action == "tariff_change_cancelled") == 0


def test_a_paused_contract_cannot_switch(signed_in, db_session, home, offers):
    home.status = "blocked_by_owner"
    db_session.commit()
    page = signed_in.get(f"/tariffs/{offers['later'].id}").text
    assert "The contract is paused: resume it first" in page
