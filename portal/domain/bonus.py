"""Bonus points: earned on charges, spent on rewards, sent to another of our numbers."""
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import formatting
from portal.domain import idempotency, ledger, promised, statement
from portal.domain.accounts import lock_accounts
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.domain.overview import current_allowance
from portal.models import Account, AccountStatus, BonusAccount, BonusEntry, LedgerEntry, Line, ProcessedRequest, Reward

CHARGES = ("tariff_fee", "service_fee", "usage")
# What the history says each entry was.
ENTRY_LABELS = {"earned": _l("Earned"), "spent": _l("Spent"), "transfer_in": _l("Received"),
                "transfer_out": _l("Given"), "adjustment": _l("Correction")}


class BonusRefused(DomainError):
    """Points cannot be spent or sent; the message says why."""


NOT_OURS = _l("This number is not served by us: points go to our numbers only.")


def _check_sender(session: Session, sender: Account, have: int, points: int) -> None:
    if have < points:
        raise BonusRefused(_l("Not enough points: %(have)s of %(need)s.", have=have, need=points), field="points")
    # Points bought with the promised credit would carry it away: none leave until the balance covers the promise.
    short = promised.owed(session, sender.id) - sender.balance
    if short > 0:
        raise BonusRefused(_l("The promised payment is not repaid yet: points can be sent once the balance covers "
                              "it (top up %(amount)s).", amount=formatting.money(short)), field="points")


def _locked_bonus_account(session: Session, account_id: int) -> BonusAccount:
    bonus = session.get(BonusAccount, account_id, with_for_update=True, populate_existing=True)
    if bonus is None:
        bonus = BonusAccount(account_id=account_id, points=0)
        session.add(bonus)
        session.flush()
    return bonus


def _post(session: Session, bonus: BonusAccount, *, points: int, kind: str, key: str | None, description,
          now: datetime) -> BonusEntry:
    entry = BonusEntry(account_id=bonus.account_id, points=points, kind=kind, idempotency_key=key,
                       description=statement.in_operator_language(description)[:200],
                       params=statement.params_of(description), created_at=now)
    session.add(entry)
    bonus.points += points
    return entry


def award_for_period(session: Session, account: Account, *, start: datetime, end: datetime,
                     kopecks_per_point: int, now: datetime) -> int:
    """Points for what the account was charged in [start, end); once per period (the caller commits)."""
    key = f"bonus:{account.id}:{start.date()}"
    if session.scalar(select(BonusEntry.id).where(BonusEntry.idempotency_key == key)):
        return 0
    charged = -session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.account_id == account.id, LedgerEntry.kind.in_(CHARGES), LedgerEntry.amount < 0,
        LedgerEntry.created_at >= start, LedgerEntry.created_at < end))
    points = charged // kopecks_per_point
    if points > 0:
        _post(session, _locked_bonus_account(session, account.id), points=points, kind="earned", key=key,
              description=_l("For %(month)s", month=start), now=now)
    return points


def rewards(session: Session) -> list[Reward]:
    return list(session.scalars(select(Reward).where(Reward.archived.is_(False)).order_by(Reward.cost)))


def offered_reward(session: Session, reward_id: int) -> Reward:
    """A reward of the catalog; NotFound for an archived or unknown one."""
    reward = session.get(Reward, reward_id)
    if reward is None or reward.archived:
        raise NotFound("reward")
    return reward


def history(session: Session, account_id: int, *, limit: int = 50) -> list[BonusEntry]:
    return list(session.scalars(select(BonusEntry).where(BonusEntry.account_id == account_id)
                                .order_by(BonusEntry.id.desc()).limit(limit)))


def redeem_reward(session: Session, *, account_id: int, reward_id: int, idempotency_key: str, actor: Actor,
                  now: datetime) -> None:
    """Spend points: a package is added to this period's, a discount becomes money on the balance."""
    account = idempotency.lock_account_for(session, account_id=account_id, idempotency_key=idempotency_key,
                                           action="redeem_reward")
    if account is None:
        return
    try:
        reward = offered_reward(session, reward_id)
    except NotFound:
        session.rollback()
        raise
    bonus = _locked_bonus_account(session, account.id)
    if bonus.points < reward.cost:
        session.rollback()
        raise BonusRefused(_l("Not enough points: %(have)s of %(need)s.", have=bonus.points, need=reward.cost))
    if reward.kind == "discount":
        ledger.post(session, account, amount=reward.quantity, kind="bonus", key=f"reward:{idempotency_key}",
                    description=reward.name, now=now)
    else:
        allowance = current_allowance(session, account.id, now)
        if allowance is None or account.status != AccountStatus.active.value:
            session.rollback()
            raise BonusRefused(_l("A package can be added to an active line with a package this month."))
        setattr(allowance, f"{reward.kind}_total", getattr(allowance, f"{reward.kind}_total") + reward.quantity)
        setattr(allowance, f"{reward.kind}_left", getattr(allowance, f"{reward.kind}_left") + reward.quantity)
    _post(session, bonus, points=-reward.cost, kind="spent", key=f"reward:{idempotency_key}", description=reward.name,
          now=now)
    record(session, actor, "reward_redeemed", obj=reward, account_id=account.id, detail=str(reward.cost))
    idempotency.commit_once(session)


def transfer_points(session: Session, *, from_account_id: int, to_msisdn: str, points: int, idempotency_key: str,
                    minimum: int, actor: Actor, now: datetime) -> None:
    """Give points to another of our numbers; both entries in one transaction.

    The amount and the sender's points are checked before the recipient, so a refused
    transfer of a point or two never tells whether a number is ours.
    """
    if points < minimum:
        raise BonusRefused(lazy_ngettext("At least %(num)d point.", "At least %(num)d points.", minimum),
                           field="points")
    if session.scalar(select(ProcessedRequest.key).where(ProcessedRequest.key == idempotency_key)):
        return  # a repeat of a submission carried out before
    _check_sender(session, session.get(Account, from_account_id),
                  session.scalar(select(BonusAccount.points).where(BonusAccount.account_id == from_account_id)) or 0,
                  points)
    recipient = session.scalar(select(Account).join(Line, Line.account_id == Account.id)
                               .where(Line.msisdn == to_msisdn))
    if recipient is None or recipient.status == AccountStatus.terminated.value:
        raise BonusRefused(NOT_OURS, field="recipient")
    if recipient.id == from_account_id:
        raise BonusRefused(_l("This is the number you are sending from."), field="recipient")
    accounts = lock_accounts(session, from_account_id, recipient.id)
    try:
        idempotency.claim(session, idempotency_key, action="transfer_points", account_id=from_account_id)
    except idempotency.AlreadyDone:
        session.rollback()
        return
    sender = accounts[from_account_id]
    pair = {i: _locked_bonus_account(session, i) for i in sorted((sender.id, recipient.id))}
    try:
        _check_sender(session, sender, pair[sender.id].points, points)  # again, under the locks
    except BonusRefused:
        session.rollback()
        raise
    number = session.scalar(select(Line.msisdn).where(Line.account_id == sender.id)) or ""
    _post(session, pair[sender.id], points=-points, kind="transfer_out", key=f"points:{idempotency_key}:out",
          description=_l("To %(number)s", number=to_msisdn), now=now)
    _post(session, pair[recipient.id], points=points, kind="transfer_in", key=f"points:{idempotency_key}:in",
          description=_l("From %(number)s", number=number), now=now)
    record(session, actor, "points_sent", account_id=sender.id, detail=f"{points} to account {recipient.id}")
    idempotency.commit_once(session)

