"""One batch of the billing run: the accounts of an id range, billed with a few set-based statements.

A batch is one transaction. It locks its accounts (id order), then:

- per account, only where they apply (rare and intricate): holiday pauses starting or ending
  (``home_pause.advance_pauses``), scheduled tariff changes on the period start
  (``tariffs.apply_scheduled_changes``) and the reduced fee of a contract paused on its period start;
- set-based, one statement each: the tariffs' monthly fees, the services' monthly fees, the fresh
  packages, the bonus points for the month before, the daily fees, overdue promises (and the
  suspensions they cause). Every charge is ``INSERT … SELECT … ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING account_id, amount``; the balances move by exactly what was inserted, in one statement;
- the low-balance alert, once per account, for the accounts whose balance went below their threshold.

Running a batch again inserts nothing and moves nothing; an interrupted batch rolls back whole.
The entries are the ones the per-account rules wrote (keys, amounts, kinds, statement params, dates).
"""
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, case, func, or_, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.types import Date, DateTime

from portal.domain import alerts, ledger, statement
from portal.domain.audit import SYSTEM, record
from portal.domain.bonus import CHARGES
from portal.domain.home_pause import OPEN, advance_pauses
from portal.domain.tariffs import apply_scheduled_changes
from portal.models import (
    Account,
    AccountStatus,
    AlertSettings,
    HomeContract,
    HomePause,
    LedgerEntry,
    PromisedPayment,
    ScheduledTariffChange,
    Service,
    Tariff,
)

ACTIVE, SUSPENDED = AccountStatus.active.value, AccountStatus.suspended.value
# How the statements' parameters are bound: lists expand, times are stored as the ORM stores them.
_BINDS = {"billed": {"expanding": True}, "charges": {"expanding": True}, "created": {"type_": DateTime()},
          "through": {"type_": Date()},
          "period_end": {"type_": DateTime()}, "previous": {"type_": DateTime()}, "start": {"type_": DateTime()}}


def _text(sql_text: str):
    return text(sql_text).bindparams(*[bindparam(name, **how) for name, how in _BINDS.items()
                                       if re.search(rf":{name}\b", sql_text)])


@dataclass(frozen=True)
class Lines:
    """The statement line of each tariff's and service's fee: (id, text in the operator's language, params)."""

    tariff_fee: list[tuple[int, str, str]]
    service_fee: list[tuple[int, str, str]]
    daily_fee: list[tuple[int, str, str]]

    @classmethod
    def of(cls, session: Session) -> "Lines":
        def lines(rows, line):
            out = []
            for row_id, name in rows:
                description = line(name)
                out.append((row_id, statement.in_operator_language(description)[:200],
                            json.dumps(statement.params_of(description))))
            return out

        return cls(
            lines(session.execute(select(Tariff.id, Tariff.name).where(Tariff.monthly_fee != 0)),
                  lambda name: _l("Monthly fee, tariff %(name)s", name=name)),
            lines(session.execute(select(Service.id, Service.name).where(Service.monthly_fee != 0)),
                  lambda name: _l("Monthly fee: %(name)s", name=name)),
            lines(session.execute(select(Service.id, Service.name).where(Service.daily_fee != 0)),
                  lambda name: _l("Daily fee: %(name)s", name=name)))


@dataclass
class BatchResult:
    accounts: int = 0
    charges: int = 0
    charged: int = 0
    allowances: int = 0
    tariff_changes: int = 0
    paused: int = 0
    points: int = 0
    alerts: int = 0
    suspended: list[int] | None = None
    billed_later: int = 0  # accounts of the range already billed for a later day: left alone


def _month_before(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=day.day)


def _month_after(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=day.day)


def billed_at(day: date) -> datetime:
    """The stamp of what a run bills for ``day``: the day itself, not the wall clock (a catch-up run after
    midnight must not move a fee or the points into the next day or month). Midnight naive UTC, the same
    boundary the packages and the bonus periods use, and the same date in every Russian time zone."""
    return datetime.combine(day, datetime.min.time())


def _values(name: str, columns: tuple[str, ...], rows: list[tuple]) -> tuple[str, dict]:
    """``name(columns) AS (VALUES …)`` for a WITH clause, and its parameters (PostgreSQL and SQLite)."""
    params, tuples = {}, []
    for i, row in enumerate(rows):
        keys = []
        for column, value in zip(columns, row, strict=True):
            params[f"{name}_{column}_{i}"] = value
            keys.append(f":{name}_{column}_{i}")
        tuples.append(f"({', '.join(keys)})")
    return f"{name}({', '.join(columns)}) AS (VALUES {', '.join(tuples)})", params


