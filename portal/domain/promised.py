"""The promised (trust) payment: money now, taken back from the next top-ups."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import formatting
from portal.domain import idempotency, ledger
from portal.domain.audit import SYSTEM, Actor, record
from portal.domain.errors import DomainError
from portal.models import Account, AccountStatus, LedgerEntry, PromisedPayment

PAID_IN = ("card_topup", "voucher", "transfer_in")


@dataclass(frozen=True)
class PromisedRules:
    days: dict
    fee: int
    floor: int
    tiers: tuple

    @classmethod
    def from_config(cls, cfg) -> "PromisedRules":
        return cls(dict(cfg["PROMISED_DAYS"]), cfg["PROMISED_FEE"], cfg["PROMISED_FLOOR"],
                   tuple(tuple(t) for t in cfg["PROMISED_TIERS"]))


@dataclass(frozen=True)
class Offer:
    limit: int  # kopecks; 0 when not available
    fee: int
    days: int
    refusal: str | None
    open: PromisedPayment | None


class PromisedRefused(DomainError):
    field = "amount"


def open_promise(session: Session, account_id: int) -> PromisedPayment | None:
    return session.scalar(select(PromisedPayment).where(PromisedPayment.account_id == account_id,
                                                        PromisedPayment.status.in_(("open", "overdue"))))


def owed(session: Session, account_id: int) -> int:
    """What the open promise still takes back: money the line may not send away (kopecks)."""
    promise = open_promise(session, account_id)
    return promise.outstanding if promise is not None else 0


def _limit(session: Session, account: Account, rules: PromisedRules, now: datetime) -> int:
    paid_in = session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.account_id == account.id, LedgerEntry.kind.in_(PAID_IN),
        LedgerEntry.created_at > now - timedelta(days=90)))
    return max(limit for floor, limit in rules.tiers if paid_in >= floor)


def offer(session: Session, account: Account, rules: PromisedRules, *, now: datetime) -> Offer:
    current = open_promise(session, account.id)
    refusal = None
    if current is not None:
        refusal = _l("Repay the current promised payment first.")
    elif account.status != AccountStatus.active.value:
        refusal = _l("A promised payment is available on an active number only.")
    elif account.balance < rules.floor:
        refusal = _l("The balance is too far below zero for a promised payment. Please top up.")
    limit = 0 if refusal else _limit(session, account, rules, now)
    return Offer(limit, rules.fee, rules.days[account.kind], str(refusal) if refusal else None, current)


def take_promised_payment(session: Session, *, account_id: int, amount: int, idempotency_key: str,
                          rules: PromisedRules, actor: Actor, now: datetime) -> PromisedPayment:
    """Credit the amount now with its fee; it is due in the configured days."""
    account = idempotency.lock_account_for(session, account_id=account_id, idempotency_key=idempotency_key,
                                           action="promised_payment")
    if account is None:
        return open_promise(session, account_id)
    terms = offer(session, account, rules, now=now)
    if terms.refusal:
        session.rollback()
        raise PromisedRefused(terms.refusal)
    if not rules.fee < amount <= terms.limit:  # a promise always adds more than its fee
        session.rollback()
        raise PromisedRefused(_l("More than %(fee)s and up to %(limit)s.", fee=formatting.money(rules.fee, whole=True),
                                 limit=formatting.money(terms.limit, whole=True)))
    promise = PromisedPayment(account_id=account.id, amount=amount, fee=rules.fee, status="open",
                              idempotency_key=idempotency_key, created_at=now,
                              due_at=now + timedelta(days=terms.days))
    session.add(promise)
    ledger.post(session, account, amount=amount, kind="promised_credit", key=f"promised:{idempotency_key}",
                description=_l("Promised payment"), now=now)
    if rules.fee:
        ledger.post(session, account, amount=-rules.fee, kind="service_fee", key=f"promised:{idempotency_key}:fee",
                    description=_l("Promised payment fee"), now=now)
    record(session, actor, "promised_payment_taken", obj=promise, account_id=account.id, detail=str(amount))
    idempotency.commit_once(session)
    return promise


def pay_in(session: Session, account: Account, *, amount: int, kind: str, key: str, description, now: datetime,
           related_entry_id: int | None = None) -> int:
    """Money paid in: its entry, the open promise repaid from it, then one alert with the true balance.

    Returns the part that repaid the promise. The caller holds the account lock and commits.
    """
    entry = ledger.post(session, account, amount=amount, kind=kind, key=key, description=description, now=now,
                        related_entry_id=related_entry_id, payment_alert=False)
    repaid = repay_from_credit(session, account, credited=amount, key=key, now=now)
    ledger.alert_payment(session, account, amount=amount, repaid=repaid, now=now, code=entry.code)
    return repaid


def repaid_from(session: Session, key: str) -> int:
    """How much of the money paid in under ``key`` repaid a promised payment."""
    return -(session.scalar(select(LedgerEntry.amount).where(LedgerEntry.idempotency_key == f"{key}:repay")) or 0)


def repay_from_credit(session: Session, account: Account, *, credited: int, key: str, now: datetime) -> int:
    """Take the open promise back out of money just paid in (the caller holds the account lock)."""
    promise = open_promise(session, account.id)
    if promise is None or credited <= 0:
        return 0
    part = min(credited, promise.outstanding)
    ledger.post(session, account, amount=-part, kind="promised_repay", key=f"{key}:repay",
                description=_l("Promised payment repaid"), now=now)
    promise.repaid += part
    if promise.outstanding == 0:
        was_overdue = promise.status == "overdue"
        promise.status, promise.repaid_at = "repaid", now
        if was_overdue and account.status == AccountStatus.suspended.value:
            account.status = AccountStatus.active.value  # the debt is covered: the services come back
            record(session, SYSTEM, "account_restored", obj=account, account_id=account.id,
                   detail="promised payment repaid")
    return part
