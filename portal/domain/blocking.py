"""Blocking a number at the owner's request (lost or stolen, or for a while) and unblocking it.

An owner's block stops calls, SMS and internet at once and keeps the balance. The
owner lifts it with the login's password (counted by the same throttle as signing
in); staff may lift it too. Suspension for debt is not the owner's to lift: paying
restores the line.
"""
from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import provisioning
from portal.domain.accounts import accounts_of_login, lock_accounts
from portal.domain.alerts import owner_language
from portal.domain.audit import Actor, record
from portal.domain.auth import AuthPolicy, check_not_throttled, count_failure, login_identifier
from portal.domain.errors import DomainError, NotFound
from portal.domain.passwords import check_secret
from portal.domain.phones import format_msisdn, mask_msisdn
from portal.domain.sms import queue_sms
from portal.models import Account, AccountStatus, Login

ACTIVE = AccountStatus.active.value
# The owner's two blocks, by the reason chosen on the page.
REASONS = {"lost": AccountStatus.blocked_lost.value, "voluntary": AccountStatus.blocked_by_owner.value}
OWNER_BLOCKS = frozenset(REASONS.values())
# Audit actions (the archive labels them).
BLOCKED_ACTIONS = {AccountStatus.blocked_lost.value: "number_blocked_lost",
                   AccountStatus.blocked_by_owner.value: "number_blocked_voluntary"}
UNBLOCKED = "number_unblocked"
# The switch commands of a block and an unblock share one subject: the latest says where the line stands.
SWITCH_SUBJECT = "line"


class BlockRefused(DomainError):
    """The number cannot be blocked or unblocked this way; the message says why."""


class WrongPassword(DomainError):
    field = "password"


@dataclass(frozen=True)
class NoticeText:
    """How the SMS notices are worded: the operator's language and brand."""

    sms_locale: str
    brand: str


def block_refusal(account: Account):
    """Why the owner cannot block this account now (None: they can)."""
    if account.kind != "mobile" or account.line is None:
        return _l("Only a mobile number can be blocked here.")
    if account.status == AccountStatus.suspended.value:
        return _l("The number is already suspended for debt: calls, SMS and internet are stopped. "
                  "Top up the balance to restore it.")
    if account.status == AccountStatus.terminated.value:
        return _l("The contract for this number is terminated.")
    return None


def unblock_refusal(account: Account):
    """Why the owner cannot unblock this account (None: they can, or it is active already)."""
    if account.home_contract is not None and account.status != ACTIVE:
        # A home contract's block is its holiday pause (portal.domain.home_pause), ended on its own page.
        return _l("A paused home contract is resumed from its home page.")
    if account.status == AccountStatus.suspended.value:
        return _l("A number suspended for debt is not unblocked here: top up the balance and it is restored.")
    if account.status == AccountStatus.terminated.value:
        return _l("The contract for this number is terminated.")
    return None


def _notify_other_numbers(session: Session, *, login_id: int | None, account: Account, text: str) -> int:
    """An SMS notice to the login's other active mobile numbers (the blocked phone may be in a thief's hands)."""
    if login_id is None:
        return 0
    sent = 0
    for other in accounts_of_login(session, login_id):
        if other.id != account.id and other.kind == "mobile" and other.line and other.status == ACTIVE:
            queue_sms(session, to=other.line.msisdn, text=text, purpose="notice")
            sent += 1
    return sent


def _owner_login_id(session: Session, account: Account) -> int | None:
    """The login whose primary account this is (staff actions notify its other numbers)."""
    return session.scalar(select(Login.id).where(Login.primary_account_id == account.id))