class _Sql:
    """The dialect's spelling of the few things PostgreSQL and SQLite write differently."""

    def __init__(self, session: Session):
        self.pg = session.get_bind().dialect.name == "postgresql"

    def json(self, expr: str) -> str:
        return f"CAST({expr} AS JSON)" if self.pg else expr

    def int(self, expr: str) -> str:
        return f"CAST({expr} AS BIGINT)" if self.pg else expr


# The account's period starts today: mobile lines on the 1st, home contracts on their billing day (28th at most).
PERIOD_START = ("(CASE WHEN hc.account_id IS NULL THEN 1 WHEN hc.billing_day > 28 THEN 28 "
                "ELSE hc.billing_day END) = :day_of_month")
PAUSED_NOW = "EXISTS (SELECT 1 FROM home_pause p WHERE p.account_id = a.id AND p.status = 'active')"
# The accounts a batch bills: in its id range, in a billed state, and not billed for a later day yet (see
# _not_billed_later).
BILLED_IN_RANGE = ("a.id BETWEEN :first_id AND :last_id AND a.status IN :billed "
                   "AND (a.billed_through <= :through OR (a.billed_through IS NULL AND :new_too))")


def _not_billed_later(common: dict):
    """The watermark: a run bills by the account's state now, so it bills a day only for the accounts not
    billed for a later day yet (a past day run again after later ones would charge a pause that has ended,
    a line unblocked since). A catch-up day (a day missed between two runs) bills only the accounts billed
    before it, not those never billed."""
    billed_by_then = Account.billed_through <= common["through"]
    return or_(billed_by_then, Account.billed_through.is_(None)) if common["new_too"] else billed_by_then


