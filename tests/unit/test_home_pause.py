"""Home contracts: the holiday pause, the tariff change that waits for the next period, and the billing run."""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.domain import home_pause, ledger, tariffs
from portal.domain.audit import Actor
from portal.domain.billing import run_billing
from portal.domain.errors import NotFound
from portal.domain.home import home_overview
from portal.models import Account, AuditEvent, HomeContract, HomePause, LedgerEntry, ScheduledTariffChange, UsageRecord
from tests import factories

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 9, 0)
ACTOR = Actor(login_id=None, ip="127.0.0.1")


def make_contract(session, *, tariff=None, billing_day=10, connection_type="gpon", balance=100000, status="active"):
    customer = factories.make_customer(session)
    tariff = tariff or factories.make_tariff(session, kind="home", monthly_fee=90000, pause_monthly_fee=9900,
                                             unlimited_data=True, minutes=0, sms=0, data_mb=0)
    account = Account(customer=customer, kind="home", region=customer.region, tariff=tariff, balance=balance,
                      status=status)
    session.add_all([account, HomeContract(account=account, contract_no=f"HC-{customer.id:06d}", address="Moscow",
                                           connection_type=connection_type, billing_day=billing_day)])
    session.flush()
    session.add(LedgerEntry(account_id=account.id, amount=balance, kind="adjustment"))
    session.commit()
    return account


def count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def fees(session, account_id):
    return list(session.scalars(select(LedgerEntry.amount).where(LedgerEntry.account_id == account_id,
                                                                 LedgerEntry.amount < 0).order_by(LedgerEntry.id)))


def pause(session, account, *, start_on=TODAY, days=14, key="k" * 20, today=TODAY):
    return home_pause.request_pause(session, account_id=account.id, start_on=start_on, days=days,
                                    idempotency_key=key, actor=ACTOR, today=today, now=NOW)


# ---- bounds ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("offset", "days", "field"), [
    (0, 7, None), (0, 90, None), (30, 14, None), (0, 6, "days"), (0, 91, "days"), (0, None, "days"),
    (-1, 14, "start_on"), (31, 14, "start_on"),
])
def test_a_pause_lasts_7_to_90_days_from_today_or_up_to_30_days_ahead(offset, days, field):
    start = TODAY + timedelta(days=offset)
    if field is None:
        assert home_pause.check_dates(start, days, today=TODAY) == (start, start + timedelta(days=days))
    else:
        with pytest.raises(home_pause.PauseRefused) as err:
            home_pause.check_dates(start, days, today=TODAY)
        assert err.value.field == field


# ---- pausing and resuming ----------------------------------------------------------------------------------------

def test_a_pause_from_today_blocks_the_contract_once_per_submission(db_session):
    account = make_contract(db_session)
    first = pause(db_session, account)
    assert pause(db_session, account) is None  # the same key again: nothing more
    db_session.expire_all()
    assert db_session.get(Account, account.id).status == "blocked_by_owner"
    assert (first.status, first.last_day, first.days, first.monthly_fee) == ("active", date(2026, 12, 3), 14, 9900)
    assert count(db_session, HomePause) == 1
    assert count(db_session, AuditEvent, AuditEvent.action == "home_paused") == 1


@pytest.mark.parametrize(("status", "tariff_fee", "message"), [
    ("suspended", 9900, "suspended for debt"), ("active", None, "cannot be paused"),
])
def test_a_suspended_contract_or_a_tariff_without_pause_is_refused(db_session, status, tariff_fee, message):
    tariff = factories.make_tariff(db_session, kind="home", pause_monthly_fee=tariff_fee)
    account = make_contract(db_session, tariff=tariff, status=status)
    with pytest.raises(home_pause.PauseRefused, match=message):
        pause(db_session, account)
    assert count(db_session, HomePause) == 0


def test_a_second_pause_is_refused_while_one_is_open(db_session):
    account = make_contract(db_session)
    pause(db_session, account, start_on=TODAY + timedelta(days=5))
    with pytest.raises(home_pause.PauseRefused, match="already has a pause"):
        pause(db_session, account, key="x" * 20)


