from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from portal.domain import ledger, promised
from portal.domain.billing import run_billing
from portal.models import Account, Allowance, AuditEvent, HomeContract, LedgerEntry, PromisedPayment, SmsMessage
from tests import factories

FIRST = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 0, 5)


def count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_period_start_charges_fees_and_renews_the_package(db_session):
    tariff = factories.make_tariff(db_session, monthly_fee=55000, minutes=600)
    account = factories.make_line(db_session, tariff=tariff, balance=100000)
    factories.make_subscription(db_session, account, factories.make_service(db_session, monthly_fee=3000))
    factories.make_subscription(db_session, account, factories.make_service(db_session, monthly_fee=9000),
                                status="ended")
    db_session.commit()
    report = run_billing(db_session, day=FIRST, now=NOW)
    assert (report.charges, report.charged, report.allowances) == (2, 58000, 1)
    db_session.expire_all()
    assert db_session.get(Account, account.id).balance == 42000 and ledger.verify(db_session) == []
    allowance = db_session.scalars(select(Allowance)).one()
    assert allowance.minutes_left == 600 and allowance.period_end == datetime(2027, 1, 1)


def test_running_twice_for_a_day_changes_nothing_the_second_time(db_session):
    factories.make_line(db_session, balance=100000)
    db_session.commit()
    run_billing(db_session, day=FIRST, now=NOW)
    entries, allowances = count(db_session, LedgerEntry), count(db_session, Allowance)
    second = run_billing(db_session, day=FIRST, now=NOW)
    assert second.charges == 0 and second.allowances == 0
    assert (count(db_session, LedgerEntry), count(db_session, Allowance)) == (entries, allowances)


def test_other_days_charge_nothing(db_session):
    factories.make_line(db_session, balance=100000)
    db_session.commit()
    assert run_billing(db_session, day=date(2026, 12, 2), now=NOW).charges == 0


def test_a_home_contract_is_billed_on_its_own_day(db_session):
    account = factories.make_line(db_session, "+79161234567", balance=100000)
    account.kind = "home"
    db_session.add(HomeContract(account_id=account.id, contract_no="HC-1", address="x", connection_type="gpon",
                                billing_day=15))
    db_session.commit()
    assert run_billing(db_session, day=FIRST, now=NOW).charges == 0
    assert run_billing(db_session, day=date(2026, 12, 15), now=NOW).charges == 1


def test_an_unpaid_promise_suspends_and_repaying_it_restores(db_session):
    account = factories.make_line(db_session, balance=0)
    db_session.add(PromisedPayment(account_id=account.id, amount=10000, status="open", idempotency_key="k" * 20,
                                   due_at=datetime(2026, 12, 1, 12)))
    db_session.commit()
    report = run_billing(db_session, day=date(2026, 11, 30), now=NOW)
    assert report.suspended == []
    report = run_billing(db_session, day=FIRST, now=NOW)
    assert report.suspended == [account.id]
    db_session.expire_all()
    assert db_session.get(Account, account.id).status == "suspended"
    assert db_session.scalars(select(PromisedPayment)).one().status == "overdue"
    [told] = db_session.scalars(select(SmsMessage.text).where(SmsMessage.purpose == "alert")).all()
    assert "the number is suspended: a promised payment was not paid" in told  # PUBLIC_URL unset: no link
    # The debt covered by a top-up: the line comes back at once.
    account = db_session.get(Account, account.id, with_for_update=True)
    ledger.post(db_session, account, amount=20000, kind="card_topup", key="t", description="", now=NOW)
    promised.repay_from_credit(db_session, account, credited=20000, key="t", now=NOW)
    db_session.commit()
    assert db_session.get(Account, account.id).status == "active"
    assert count(db_session, AuditEvent, AuditEvent.action == "account_restored") == 1