def bill_batch(session: Session, *, first_id: int, last_id: int, day: date, now: datetime, billed: tuple,
               lines: Lines | None = None, kopecks_per_point: int | None = None,
               catch_up: bool = False) -> BatchResult:
    """Bill the accounts with ids in [first_id, last_id] for ``day`` (one transaction; commits).

    Only accounts not billed for a later day yet; with ``catch_up`` (a day missed before the one being run)
    only those billed before ``day``."""
    sql = _Sql(session)
    lines = lines or Lines.of(session)
    result = BatchResult(suspended=[])
    start = billed_at(day)
    common = {"first_id": first_id, "last_id": last_id, "billed": list(billed), "day_of_month": day.day,
              "created": start, "through": day - timedelta(days=1) if catch_up else day, "new_too": not catch_up}
    in_range = (Account.id.between(first_id, last_id), Account.status.in_(billed))
    ids = session.scalars(select(Account.id).where(*in_range, _not_billed_later(common))
                          .order_by(Account.id).with_for_update(key_share=True)).all()
    result.accounts = len(ids)
    if not catch_up:
        result.billed_later = session.scalar(select(func.count()).select_from(Account)
                                             .where(*in_range, Account.billed_through > day))
    if not ids:
        session.rollback()
        return result
    starts_today = day.day <= 28
    deltas: dict[int, int] = {}

    # Per account, where it applies: pauses starting or ending, scheduled tariff changes, the pause fee.
    running = {}
    for account_id in session.scalars(
            select(HomePause.account_id).distinct().join(Account, Account.id == HomePause.account_id)
            .join(HomeContract, HomeContract.account_id == Account.id)
            .where(*in_range, _not_billed_later(common), HomePause.status.in_(OPEN))
            .order_by(HomePause.account_id)).all():
        pause = advance_pauses(session, session.get(Account, account_id), day=day)
        if pause is not None:
            running[account_id] = pause
    period_start = _period_start_clause(day)
    if starts_today:
        for account_id in session.scalars(
                select(ScheduledTariffChange.account_id).distinct()
                .join(Account, Account.id == ScheduledTariffChange.account_id)
                .join(HomeContract, HomeContract.account_id == Account.id)
                .where(*in_range, _not_billed_later(common), period_start,
                       ScheduledTariffChange.status == "scheduled", ScheduledTariffChange.effective_on <= day)
                .order_by(ScheduledTariffChange.account_id)).all():
            result.tariff_changes += apply_scheduled_changes(session, session.get(Account, account_id), day=day,
                                                             now=now)
        for account_id, pause in running.items():
            account = session.get(Account, account_id)
            if min(account.home_contract.billing_day, 28) != day.day:
                continue
            result.paused += 1
            key = f"bill:{day}:{account_id}:tariff"
            if pause.monthly_fee and not session.scalar(select(LedgerEntry.id)
                                                        .where(LedgerEntry.idempotency_key == key)):
                ledger.post(session, account, amount=-pause.monthly_fee, kind="tariff_fee", key=key, now=now,
                            dated=start, description=_l("Monthly fee while paused until %(date)s",
                                                        date=pause.last_day))
                result.charges += 1
                result.charged += pause.monthly_fee
    session.flush()

    def charge(names: list[tuple[int, str, str]], select_sql: str, **params) -> None:
        if not names:
            return
        with_names, name_params = _values("n", ("id", "description", "params"), names)
        rows = session.execute(_text(
            f"WITH {with_names} "
            "INSERT INTO ledger_entry (account_id, amount, kind, idempotency_key, description, params, created_at) "
            f"{select_sql} ON CONFLICT (idempotency_key) DO NOTHING RETURNING account_id, amount"
        ), {**common, **name_params, **params}).all()
        for account_id, amount in rows:
            deltas[account_id] = deltas.get(account_id, 0) + amount
            result.charges += 1
            result.charged -= amount

    if starts_today:
        # The tariff's monthly fee (a contract paused today paid its pause fee above: the same key).
        charge(lines.tariff_fee,
               f"SELECT a.id, -t.monthly_fee, 'tariff_fee', {_key('a.id')}, "
               f"n.description, {sql.json('n.params')}, :created "
               "FROM account a JOIN tariff t ON t.id = a.tariff_id JOIN n ON n.id = t.id "
               "LEFT JOIN home_contract hc ON hc.account_id = a.id "
               f"WHERE {BILLED_IN_RANGE} AND t.monthly_fee <> 0 AND {PERIOD_START} AND NOT {PAUSED_NOW}",
               key_prefix=f"bill:{day}:", key_suffix=":tariff")
        # The services' monthly fees (none while paused).
        charge(lines.service_fee,
               f"SELECT s.account_id, -sv.monthly_fee, 'service_fee', {_key('s.id')}, "
               f"n.description, {sql.json('n.params')}, :created "
               "FROM subscription s JOIN service sv ON sv.id = s.service_id JOIN n ON n.id = sv.id "
               "JOIN account a ON a.id = s.account_id LEFT JOIN home_contract hc ON hc.account_id = a.id "
               f"WHERE {BILLED_IN_RANGE} AND s.status = 'active' AND sv.monthly_fee <> 0 AND {PERIOD_START} "
               f"AND NOT {PAUSED_NOW}", key_prefix=f"bill:{day}:sub:", key_suffix="")
        result.allowances = len(session.execute(_text(
            "INSERT INTO allowance (account_id, period_start, period_end, minutes_total, minutes_left, sms_total, "
            "sms_left, mms_total, mms_left, data_mb_total, data_mb_left) "
            "SELECT a.id, :created, :period_end, t.minutes, t.minutes, t.sms, t.sms, t.mms, t.mms, t.data_mb, "
            "t.data_mb FROM account a JOIN tariff t ON t.id = a.tariff_id "
            "LEFT JOIN home_contract hc ON hc.account_id = a.id "
            f"WHERE {BILLED_IN_RANGE} AND {PERIOD_START} AND NOT EXISTS (SELECT 1 FROM allowance al "
            "WHERE al.account_id = a.id AND al.period_start = :created) RETURNING account_id"),
            {**common, "period_end": billed_at(_month_after(day))}).all())
        if kopecks_per_point:
            result.points = _award_points(session, sql, common, day, kopecks_per_point)
    # Daily fees: active accounts, services connected before today (the day of connection was paid then).
    charge(lines.daily_fee,
           f"SELECT s.account_id, -sv.daily_fee, 'service_fee', {_key('s.id')}, "
           f"n.description, {sql.json('n.params')}, :created "
           "FROM subscription s JOIN service sv ON sv.id = s.service_id JOIN n ON n.id = sv.id "
           "JOIN account a ON a.id = s.account_id "
           f"WHERE {BILLED_IN_RANGE} AND a.status = '{ACTIVE}' AND s.status = 'active' AND sv.daily_fee <> 0 "
           "AND s.since < :created", key_prefix=f"bill:{day}:day:", key_suffix="")
    if deltas:
        with_deltas, delta_params = _values("d", ("id", "delta"), list(deltas.items()))
        session.execute(text(
            f"WITH {with_deltas} UPDATE account SET balance = account.balance + {sql.int('d.delta')} FROM d "
            f"WHERE account.id = {sql.int('d.id')}"), delta_params)
    _expire_promises(session, common, day, result, now)
    result.alerts = _low_balance_alerts(session, first_id, last_id, deltas, now)
    session.execute(update(Account).where(Account.id.in_(ids)).values(billed_through=day)
                    .execution_options(synchronize_session=False))
    session.commit()
    return result


def _period_start_clause(day: date):
    return case((HomeContract.billing_day > 28, 28), else_=HomeContract.billing_day) == day.day


