"""The holiday pause of a home contract (a voluntary block for 7 to 90 days).

The customer chooses the first day (today or up to 30 days ahead) and the number of days; the
contract works again on ``resume_on``, the day after the last paused day. While paused the account
is ``blocked_by_owner``. Fees: the billing run charges, on a period's first day that falls inside the
pause, the tariff's reduced ``pause_monthly_fee`` (copied onto the pause when it was confirmed)
instead of the tariff's fee and the services' fees; there is no pro-rata either way (a period that
starts before the pause pays in full, one that starts inside it pays the reduced fee).
The billing run also starts scheduled pauses and ends them on their ``resume_on`` day
(``advance_pauses``); the customer may resume early, or cancel one not yet started.
"""
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import formatting
from portal.domain import idempotency
from portal.domain.accounts import lock_account
from portal.domain.audit import SYSTEM, Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.models import Account, AccountStatus, HomePause

MIN_DAYS, MAX_DAYS = 7, 90
MAX_AHEAD_DAYS = 30
OPEN = ("scheduled", "active")
ACTIVE, PAUSED = AccountStatus.active.value, AccountStatus.blocked_by_owner.value


class PauseRefused(DomainError):
    """The pause cannot be taken (or ended) this way; ``field`` names the wrong value, if any."""


@dataclass(frozen=True)
class PauseOffer:
    """What a pause of this contract costs, shown before the customer confirms."""

    monthly_fee: int | None  # the reduced fee; None: the tariff has no pause
    full_fee: int
    refusal: str | None
    current: HomePause | None  # the pause scheduled or running now


def open_pause(session: Session, account_id: int) -> HomePause | None:
    """The pause scheduled or running now, if any."""
    return session.scalar(select(HomePause).where(HomePause.account_id == account_id, HomePause.status.in_(OPEN))
                          .order_by(HomePause.id.desc()).limit(1))


def paused_until(session: Session, account_ids: list[int]) -> dict[int, date]:
    """The last paused day of each of these contracts that is on a pause now (one query)."""
    if not account_ids:
        return {}
    pauses = session.scalars(select(HomePause).where(HomePause.account_id.in_(account_ids),
                                                     HomePause.status == "active"))
    return {p.account_id: p.last_day for p in pauses}


def _refusal(account: Account, current: HomePause | None):
    if account.home_contract is None:
        return _l("Only a home internet and TV contract can be paused.")
    if account.status == AccountStatus.suspended.value:
        return _l("The contract is suspended for debt: top up the balance first.")
    if account.status == AccountStatus.terminated.value:
        return _l("The contract is terminated.")
    if current is not None:
        return _l("The contract already has a pause from %(start)s to %(end)s.",
                  start=formatting.date_long(current.start_on), end=formatting.date_long(current.last_day))
    if account.status != ACTIVE:
        return _l("The contract is blocked; it can be paused only while it works.")
    if account.tariff is None or account.tariff.pause_monthly_fee is None:
        return _l("Your tariff cannot be paused. Choose a tariff with a holiday pause.")
    return None


def pause_offer(session: Session, account: Account) -> PauseOffer:
    current = open_pause(session, account.id)
    refusal = _refusal(account, current)
    tariff = account.tariff
    return PauseOffer(monthly_fee=tariff.pause_monthly_fee if tariff else None,
                      full_fee=tariff.monthly_fee if tariff else 0, refusal=str(refusal) if refusal else None,
                      current=current)


def check_dates(start_on: date | None, days: int | None, *, today: date) -> tuple[date, date]:
    """The first paused day and the day the contract works again; PauseRefused names the wrong field."""
    if start_on is None or start_on < today or start_on > today + timedelta(days=MAX_AHEAD_DAYS):
        raise PauseRefused(lazy_ngettext("Choose today or a day up to %(num)d day ahead.",
                                         "Choose today or a day up to %(num)d days ahead.", MAX_AHEAD_DAYS),
                           field="start_on")
    if days is None or not MIN_DAYS <= days <= MAX_DAYS:
        raise PauseRefused(_l("A pause lasts from %(min)s to %(max)s days.", min=MIN_DAYS, max=MAX_DAYS),
                           field="days")
    return start_on, start_on + timedelta(days=days)


