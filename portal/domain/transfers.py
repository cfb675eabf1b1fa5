"""Transfers between our numbers: both entries in one transaction, limits checked under the locks."""
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import formatting
from portal.domain import alerts, idempotency, ledger
from portal.domain.accounts import lock_accounts
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.domain.history import local_midnight_in_utc
from portal.domain.money import BadAmount
from portal.domain.passwords import check_secret, hash_secret
from portal.domain.phones import format_msisdn
from portal.domain.promised import owed, pay_in
from portal.domain.sms import queue_sms
from portal.domain.sms_codes import new_code
from portal.models import Account, AccountStatus, LedgerEntry, Line, Transfer


@dataclass(frozen=True)
class TransferRules:
    minimum: int
    maximum: int
    day_maximum: int
    fee: int
    code_above: int  # amounts above this need the SMS code
    code_attempts: int
    sms_locale: str
    brand: str
    tz: str = "UTC"  # the day of the daily limit is the customer's

    @classmethod
    def from_config(cls, cfg) -> "TransferRules":
        return cls(cfg["TRANSFER_MIN"], cfg["TRANSFER_MAX"], cfg["TRANSFER_DAY_MAX"], cfg["TRANSFER_FEE"],
                   cfg["TRANSFER_CODE_ABOVE"], cfg["TRANSFER_CODE_ATTEMPTS"], cfg["BABEL_DEFAULT_LOCALE"],
                   cfg["BRAND"], cfg["BABEL_DEFAULT_TIMEZONE"])


class TransferRefused(DomainError):
    """The transfer cannot be made; the message says why."""


class WrongCode(DomainError):
    field = "code"


def _recipient(session: Session, msisdn: str, sender: Account) -> Account:
    account = session.scalar(select(Account).join(Line, Line.account_id == Account.id).where(Line.msisdn == msisdn))
    if account is None or account.status == AccountStatus.terminated.value:
        raise TransferRefused(_l("This number is not served by us: transfers go to our numbers only."),
                              field="recipient")
    if account.id == sender.id:
        raise TransferRefused(_l("This is the number you are sending from."), field="recipient")
    return account


def _sent_today(session: Session, account_id: int, now: datetime, tz: str) -> int:
    local_today = now.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz)).date()
    start = local_midnight_in_utc(local_today, tz)
    return -session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                           .where(LedgerEntry.account_id == account_id, LedgerEntry.kind == "transfer_out",
                                  LedgerEntry.created_at >= start))


def _check(session: Session, sender: Account, amount: int, rules: TransferRules, now: datetime) -> None:
    if not rules.minimum <= amount <= rules.maximum:
        raise BadAmount(_l("From %(min)s to %(max)s at a time.", min=formatting.money(rules.minimum, whole=True),
                           max=formatting.money(rules.maximum, whole=True)))
    if sender.status != AccountStatus.active.value:
        raise TransferRefused(_l("Transfers can be sent only from an active number."))
    if _sent_today(session, sender.id, now, rules.tz) + amount > rules.day_maximum:
        raise TransferRefused(_l("This would pass the limit of %(max)s a day.",
                                 max=formatting.money(rules.day_maximum, whole=True)), field="amount")
    # The promised credit is the operator's money until it is repaid: it may be spent on calls, not sent away.
    promised = owed(session, sender.id)
    available = sender.balance - promised - rules.fee
    if amount > available:
        if promised:
            raise TransferRefused(_l("The promised payment is not repaid yet: you can send at most %(amount)s.",
                                     amount=formatting.money(max(available, 0))), field="amount")
        raise TransferRefused(_l("The balance is too low for this transfer."), field="amount")


def start_transfer(session: Session, *, from_account_id: int, to_msisdn: str, amount: int, idempotency_key: str,
                   rules: TransferRules, actor: Actor, now: datetime) -> Transfer:
    """Send now, or for a large amount send a code by SMS and wait for it. A repeat changes nothing."""
    existing = session.scalar(select(Transfer).where(Transfer.idempotency_key == idempotency_key))
    if existing is not None:
        return existing
    sender = session.get(Account, from_account_id)
    if sender.line is None:  # a home contract: its money pays for internet and TV, the code goes to a line
        raise TransferRefused(_l("Money is sent from a mobile number: choose one in the switcher."),
                              field="recipient")
    _check(session, sender, amount, rules, now)  # first: a refused amount says nothing about the recipient
    recipient = _recipient(session, to_msisdn, sender)
    if not idempotency.KEY_FORMAT.match(idempotency_key or ""):
        raise DomainError(_l("The form has expired. Reload the page and try again."))
    if amount <= rules.code_above:
        return _send_now(session, sender.id, recipient.id, amount, idempotency_key, rules, actor, now)
    code = new_code()
    transfer = Transfer(token=secrets.token_urlsafe(18), from_account_id=sender.id, to_account_id=recipient.id,
                        amount=amount, fee=rules.fee, status="pending_code", idempotency_key=idempotency_key,
                        created_at=now, code_hash=hash_secret(code))
    session.add(transfer)
    if not idempotency.flush_once(session):  # the same form sent twice at once: the twin's transfer stands
        return session.scalar(select(Transfer).where(Transfer.idempotency_key == idempotency_key))
    with force_locale(alerts.owner_language(session, sender.id, rules.sms_locale)):
        text = gettext("%(brand)s: code %(code)s to send %(amount)s to %(number)s. Do not tell it to anyone.",
                       brand=rules.brand, code=code, amount=formatting.money(amount, whole=True),
                       number=format_msisdn(to_msisdn))
    queue_sms(session, to=sender.line.msisdn, text=text, purpose="transfer_code")
    record(session, actor, "transfer_code_sent", obj=transfer, account_id=sender.id, detail=str(amount))
    if not idempotency.commit_once(session):
        return session.scalar(select(Transfer).where(Transfer.idempotency_key == idempotency_key))
    return transfer