def test_resuming_early_unblocks_and_cancelling_a_future_pause_keeps_the_contract_active(db_session):
    account = make_contract(db_session)
    running = pause(db_session, account)
    assert home_pause.end_pause(db_session, account_id=account.id, pause_id=running.id, actor=ACTOR, today=TODAY)
    assert not home_pause.end_pause(db_session, account_id=account.id, pause_id=running.id, actor=ACTOR,
                                    today=TODAY)
    db_session.expire_all()
    assert db_session.get(Account, account.id).status == "active"
    assert db_session.get(HomePause, running.id).status == "ended"
    later = pause(db_session, account, start_on=TODAY + timedelta(days=3), key="y" * 20)
    assert later.status == "scheduled" and db_session.get(Account, account.id).status == "active"
    home_pause.end_pause(db_session, account_id=account.id, pause_id=later.id, actor=ACTOR, today=TODAY)
    assert db_session.get(HomePause, later.id).status == "cancelled"
    assert count(db_session, AuditEvent, AuditEvent.action == "home_pause_cancelled") == 1


def test_a_pause_of_another_contract_is_not_found(db_session):
    mine, other = make_contract(db_session), make_contract(db_session)
    theirs = pause(db_session, other)
    with pytest.raises(NotFound):
        home_pause.end_pause(db_session, account_id=mine.id, pause_id=theirs.id, actor=ACTOR, today=TODAY)
    assert db_session.get(HomePause, theirs.id).status == "active"


# ---- the billing run with a pause -------------------------------------------------------------------------------

def test_the_billing_run_starts_a_scheduled_pause_and_ends_it_on_its_day(db_session):
    account = make_contract(db_session, billing_day=1)
    scheduled = pause(db_session, account, start_on=date(2026, 11, 25), days=10)  # 25.11 - 4.12, back on 5.12
    for day in (date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 25)):
        run_billing(db_session, day=day, now=NOW)
    db_session.expire_all()
    assert db_session.get(Account, account.id).status == "blocked_by_owner"
    assert db_session.get(HomePause, scheduled.id).status == "active"
    for day in (date(2026, 12, 4), date(2026, 12, 5), date(2026, 12, 5)):
        run_billing(db_session, day=day, now=NOW)
    db_session.expire_all()
    assert db_session.get(Account, account.id).status == "active"
    assert db_session.get(HomePause, scheduled.id).status == "ended"
    actions = db_session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("home_%"))).all()
    assert sorted(actions) == ["home_pause_scheduled", "home_paused", "home_resumed"]


def test_a_period_starting_inside_the_pause_pays_the_reduced_fee_once_and_no_service_fees(db_session):
    account = make_contract(db_session, billing_day=1)
    factories.make_subscription(db_session, account, factories.make_service(db_session, kind="tv", monthly_fee=29900))
    pause(db_session, account, days=30)  # 20.11 - 19.12
    db_session.commit()
    first = run_billing(db_session, day=date(2026, 12, 1), now=NOW)
    again = run_billing(db_session, day=date(2026, 12, 1), now=NOW)
    assert (first.charges, first.charged, first.paused) == (1, 9900, 1) and again.charges == 0
    assert fees(db_session, account.id) == [-9900]
    run_billing(db_session, day=date(2027, 1, 1), now=NOW)  # resumed on 20.12: full fees again
    assert fees(db_session, account.id) == [-9900, -90000, -29900]
    assert ledger.verify(db_session) == []


# ---- tariff changes of a home contract ---------------------------------------------------------------------------

@pytest.fixture
def catalog(db_session):
    return dict(
        fibre=factories.make_tariff(db_session, kind="home", name="Fibre 500", connection_types="gpon,fttb",
                                    change_effective="next_period", switch_fee=5000, monthly_fee=75000),
        adsl=factories.make_tariff(db_session, kind="home", name="DSL 30", connection_types="adsl"),
        now=factories.make_tariff(db_session, kind="home", name="Fibre 100", connection_types="gpon",
                                  monthly_fee=50000),
    )