def request_pause(session: Session, *, account_id: int, start_on: date, days: int, idempotency_key: str,
                  actor: Actor, today: date, now: datetime) -> HomePause | None:
    """Pause the contract from ``start_on`` for ``days`` days at the tariff's reduced fee.

    Starting today blocks the contract at once; a later start is scheduled and the billing run starts it.
    A repeated submission (same key) changes nothing and returns None.
    """
    start_on, resume_on = check_dates(start_on, days, today=today)
    account = idempotency.lock_account_for(session, account_id=account_id, idempotency_key=idempotency_key,
                                           action="home_pause")
    if account is None:
        return None
    refusal = _refusal(account, open_pause(session, account.id))
    if refusal:
        session.rollback()
        raise PauseRefused(refusal)
    starts_now = start_on <= today
    pause = HomePause(account_id=account.id, start_on=start_on, resume_on=resume_on, created_at=now,
                      monthly_fee=account.tariff.pause_monthly_fee, status="active" if starts_now else "scheduled")
    session.add(pause)
    session.flush()
    if starts_now:
        account.status = PAUSED
    record(session, actor, "home_paused" if starts_now else "home_pause_scheduled", obj=pause, account_id=account.id,
           detail=f"{start_on} - {pause.last_day} ({days} days); fee {pause.monthly_fee}")
    idempotency.commit_once(session)
    return pause


def end_pause(session: Session, *, account_id: int, pause_id: int, actor: Actor, today: date) -> bool:
    """Resume early (a running pause) or cancel a pause not started yet; False when it is over already.

    NotFound for a pause of another account.
    """
    account = lock_account(session, account_id)
    pause = session.get(HomePause, pause_id, populate_existing=True)
    if account is None or pause is None or pause.account_id != account.id:
        session.rollback()
        raise NotFound("pause")
    if pause.status not in OPEN:
        session.rollback()
        return False
    if pause.status == "scheduled":
        pause.status, pause.ended_on = "cancelled", today
        record(session, actor, "home_pause_cancelled", obj=pause, account_id=account.id,
               detail=f"{pause.start_on} - {pause.last_day}")
    else:
        _finish(session, account, pause, actor, today, detail=f"early, on {today}")
    session.commit()
    return True


def _finish(session: Session, account: Account, pause: HomePause, actor: Actor, day: date, *, detail: str) -> None:
    pause.status, pause.ended_on = "ended", day
    if account.status == PAUSED:  # staff may have lifted the block already
        account.status = ACTIVE
    record(session, actor, "home_resumed", obj=pause, account_id=account.id, detail=detail)


def advance_pauses(session: Session, account: Account, *, day: date) -> HomePause | None:
    """The billing run, every day: start the pauses due, end those whose time is up.

    Runs inside the billing run's transaction (flushes only). Returns the pause running on ``day``.
    Running it twice for a day changes nothing the second time: each step moves a status forward.
    """
    running = None
    for pause in session.scalars(select(HomePause).where(HomePause.account_id == account.id,
                                                         HomePause.status.in_(OPEN)).order_by(HomePause.id)).all():
        if pause.status == "scheduled" and pause.start_on <= day:
            if account.status != ACTIVE:
                pause.status, pause.ended_on = "cancelled", day
                record(session, SYSTEM, "home_pause_cancelled", obj=pause, account_id=account.id,
                       detail=f"the contract is {account.status}")
                continue
            pause.status = "active"
            account.status = PAUSED
            record(session, SYSTEM, "home_paused", obj=pause, account_id=account.id,
                   detail=f"{pause.start_on} - {pause.last_day}; scheduled")
        if pause.status == "active" and account.status != PAUSED:
            # Staff lifted the block (portal.domain.blocking.staff_unblock): the pause is over too.
            _finish(session, account, pause, SYSTEM, day, detail=f"the block was lifted; {day}")
        elif pause.status == "active" and pause.resume_on <= day:
            _finish(session, account, pause, SYSTEM, day, detail=f"on time, {pause.resume_on}")
        elif pause.status == "active":
            running = pause
    session.flush()
    return running