def confirm_transfer(session: Session, *, transfer: Transfer, code: str, rules: TransferRules, actor: Actor,
                     now: datetime) -> Transfer:
    """Check the SMS code (a few tries, 10 minutes), then send."""
    if transfer.status != "pending_code":
        return transfer
    if now - transfer.created_at > timedelta(minutes=10):
        _cancel(session, transfer, actor)
        raise WrongCode(_l("The code has expired. Start the transfer again."))
    if not check_secret(transfer.code_hash, (code or "").strip()[:12]):
        transfer.code_attempts += 1
        left = rules.code_attempts - transfer.code_attempts
        if left <= 0:
            _cancel(session, transfer, actor)
            raise WrongCode(_l("Wrong code again: the transfer is cancelled. No money was sent."))
        session.commit()
        raise WrongCode(_l("Wrong code. Attempts left: %(n)d.", n=left))
    return _send_pending(session, transfer, rules, actor, now)


def _cancel(session: Session, transfer: Transfer, actor: Actor) -> None:
    transfer.status = "cancelled"
    record(session, actor, "transfer_cancelled", obj=transfer, account_id=transfer.from_account_id)
    session.commit()


def _move(session: Session, transfer: Transfer, sender: Account, recipient: Account, actor: Actor,
          now: datetime) -> None:
    number = recipient.line.msisdn if recipient.line else ""
    out = ledger.post(session, sender, amount=-transfer.amount, kind="transfer_out",
                      key=f"transfer:{transfer.token}:out", now=now,
                      description=_l("To %(number)s", number=format_msisdn(number)))
    session.flush()
    pay_in(session, recipient, amount=transfer.amount, kind="transfer_in", key=f"transfer:{transfer.token}:in",
           description=_l("From %(number)s", number=format_msisdn(sender.line.msisdn)), now=now,
           related_entry_id=out.id)
    if transfer.fee:
        ledger.post(session, sender, amount=-transfer.fee, kind="service_fee", key=f"transfer:{transfer.token}:fee",
                    description=_l("Transfer fee"), now=now)
    transfer.status, transfer.done_at = "done", now
    record(session, actor, "transfer_sent", obj=transfer, account_id=sender.id,
           detail=f"{transfer.amount} to account {recipient.id}")


def _send_now(session: Session, sender_id: int, recipient_id: int, amount: int, key: str, rules: TransferRules,
              actor: Actor, now: datetime) -> Transfer:
    locked = lock_accounts(session, sender_id, recipient_id)
    twin = session.scalar(select(Transfer).where(Transfer.idempotency_key == key))
    if twin is not None:  # the same form, sent twice at once: the twin held the locks first and committed
        session.rollback()
        return twin
    try:
        _check(session, locked[sender_id], amount, rules, now)  # again, under the locks
    except DomainError:
        session.rollback()
        raise
    transfer = Transfer(token=secrets.token_urlsafe(18), from_account_id=sender_id, to_account_id=recipient_id,
                        amount=amount, fee=rules.fee, status="done", idempotency_key=key, created_at=now)
    session.add(transfer)
    _move(session, transfer, locked[sender_id], locked[recipient_id], actor, now)
    if not idempotency.commit_once(session):  # a twin submission got there first: its transfer stands
        return session.scalar(select(Transfer).where(Transfer.idempotency_key == key))
    return transfer


def _send_pending(session: Session, transfer: Transfer, rules: TransferRules, actor: Actor,
                  now: datetime) -> Transfer:
    locked = lock_accounts(session, transfer.from_account_id, transfer.to_account_id)
    transfer = session.get(Transfer, transfer.id, with_for_update=True, populate_existing=True)
    if transfer.status != "pending_code":
        session.rollback()
        return transfer
    try:
        _check(session, locked[transfer.from_account_id], transfer.amount, rules, now)
    except DomainError:
        session.rollback()
        raise
    _move(session, transfer, locked[transfer.from_account_id], locked[transfer.to_account_id], actor, now)
    session.commit()
    return transfer


def transfer_of_account(session: Session, *, token: str, account_id: int) -> Transfer:
    transfer = session.scalar(select(Transfer).where(Transfer.token == (token or "")[:40]))
    if transfer is None or transfer.from_account_id != account_id:
        raise NotFound("transfer")
    return transfer