def block_number(session: Session, *, account_id: int, reason: str, actor: Actor, now: datetime,
                 wording: NoticeText) -> bool:
    """Block now at the owner's request; False when it was blocked already (nothing changes, no second SMS)."""
    status = REASONS.get(reason)
    if status is None:
        raise BlockRefused(_l("Choose why the number is blocked."))
    account = lock_accounts(session, account_id).get(account_id)
    if account is None:
        raise NotFound("account")
    if account.status in OWNER_BLOCKS:
        session.rollback()
        return False
    refusal = block_refusal(account)
    if refusal:
        session.rollback()
        raise BlockRefused(refusal)
    account.status = status
    # The switch stops calls, SMS and internet; the page shows when the network has done it.
    provisioning.queue_command(session, account, subject=SWITCH_SUBJECT, operation="line.block",
                               params={"reason": reason})
    record(session, actor, BLOCKED_ACTIONS[status], obj=account, account_id=account.id,
           detail=mask_msisdn(account.line.msisdn))
    with force_locale(owner_language(session, account.id, wording.sms_locale)):
        if status == AccountStatus.blocked_lost.value:
            text = gettext("%(brand)s: number %(number)s is blocked as lost or stolen. The balance is kept. "
                           "To unblock it, sign in to your personal account.",
                           brand=wording.brand, number=format_msisdn(account.line.msisdn))
        else:
            text = gettext("%(brand)s: number %(number)s is blocked at your request. The balance is kept. "
                           "To unblock it, sign in to your personal account.",
                           brand=wording.brand, number=format_msisdn(account.line.msisdn))
    _notify_other_numbers(session, login_id=actor.login_id, account=account, text=text)
    session.commit()
    return True


def _unblock(session: Session, account: Account, actor: Actor, wording: NoticeText, detail: str,
             login_id: int | None) -> None:
    account.status = ACTIVE
    if account.line is not None:
        provisioning.queue_command(session, account, subject=SWITCH_SUBJECT, operation="line.unblock")
    record(session, actor, UNBLOCKED, obj=account, account_id=account.id, detail=detail[:500])
    with force_locale(owner_language(session, account.id, wording.sms_locale)):
        text = gettext("%(brand)s: number %(number)s is unblocked: calls, SMS and internet work again.",
                       brand=wording.brand, number=format_msisdn(account.line.msisdn) if account.line else "")
    _notify_other_numbers(session, login_id=login_id, account=account, text=text)
    session.commit()


def unblock_number(session: Session, *, account_id: int, login_id: int, password: str, actor: Actor,
                   now: datetime, policy: AuthPolicy, wording: NoticeText) -> bool:
    """Lift the owner's block once the login's password is typed again; False when it was not blocked.

    A wrong password counts as a failed sign-in of this login (same lock, same per-IP limit),
    so the unblock form cannot be used to guess it.
    """
    login = session.get(Login, login_id)
    identifier = login_identifier(login)
    check_not_throttled(session, identifier=identifier, ip=actor.ip, now=now, policy=policy)
    if not check_secret(login.password_hash, (password or "")[:128]):
        count_failure(session, identifier=identifier, ip=actor.ip, now=now, policy=policy)
        shown = mask_msisdn(identifier) if identifier.startswith("+") else identifier
        record(session, actor, "login_failed", obj=login, detail=f"unblock: {shown}")
        session.commit()
        raise WrongPassword(_l("This is not your password."))
    account = lock_accounts(session, account_id).get(account_id)
    if account is None:
        raise NotFound("account")
    if account.status == ACTIVE:
        session.rollback()
        return False
    refusal = unblock_refusal(account)
    if refusal or account.status not in OWNER_BLOCKS:
        session.rollback()
        raise BlockRefused(refusal or _l("This number cannot be unblocked here."))
    _unblock(session, account, actor, wording, "owner", login_id)
    return True


def staff_unblock(session: Session, *, account_id: int, reason: str, actor: Actor, now: datetime,
                  wording: NoticeText) -> bool:
    """Support lifts an owner's block (the customer called, identity checked); always with a reason."""
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise BlockRefused(_l("Say why, in a few words: it stays in the customer's history."), field="reason")
    account = lock_accounts(session, account_id).get(account_id)
    if account is None:
        raise NotFound("account")
    if account.status == ACTIVE:
        session.rollback()
        return False
    if account.status not in OWNER_BLOCKS:
        session.rollback()
        raise BlockRefused(unblock_refusal(account) or _l("This number cannot be unblocked here."))
    _unblock(session, account, actor, wording, f"staff: {reason}", _owner_login_id(session, account))
    return True
