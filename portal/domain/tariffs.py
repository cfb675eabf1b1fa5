"""Tariffs: what a line may switch to, what it costs, and the switch itself.

Home contracts use the same switch with two more rules: the tariff must be carried by the
connection type at the contract's address, and a tariff may say its switch takes effect from
the next billing period; such a switch is stored as a ScheduledTariffChange, shown on the
dashboard (cancellable) and applied by the billing run on the period's first day
(``apply_scheduled_changes``), which charges the switching fee then.
"""
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from portal import formatting
from portal.domain import alerts, idempotency, ledger
from portal.domain.accounts import lock_account
from portal.domain.audit import SYSTEM, Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.domain.overview import current_allowance
from portal.models import Account, AccountStatus, Allowance, ScheduledTariffChange, Tariff

PACKAGE = (("minutes", "minutes"), ("sms", "sms"), ("mms", "mms"), ("data_mb", "data_mb"))
NOW, NEXT_PERIOD = "now", "next_period"
CHANGE_EFFECTIVE = (NOW, NEXT_PERIOD)
CONNECTION_TYPES = ("fttb", "gpon", "adsl", "docsis")
CONNECTION_LABELS = {"fttb": "FTTB", "gpon": "GPON", "adsl": "ADSL", "docsis": "DOCSIS"}


class TariffRefused(DomainError):
    """The switch is not allowed; the message says why."""


def available_tariffs(session: Session, account: Account) -> list[Tariff]:
    """Tariffs this account may switch to: its kind, its region or every region, not archived."""
    return list(session.scalars(
        select(Tariff).where(Tariff.kind == account.kind, Tariff.archived.is_(False),
                             or_(Tariff.region.is_(None), Tariff.region == account.region))
        .order_by(Tariff.monthly_fee, Tariff.name)
    ))


def tariff_list(session: Session, account: Account) -> list[Tariff]:
    """What the tariffs page lists: the account's own tariff first (even an archived one), then the offer."""
    offer = available_tariffs(session, account)
    current = account.tariff
    return ([current] if current is not None else []) + [t for t in offer if t.id != account.tariff_id]


def comparable_pair(session: Session, account: Account, first_id: int, second_id: int) -> tuple[Tariff, Tariff]:
    """Two tariffs of the list to set side by side; NotFound for any tariff the account does not see."""
    listed = {t.id: t for t in tariff_list(session, account)}
    if first_id not in listed or second_id not in listed:
        raise NotFound("tariff")
    return listed[first_id], listed[second_id]


def offered_tariff(session: Session, account: Account, tariff_id: int) -> Tariff:
    """One tariff of the catalog this account sees; NotFound for any other."""
    tariff = session.get(Tariff, tariff_id)
    if tariff is None or tariff not in available_tariffs(session, account):
        raise NotFound("tariff")
    return tariff


@dataclass(frozen=True)
class Quote:
    """What a switch costs and changes, shown before the customer confirms."""

    tariff: Tariff
    fee: int
    fraction_left: float  # of the current period, for the pro-rata package
    package_now: dict[str, int]  # the new package for the rest of this period
    refusal: str | None
    effective_on: date | None = None  # a home switch that waits for the next billing period: its first day

    @property
    def scheduled(self) -> bool:
        return self.effective_on is not None


def period_bounds(now: datetime) -> tuple[datetime, datetime]:
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, end


def effective_on(account: Account, tariff: Tariff, today: date) -> date | None:
    """The first day of the contract's next billing period for a next-period switch; None: it takes effect now."""
    if tariff.change_effective != NEXT_PERIOD or account.home_contract is None:
        return None
    from portal.domain.home import billing_period

    return billing_period(account.home_contract.billing_day, today)[1]


def pending_change(session: Session, account_id: int) -> ScheduledTariffChange | None:
    """The switch waiting for the next billing period, if any."""
    return session.scalar(select(ScheduledTariffChange).where(ScheduledTariffChange.account_id == account_id,
                                                              ScheduledTariffChange.status == "scheduled")
                          .options(joinedload(ScheduledTariffChange.tariff))
                          .order_by(ScheduledTariffChange.id.desc()).limit(1))


def quote_switch(session: Session, account: Account, tariff: Tariff, *, now: datetime,
                 today: date | None = None) -> Quote:
    allowance = current_allowance(session, account.id, now)
    start, end = (allowance.period_start, allowance.period_end) if allowance else period_bounds(now)
    fraction = max(0.0, min(1.0, (end - now) / (end - start)))
    package = {name: round(getattr(tariff, attr) * fraction) for name, attr in PACKAGE}
    refusal = _refusal(session, account, tariff, tariff.switch_fee)
    return Quote(tariff=tariff, fee=tariff.switch_fee, fraction_left=fraction, package_now=package,
                 refusal=str(refusal) if refusal else None,
                 effective_on=effective_on(account, tariff, today or now.date()))


def _home_refusal(session: Session, account: Account, tariff: Tariff):
    contract = account.home_contract
    if account.status == AccountStatus.suspended.value:
        return _l("The contract is suspended for debt: top up the balance first, then change the tariff.")
    if account.status == AccountStatus.blocked_by_owner.value:
        return _l("The contract is paused: resume it first, then change the tariff.")
    if not tariff.carries(contract.connection_type):
        return _l("%(name)s works only over %(needed)s; the line at your address is %(have)s.", name=tariff.title,
                  needed=" / ".join(CONNECTION_LABELS.get(t, t.upper()) for t in tariff.connection_type_list),
                  have=CONNECTION_LABELS.get(contract.connection_type, contract.connection_type.upper()))
    pending = pending_change(session, account.id)
    if pending is not None:
        return _l("A change to %(name)s is already scheduled for %(date)s. Cancel it on the home page first.",
                  name=pending.tariff.title, date=formatting.date_long(pending.effective_on))
    return None