def test_the_cli(app, db_session):
    factories.make_line(db_session, balance=100000)
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["billing", "run", "--date", "2026-12-01"])
    assert result.exit_code == 0 and "Billing run for 2026-12-01: 1 accounts, 1 charges" in result.output
    again = app.test_cli_runner().invoke(args=["billing", "run", "--date", "2026-12-01"])
    assert "0 charges" in again.output


def test_the_beat_schedule_runs_billing_nightly(app):
    from portal.extensions import celery

    assert celery.conf.beat_schedule["billing-run"]["task"] == "portal.billing_run"


def test_the_task_runs_the_billing_for_today(app, db_session):
    from portal.jobs import billing_run

    assert billing_run.apply().get().startswith("Billing run for ")


def test_every_day_of_a_year_bills_each_account_twelve_times(db_session):
    account = factories.make_line(db_session, balance=10**7)
    db_session.commit()
    day = date(2026, 1, 1)
    while day.year == 2026:
        run_billing(db_session, day=day, now=datetime.combine(day, datetime.min.time()) + timedelta(minutes=5))
        day += timedelta(days=1)
    assert count(db_session, LedgerEntry, LedgerEntry.kind == "tariff_fee", LedgerEntry.account_id == account.id) == 12


def test_daily_fees_are_charged_each_day_the_line_is_active_once(db_session):
    service = factories.make_service(db_session, monthly_fee=0, daily_fee=150)
    free = factories.make_tariff(db_session, monthly_fee=0)
    account = factories.make_line(db_session, tariff=free, balance=10000)
    blocked = factories.make_line(db_session, "+79031112233", tariff=free, balance=10000, status="blocked_by_owner")
    for line in (account, blocked):
        factories.make_subscription(db_session, line, service, since=datetime(2026, 12, 1, 10, 0))
    db_session.commit()
    day = date(2026, 12, 2)
    assert run_billing(db_session, day=date(2026, 12, 1), now=NOW).charged == 0  # the connection day: paid then
    assert run_billing(db_session, day=day, now=NOW + timedelta(days=1)).charged == 150
    assert run_billing(db_session, day=day, now=NOW + timedelta(days=1)).charged == 0  # the same day again
    db_session.expire_all()
    assert db_session.get(Account, account.id).balance == 9850
    assert db_session.get(Account, blocked.id).balance == 10000  # no daily fee while blocked


def test_a_catch_up_run_after_midnight_stamps_fees_and_points_with_the_billed_day(db_session):
    from portal.models import BonusEntry

    service = factories.make_service(db_session, monthly_fee=0, daily_fee=10000)
    tariff = factories.make_tariff(db_session, monthly_fee=50000)
    account = factories.make_line(db_session, tariff=tariff, balance=10**6)
    daily = factories.make_subscription(db_session, account, service, since=datetime(2026, 11, 1, 10, 0)).id
    db_session.commit()
    # The run for 30 November only gets to run at 00:30 on 1 December, the one for 1 December the next night.
    run_billing(db_session, day=date(2026, 11, 30), now=datetime(2026, 12, 1, 0, 30))
    run_billing(db_session, day=FIRST, now=datetime(2026, 12, 2, 1, 0), kopecks_per_point=1000)
    stamps = dict(db_session.execute(select(LedgerEntry.idempotency_key, LedgerEntry.created_at)
                                     .where(LedgerEntry.idempotency_key.like("bill:%"))).all())
    assert {key: stamp.date() for key, stamp in stamps.items()} == {
        f"bill:2026-11-30:day:{daily}": date(2026, 11, 30), f"bill:2026-12-01:day:{daily}": FIRST,
        f"bill:2026-12-01:{account.id}:tariff": FIRST}
    # November's points count November's last daily fee (10 000 kopecks: 10 points), and carry 1 December.
    points = db_session.scalars(select(BonusEntry)).one()
    assert (points.points, points.created_at.date()) == (10, FIRST)