def change(db_session, account, tariff, key="c" * 20):
    return tariffs.change_tariff(db_session, account_id=account.id, tariff_id=tariff.id, idempotency_key=key,
                                 actor=ACTOR, now=NOW, today=TODAY)


def test_the_connection_type_must_carry_the_tariff(db_session, catalog):
    account = make_contract(db_session, connection_type="gpon")
    quote = tariffs.quote_switch(db_session, account, catalog["adsl"], now=NOW, today=TODAY)
    assert quote.refusal == "DSL 30 works only over ADSL; the line at your address is GPON."
    with pytest.raises(tariffs.TariffRefused):
        change(db_session, account, catalog["adsl"])
    assert tariffs.quote_switch(db_session, account, catalog["fibre"], now=NOW, today=TODAY).refusal is None


@pytest.mark.parametrize(("status", "message"), [("suspended", "suspended for debt"), ("blocked_by_owner", "paused")])
def test_a_suspended_or_paused_contract_cannot_change_tariff(db_session, catalog, status, message):
    account = make_contract(db_session, status=status)
    assert message in tariffs.quote_switch(db_session, account, catalog["now"], now=NOW, today=TODAY).refusal


def test_a_now_tariff_switches_at_once(db_session, catalog):
    account = make_contract(db_session)
    assert tariffs.quote_switch(db_session, account, catalog["now"], now=NOW, today=TODAY).scheduled is False
    assert change(db_session, account, catalog["now"]) is None
    assert db_session.get(Account, account.id).tariff_id == catalog["now"].id


def test_a_next_period_tariff_is_scheduled_applied_once_by_the_billing_run_and_charged_then(db_session, catalog):
    account = make_contract(db_session, billing_day=10)
    old_tariff = account.tariff_id
    quote = tariffs.quote_switch(db_session, account, catalog["fibre"], now=NOW, today=TODAY)
    assert quote.effective_on == date(2026, 12, 10) and quote.fee == 5000
    scheduled = change(db_session, account, catalog["fibre"])
    assert change(db_session, account, catalog["fibre"]) is None  # the same key: nothing more
    assert scheduled.effective_on == date(2026, 12, 10) and count(db_session, ScheduledTariffChange) == 1
    assert db_session.get(Account, account.id).tariff_id == old_tariff and fees(db_session, account.id) == []
    refusal = tariffs.quote_switch(db_session, account, catalog["now"], now=NOW, today=TODAY).refusal
    assert "already scheduled for December 10, 2026" in refusal
    assert home_overview(db_session, account, today=TODAY, now=NOW).scheduled_change.id == scheduled.id

    run_billing(db_session, day=date(2026, 12, 9), now=NOW)
    assert db_session.get(Account, account.id).tariff_id == old_tariff
    for _ in range(2):
        report = run_billing(db_session, day=date(2026, 12, 10), now=NOW)
    db_session.expire_all()
    assert report.tariff_changes == 0
    assert db_session.get(Account, account.id).tariff_id == catalog["fibre"].id
    assert db_session.get(ScheduledTariffChange, scheduled.id).status == "applied"
    assert fees(db_session, account.id) == [-5000, -75000]  # the switching fee, then the new tariff's month
    assert count(db_session, AuditEvent, AuditEvent.action == "tariff_changed") == 1


def test_a_scheduled_change_can_be_cancelled_once_and_only_by_its_account(db_session, catalog):
    account, other = make_contract(db_session), make_contract(db_session)
    scheduled = change(db_session, account, catalog["fibre"])
    with pytest.raises(NotFound):
        tariffs.cancel_scheduled_change(db_session, account_id=other.id, change_id=scheduled.id, actor=ACTOR)
    assert tariffs.cancel_scheduled_change(db_session, account_id=account.id, change_id=scheduled.id, actor=ACTOR)
    assert not tariffs.cancel_scheduled_change(db_session, account_id=account.id, change_id=scheduled.id,
                                               actor=ACTOR)
    run_billing(db_session, day=date(2026, 12, 10), now=NOW)
    db_session.expire_all()
    assert db_session.get(Account, account.id).tariff_id != catalog["fibre"].id