def _key(id_column: str) -> str:
    """An idempotency key built in SQL: ``:key_prefix``, the row's id, ``:key_suffix`` (as the per-account rules
    spell it)."""
    return (f"CAST(:key_prefix AS VARCHAR(80)) || CAST({id_column} AS VARCHAR(20)) "
            "|| CAST(:key_suffix AS VARCHAR(80))")


def _award_points(session: Session, sql: _Sql, common: dict, day: date, kopecks_per_point: int) -> int:
    """Bonus points for what each account was charged in the month before its period start (once a period)."""
    previous, start = billed_at(_month_before(day)), billed_at(day)
    description = _l("For %(month)s", month=previous)
    rows = session.execute(_text(
        "INSERT INTO bonus_entry (account_id, points, kind, description, params, idempotency_key, created_at) "
        f"SELECT c.account_id, c.charged / :per_point, 'earned', :description, {sql.json(':params')}, "
        f"{_key('c.account_id')}, :created FROM ("
        "SELECT a.id AS account_id, -SUM(le.amount) AS charged FROM account a "
        "JOIN ledger_entry le ON le.account_id = a.id LEFT JOIN home_contract hc ON hc.account_id = a.id "
        f"WHERE {BILLED_IN_RANGE} AND {PERIOD_START} AND le.kind IN :charges "
        "AND le.amount < 0 AND le.created_at >= :previous AND le.created_at < :start GROUP BY a.id) c "
        "WHERE c.charged / :per_point > 0 "
        "ON CONFLICT (idempotency_key) DO NOTHING RETURNING account_id, points"),
        {**common, "charges": list(CHARGES), "key_prefix": "bonus:", "key_suffix": f":{previous.date()}",
         "per_point": kopecks_per_point, "previous": previous, "start": start,
         "description": statement.in_operator_language(description)[:200],
         "params": json.dumps(statement.params_of(description))}).all()
    if not rows:
        return 0
    with_points, params = _values("d", ("id", "points"), rows)
    session.execute(text(
        f"WITH {with_points} INSERT INTO bonus_account (account_id, points) "
        f"SELECT {sql.int('d.id')}, {sql.int('d.points')} FROM d WHERE true "
        "ON CONFLICT (account_id) DO UPDATE SET points = bonus_account.points + excluded.points"), params)
    return sum(points for _, points in rows)


def _expire_promises(session: Session, common: dict, day: date, result: BatchResult, now: datetime) -> None:
    """Open promises due by the end of ``day`` become overdue; an active account with one is suspended (and told,
    with the link to pay without a password)."""
    end_of_day = billed_at(day + timedelta(days=1))
    in_batch = (select(Account.id).where(Account.id.between(common["first_id"], common["last_id"]),
                                         Account.status.in_(common["billed"]), _not_billed_later(common))
                .scalar_subquery())
    overdue = session.execute(
        update(PromisedPayment).where(PromisedPayment.account_id.in_(in_batch), PromisedPayment.status == "open",
                                      PromisedPayment.due_at < end_of_day)
        .values(status="overdue").returning(PromisedPayment.id, PromisedPayment.account_id)
        .execution_options(synchronize_session=False)).all()
    if not overdue:
        return
    for promise_id, account_id in sorted(overdue):
        record(session, SYSTEM, "promised_payment_overdue", object_type=PromisedPayment.__tablename__,
               object_id=str(promise_id), account_id=account_id)
    suspended = session.scalars(
        update(Account).where(Account.id.in_({account_id for _, account_id in overdue}), Account.status == ACTIVE)
        .values(status=SUSPENDED).returning(Account.id).execution_options(synchronize_session=False)).all()
    for account_id in sorted(suspended):
        record(session, SYSTEM, "account_suspended", object_type=Account.__tablename__, object_id=str(account_id),
               account_id=account_id, detail="unpaid promised payment")
        alerts.suspended(session, account=session.get(Account, account_id), now=now)
    result.suspended.extend(sorted(suspended))


def _low_balance_alerts(session: Session, first_id: int, last_id: int, deltas: dict[int, int],
                        now: datetime) -> int:
    """One alert per account whose balance this batch took below its threshold."""
    if not deltas:
        return 0
    sent = 0
    for account_id, threshold, balance in session.execute(
            select(AlertSettings.account_id, AlertSettings.low_balance_below, Account.balance)
            .join(Account, Account.id == AlertSettings.account_id)
            .where(AlertSettings.account_id.between(first_id, last_id), AlertSettings.low_balance_below.is_not(None))
            .order_by(AlertSettings.account_id)).all():
        delta = deltas.get(account_id)
        if delta and balance - delta >= threshold > balance:
            alerts.balance_moved(session, account=session.get(Account, account_id), before=balance - delta,
                                 after=balance, now=now)
            sent += 1
    return sent