def test_a_run_raises_one_low_balance_alert_per_account_with_the_balance_it_left(db_session):
    from portal.models import AlertSettings, SmsMessage

    tariff = factories.make_tariff(db_session, monthly_fee=50000)
    account = factories.make_line(db_session, "+79161234567", tariff=tariff, balance=60000)
    factories.make_subscription(db_session, account, factories.make_service(db_session, monthly_fee=3000))
    factories.make_subscription(db_session, account, factories.make_service(db_session, monthly_fee=0, daily_fee=500),
                                since=datetime(2026, 11, 1))
    db_session.add(AlertSettings(account_id=account.id, low_balance_below=58000, on_payment=True, on_change=True,
                                 on_new_device=True, on_every_login=False))
    db_session.commit()
    assert run_billing(db_session, day=FIRST, now=NOW).low_balance_alerts == 1  # three charges cross it once
    assert run_billing(db_session, day=FIRST, now=NOW).low_balance_alerts == 0
    texts = list(db_session.scalars(select(SmsMessage.text).where(SmsMessage.purpose == "alert")))
    assert len(texts) == 1 and "65.00" in texts[0]  # 600.00 - 500.00 - 30.00 - 5.00


def daily_fee_line(db_session, msisdn="+79161234567", status="active"):
    service = factories.make_service(db_session, monthly_fee=0, daily_fee=150)
    line = factories.make_line(db_session, msisdn, tariff=factories.make_tariff(db_session, monthly_fee=0),
                               balance=10000, status=status)
    factories.make_subscription(db_session, line, service, since=datetime(2026, 10, 1, 10, 0))
    db_session.commit()
    return line


def daily_fee_days(db_session, account_id):
    return sorted(stamp.date() for stamp in db_session.scalars(
        select(LedgerEntry.created_at).where(LedgerEntry.account_id == account_id, LedgerEntry.kind == "service_fee")))


def test_a_past_day_run_again_after_a_later_one_bills_nothing_by_todays_state(db_session):
    line = daily_fee_line(db_session, status="blocked_by_owner")
    run_billing(db_session, day=date(2026, 12, 2), now=NOW)  # blocked that day: no daily fee
    line = db_session.get(Account, line.id)
    line.status = "active"  # unblocked on the 3rd
    db_session.commit()
    run_billing(db_session, day=date(2026, 12, 3), now=NOW)
    again = run_billing(db_session, day=date(2026, 12, 2), now=NOW)  # the 2nd once more, by today's state
    assert (again.accounts, again.charges, again.billed_later) == (0, 0, 1)
    assert "already billed for a later day" in str(again)
    assert daily_fee_days(db_session, line.id) == [date(2026, 12, 3)]
    assert db_session.get(Account, line.id).billed_through == date(2026, 12, 3)


def test_a_run_bills_the_days_an_account_missed_first(db_session):
    line = daily_fee_line(db_session)
    run_billing(db_session, day=date(2026, 12, 1), now=NOW)
    report = run_billing(db_session, day=date(2026, 12, 4), now=NOW + timedelta(days=3))  # the 2nd and 3rd missed
    assert (report.accounts, report.caught_up, report.charges) == (1, 2, 3)
    assert "2 missed account-days billed first" in str(report)
    assert daily_fee_days(db_session, line.id) == [date(2026, 12, d) for d in (1, 2, 3, 4)]
    assert ledger.verify(db_session) == []


def test_the_catch_up_goes_a_week_back_at_most_and_not_before_an_account_was_first_billed(db_session):
    from portal.domain.billing import CATCH_UP_DAYS

    old = daily_fee_line(db_session)
    run_billing(db_session, day=date(2026, 11, 1), now=NOW)
    new = daily_fee_line(db_session, "+79031112233")  # never billed: nothing to catch up
    run_billing(db_session, day=FIRST, now=NOW)
    assert len(daily_fee_days(db_session, old.id)) == 1 + CATCH_UP_DAYS + 1
    assert daily_fee_days(db_session, old.id)[1] == FIRST - timedelta(days=CATCH_UP_DAYS)
    assert daily_fee_days(db_session, new.id) == [FIRST]