# ---- traffic: the period boundary is the billing day -------------------------------------------------------------

def test_traffic_starts_again_from_zero_on_the_billing_day(db_session):
    account = make_contract(db_session, billing_day=15)
    for started, mb in ((datetime(2026, 12, 14, 23, 59), 700), (datetime(2026, 12, 15, 0, 0), 300)):
        db_session.add(UsageRecord(account_id=account.id, kind="data", started_at=started, quantity=mb * 1024))
    db_session.commit()
    before = home_overview(db_session, account, today=date(2026, 12, 14), now=datetime(2026, 12, 14, 23, 59))
    after = home_overview(db_session, account, today=date(2026, 12, 15), now=datetime(2026, 12, 15, 12))
    assert (before.period_start, before.used_mb) == (date(2026, 11, 15), 700)
    assert (after.period_start, after.used_mb) == (date(2026, 12, 15), 300)
    # The billing run starts the same period on the same day: it charges on the 15th, not the 14th.
    assert run_billing(db_session, day=date(2026, 12, 14), now=NOW).charges == 0
    assert run_billing(db_session, day=date(2026, 12, 15), now=NOW).charges == 1


# ---- the demo ---------------------------------------------------------------------------------------------------

def test_the_demo_contract_can_be_paused_and_sees_why_a_tariff_does_not_fit(db_session):
    from portal.domain.demo import HOME_CONTRACT_NO, seed_demo
    from portal.models import Tariff

    seed_demo(db_session)
    account = db_session.scalar(select(Account).join(HomeContract).where(HomeContract.contract_no == HOME_CONTRACT_NO))
    offer = home_pause.pause_offer(db_session, account)
    assert offer.refusal is None and offer.monthly_fee == 24900
    by_code = {t.code: t for t in db_session.scalars(select(Tariff).where(Tariff.kind == "home"))}
    assert "works only over FTTB / DOCSIS" in tariffs.quote_switch(db_session, account, by_code["home-100"],
                                                                  now=NOW, today=TODAY).refusal
    assert tariffs.quote_switch(db_session, account, by_code["home-500"], now=NOW, today=TODAY).scheduled
    # A database seeded before these rules existed gets them once.
    for tariff in by_code.values():
        tariff.connection_types, tariff.pause_monthly_fee = "", None
    db_session.commit()
    assert "home tariff rules 3" in seed_demo(db_session)
    assert "nothing added" in seed_demo(db_session)


def test_a_pause_lifted_by_staff_ends_at_the_next_run_and_the_owner_resumes_only_from_the_pause(db_session):
    from portal.domain.blocking import unblock_refusal

    account = make_contract(db_session, billing_day=1)
    running = pause(db_session, account, days=30)
    assert "resumed from its home page" in unblock_refusal(db_session.get(Account, account.id))
    account.status = "active"  # what staff_unblock does
    db_session.commit()
    run_billing(db_session, day=TODAY + timedelta(days=1), now=NOW)
    db_session.expire_all()
    assert db_session.get(HomePause, running.id).status == "ended"
    assert db_session.get(Account, account.id).status == "active"


def test_a_scheduled_pause_of_a_contract_suspended_meanwhile_is_cancelled_not_started(db_session):
    account = make_contract(db_session, billing_day=1)
    scheduled = pause(db_session, account, start_on=TODAY + timedelta(days=2))
    account.status = "suspended"
    db_session.commit()
    run_billing(db_session, day=TODAY + timedelta(days=2), now=NOW)
    db_session.expire_all()
    assert db_session.get(HomePause, scheduled.id).status == "cancelled"
    assert db_session.get(Account, account.id).status == "suspended"
