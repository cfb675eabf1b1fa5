"""One-time codes sent by SMS to the login's own number, to confirm an action (switching the personal account
off, accepting a document). Only the code's hash is kept (a Challenge), a newer code replaces the older one,
it lives CODE_TTL, and wrong codes count as failed sign-ins do (the lock of portal.domain.auth applies)."""
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.domain import auth
from portal.domain.errors import DomainError
from portal.domain.passwords import check_secret, hash_secret
from portal.domain.sms import queue_sms
from portal.models import Challenge, Login

CODE_TTL = timedelta(minutes=10)


class WrongCode(DomainError):
    field = "code"


def new_code() -> str:
    """A six-digit code for an SMS: short enough to type from a phone's notification."""
    return "".join(secrets.choice("0123456789") for _ in range(6))


def code_phone(login: Login) -> str | None:
    """Where a login's codes go: its own line, or its home contract's contact phone (where its SMS passwords go)."""
    account = login.primary_account
    if account.line is not None:
        return account.line.msisdn
    return account.home_contract.contact_phone if account.home_contract else None


def send(session: Session, *, login: Login, purpose: str, text: Callable[[str], str], now: datetime) -> str:
    """A new code for ``purpose`` by SMS (``text(code)`` is the message); returns the number it went to. The
    caller commits."""
    phone = code_phone(login)
    if phone is None:
        raise WrongCode(_l("There is no phone number to send the code to."), field=None)
    code = new_code()
    session.execute(delete(Challenge).where(Challenge.login_id == login.id, Challenge.purpose == purpose))
    session.add(Challenge(token=secrets.token_urlsafe(24), purpose=purpose, login_id=login.id,
                          secret_hash=hash_secret(code), created_at=now, expires_at=now + CODE_TTL))
    queue_sms(session, to=phone, text=text(code), purpose=purpose.split(":")[0])
    return phone


def use(session: Session, *, login_id: int, purpose: str, code: str, now: datetime,
        policy: auth.AuthPolicy) -> Challenge:
    """The unexpired code for ``purpose``, marked used, if ``code`` is it; else WrongCode (a wrong one is counted
    and committed). The caller commits what the code confirms, with the code's use."""
    key = f"code:{login_id}"
    auth.check_not_throttled(session, identifier=key, ip=None, now=now, policy=policy)
    challenge = session.scalar(select(Challenge).where(
        Challenge.login_id == login_id, Challenge.purpose == purpose, Challenge.used_at.is_(None),
        Challenge.expires_at > now))
    if challenge is None:
        raise WrongCode(_l("The code has expired or was not requested. Ask for a new one."))
    if not check_secret(challenge.secret_hash, (code or "").strip()[:12]):
        auth.count_failure(session, identifier=key, now=now, policy=policy)
        session.commit()
        raise WrongCode(_l("Wrong code."))
    challenge.used_at = now
    auth.clear_failures(session, identifier=key, ip=None)
    return challenge