def _refusal(session: Session, account: Account, tariff: Tariff, fee: int):
    if account.home_contract is not None and account.status != AccountStatus.terminated.value:
        refusal = _home_refusal(session, account, tariff)
        if refusal:
            return refusal
    if account.status != AccountStatus.active.value:
        return _l("The tariff can be changed only on an active line. Unblock it or top up first.")
    if tariff.archived:
        return _l("This tariff is no longer offered.")
    if tariff.kind != account.kind or (tariff.region and tariff.region != account.region):
        return _l("This tariff is not offered in your region.")
    if account.tariff_id == tariff.id:
        return _l("This is already your tariff.")
    if account.balance < fee:
        return _l("The balance is too low for the switching fee. Top up first.")
    return None


def change_tariff(session: Session, *, account_id: int, tariff_id: int, idempotency_key: str, actor: Actor,
                  now: datetime, today: date | None = None) -> ScheduledTariffChange | None:
    """Switch the account to the tariff now: fee, pro-rata package, audit, in one transaction.

    A home tariff whose switch waits for the next billing period is scheduled instead (returned);
    the billing run applies it and charges the fee. ``today`` is the customer's local date.
    A repeated submission (same key) changes nothing and is not an error.
    """
    account = idempotency.lock_account_for(session, account_id=account_id, idempotency_key=idempotency_key,
                                           action="change_tariff")
    if account is None:
        return
    tariff = session.get(Tariff, tariff_id)
    if tariff is None:
        session.rollback()
        raise NotFound("tariff")
    refusal = _refusal(session, account, tariff, tariff.switch_fee)
    if refusal:
        session.rollback()
        raise TariffRefused(refusal)
    old = account.tariff
    quote = quote_switch(session, account, tariff, now=now, today=today)
    if quote.scheduled:
        change = ScheduledTariffChange(account_id=account.id, tariff_id=tariff.id, effective_on=quote.effective_on,
                                       created_at=now)
        session.add(change)
        session.flush()
        record(session, actor, "tariff_change_scheduled", obj=change, account_id=account.id,
               detail=f"{old.name if old else '-'} -> {tariff.name} from {quote.effective_on}; fee {quote.fee}")
        idempotency.commit_once(session)
        return change
    if quote.fee:
        ledger.post(session, account, amount=-quote.fee, kind="tariff_fee", key=f"tariff:{idempotency_key}",
                    description=_l("Tariff changed to %(name)s", name=tariff.name), now=now, coded=True)
    _replace_package(session, account, quote, now)
    account.tariff_id = tariff.id
    alerts.notify(session, account=account, event="change", now=now, name=tariff.name,
                  message=_l("your tariff is now %(name)s."))
    record(session, actor, "tariff_changed", obj=account,
           detail=f"{old.name if old else '-'} -> {tariff.name}; fee {quote.fee}")
    idempotency.commit_once(session)
    return None


def cancel_scheduled_change(session: Session, *, account_id: int, change_id: int, actor: Actor) -> bool:
    """Cancel a switch waiting for the next period; False when it was cancelled or applied already.

    NotFound for a change of another account.
    """
    account = lock_account(session, account_id)
    change = session.get(ScheduledTariffChange, change_id, with_for_update=True, populate_existing=True)
    if account is None or change is None or change.account_id != account.id:
        session.rollback()
        raise NotFound("scheduled change")
    if change.status != "scheduled":
        session.rollback()
        return False
    change.status = "cancelled"
    record(session, actor, "tariff_change_cancelled", obj=change, account_id=account.id,
           detail=f"{change.tariff.name} from {change.effective_on}")
    session.commit()
    return True


def apply_scheduled_changes(session: Session, account: Account, *, day: date, now: datetime) -> int:
    """The billing run, on a period's first day: switch to the tariffs scheduled for it (or before).

    Runs inside the billing run's transaction (flushes, does not commit); a change is applied once,
    its status says so, and its fee's ledger key is the change's own.
    """
    changes = session.scalars(select(ScheduledTariffChange).where(
        ScheduledTariffChange.account_id == account.id, ScheduledTariffChange.status == "scheduled",
        ScheduledTariffChange.effective_on <= day).order_by(ScheduledTariffChange.id)).all()
    for change in changes:
        old, tariff = account.tariff, change.tariff
        if tariff.switch_fee:
            ledger.post(session, account, amount=-tariff.switch_fee, kind="tariff_fee",
                        key=f"tariff:scheduled:{change.id}", now=now,
                        description=_l("Tariff changed to %(name)s", name=tariff.name))
        account.tariff = tariff
        change.status, change.applied_at = "applied", now
        record(session, SYSTEM, "tariff_changed", obj=account, account_id=account.id,
               detail=f"{old.name if old else '-'} -> {tariff.name}; scheduled for {change.effective_on}; "
                      f"fee {tariff.switch_fee}")
    session.flush()
    return len(changes)


def _replace_package(session: Session, account: Account, quote: Quote, now: datetime) -> None:
    """The new tariff's package, pro rata for what is left of the period; the old package ends."""
    allowance = current_allowance(session, account.id, now)
    if allowance is None:
        start, end = period_bounds(now)
        allowance = Allowance(account_id=account.id, period_start=start, period_end=end)
        session.add(allowance)
    for name, _attr in PACKAGE:
        setattr(allowance, f"{name}_total", quote.package_now[name])
        setattr(allowance, f"{name}_left", quote.package_now[name])
