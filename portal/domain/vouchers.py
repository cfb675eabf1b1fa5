"""Prepaid cards: issued in batches, redeemed once, guessing limited per login and per IP."""
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from portal import formatting
from portal.domain.accounts import lock_account
from portal.domain.audit import Actor, record
from portal.domain.auth import TryLater
from portal.domain.errors import DomainError
from portal.domain.passwords import check_secret, hash_secret
from portal.domain.promised import pay_in
from portal.models import AccountStatus, AuditEvent, Voucher

CODE_DIGITS = 16
PIN_DIGITS = 4


class WrongVoucher(DomainError):
    field = "code"


@dataclass(frozen=True)
class IssuedVoucher:
    code: str  # shown once, to be printed on the card
    pin: str
    amount: int


def normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isdigit())[:32]


def code_digest(code: str, *, key: str) -> str:
    return hmac.new(key.encode(), b"voucher:" + normalise_code(code).encode(), hashlib.sha256).hexdigest()


def issue_vouchers(session: Session, *, count: int, amount: int, key: str, actor: Actor,
                   now: datetime) -> list[IssuedVoucher]:
    """A batch of new cards; their codes and PINs exist in clear only in the returned list."""
    if not 1 <= count <= 1000 or not 100 <= amount <= 10_000_00:
        raise DomainError(_l("From 1 to 1000 cards of %(min)s to %(max)s.", min=formatting.money(100, whole=True),
                             max=formatting.money(10_000_00, whole=True)), field="count")
    issued = []
    for _ in range(count):
        code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
        pin = "".join(secrets.choice("0123456789") for _ in range(PIN_DIGITS))
        session.add(Voucher(code_digest=code_digest(code, key=key), pin_hash=hash_secret(pin), amount=amount,
                            created_at=now, issued_by_staff_id=actor.staff_id))
        issued.append(IssuedVoucher(code, pin, amount))
    record(session, actor, "vouchers_issued", detail=f"{count} x {amount}")
    session.commit()
    return issued


def _failures(session: Session, *, login_id: int | None, ip: str | None, since: datetime) -> int:
    who = [AuditEvent.login_id == login_id] if login_id else []
    if ip:
        who.append(AuditEvent.ip == ip)
    if not who:
        return 0
    return session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "voucher_failed", AuditEvent.created_at > since, or_(*who)))


def redeem_voucher(session: Session, *, account_id: int, code: str, pin: str, key: str, max_failures: int,
                   actor: Actor, now: datetime) -> Voucher:
    """Credit the card's amount once. Wrong code, wrong PIN and a used card get one answer, and count."""
    if _failures(session, login_id=actor.login_id, ip=actor.ip, since=now - timedelta(hours=1)) >= max_failures:
        raise TryLater(_l("Too many wrong card numbers."), now + timedelta(hours=1), field="code")
    account = lock_account(session, account_id)
    if account is None or account.status == AccountStatus.terminated.value:
        raise DomainError(_l("This account cannot be topped up."))
    voucher = session.scalar(select(Voucher).where(Voucher.code_digest == code_digest(code, key=key))
                             .with_for_update())
    if voucher is None or voucher.used_at is not None or not check_secret(voucher.pin_hash, (pin or "").strip()[:8]):
        record(session, actor, "voucher_failed", account_id=account_id,
               detail="used" if voucher is not None and voucher.used_at else "wrong code or PIN")
        session.commit()
        raise WrongVoucher(_l("Wrong card number or PIN, or the card has been used."))
    voucher.used_by_account_id, voucher.used_at = account.id, now
    pay_in(session, account, amount=voucher.amount, kind="voucher", key=f"voucher:{voucher.id}",
           description=_l("Prepaid card"), now=now)
    record(session, actor, "voucher_redeemed", obj=voucher, account_id=account.id, detail=str(voucher.amount))
    session.commit()
    return voucher
