"""Tariffs: what a line may switch to, what it costs, and the switch itself."""
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.domain import alerts, idempotency, ledger
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.domain.overview import current_allowance
from portal.models import Account, AccountStatus, Allowance, Tariff

PACKAGE = (("minutes", "minutes"), ("sms", "sms"), ("mms", "mms"), ("data_mb", "data_mb"))


class TariffRefused(DomainError):
    """The switch is not allowed; the message says why."""


def available_tariffs(session: Session, account: Account) -> list[Tariff]:
    """Tariffs this account may switch to: its kind, its region or every region, not archived."""
    return list(session.scalars(
        select(Tariff).where(Tariff.kind == account.kind, Tariff.archived.is_(False),
                             or_(Tariff.region.is_(None), Tariff.region == account.region))
        .order_by(Tariff.monthly_fee, Tariff.name)
    ))


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


def period_bounds(now: datetime) -> tuple[datetime, datetime]:
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, end


def quote_switch(session: Session, account: Account, tariff: Tariff, *, now: datetime) -> Quote:
    allowance = current_allowance(session, account.id, now)
    start, end = (allowance.period_start, allowance.period_end) if allowance else period_bounds(now)
    fraction = max(0.0, min(1.0, (end - now) / (end - start)))
    package = {name: round(getattr(tariff, attr) * fraction) for name, attr in PACKAGE}
    refusal = _refusal(account, tariff, tariff.switch_fee)
    return Quote(tariff=tariff, fee=tariff.switch_fee, fraction_left=fraction, package_now=package,
                 refusal=str(refusal) if refusal else None)


def _refusal(account: Account, tariff: Tariff, fee: int):
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
                  now: datetime) -> None:
    """Switch the account to the tariff now: fee, pro-rata package, audit, in one transaction.

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
    refusal = _refusal(account, tariff, tariff.switch_fee)
    if refusal:
        session.rollback()
        raise TariffRefused(refusal)
    old = account.tariff
    quote = quote_switch(session, account, tariff, now=now)
    if quote.fee:
        ledger.post(session, account, amount=-quote.fee, kind="tariff_fee", key=f"tariff:{idempotency_key}",
                    description=f"Switch to {tariff.name}", now=now)
    _replace_package(session, account, quote, now)
    account.tariff_id = tariff.id
    alerts.notify(session, account=account, event="change", now=now, name=tariff.name,
                  message=_l("your tariff is now %(name)s."))
    record(session, actor, "tariff_changed", obj=account,
           detail=f"{old.name if old else '-'} -> {tariff.name}; fee {quote.fee}")
    idempotency.commit_once(session)


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
