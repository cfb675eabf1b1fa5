"""Switching the personal account off, and on again.

Closing disables the login and ends every session; the lines, contracts, money
and settings stay as they are. A later SMS password switches it on again (see
auth._use_temporary_password).
"""
import secrets
from datetime import datetime, timedelta

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from portal.domain import auth
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError
from portal.domain.passwords import check_secret, hash_secret
from portal.domain.sms import queue_sms
from portal.models import Challenge, Login, LoginSession, LoginThrottle

PURPOSE = "close_code"
CODE_TTL = timedelta(minutes=10)


class WrongCode(DomainError):
    field = "code"


def _throttle_key(login_id: int) -> str:
    return f"close:{login_id}"


def code_phone(login: Login) -> str | None:
    """Where the switch-off code goes: the login's own line, or its home contract's contact phone."""
    account = login.primary_account
    if account.line is not None:
        return account.line.msisdn
    return account.home_contract.contact_phone if account.home_contract else None


def send_code(session: Session, *, login_id: int, actor: Actor, now: datetime, policy: auth.AuthPolicy) -> None:
    """A code by SMS to the login's own number (a home contract's: its contact phone, where its SMS passwords
    go); a newer code replaces the older one."""
    login = session.get(Login, login_id)
    phone = code_phone(login)
    if phone is None:
        raise WrongCode(_l("There is no phone number to send the code to."), field=None)
    code = "".join(secrets.choice("0123456789") for _ in range(6))
    session.execute(delete(Challenge).where(Challenge.login_id == login.id, Challenge.purpose == PURPOSE))
    session.add(Challenge(token=secrets.token_urlsafe(24), purpose=PURPOSE, login_id=login.id,
                          secret_hash=hash_secret(code), created_at=now, expires_at=now + CODE_TTL))
    with force_locale(login.language or policy.sms_locale):
        text = gettext("%(brand)s: code %(code)s to switch your personal account off. If it is not you, ignore "
                       "this SMS.", brand=policy.brand, code=code)
    queue_sms(session, to=phone, text=text, purpose=PURPOSE)
    record(session, actor, "close_code_sent", obj=login)
    session.commit()


def close(session: Session, *, login_id: int, code: str, actor: Actor, now: datetime,
          policy: auth.AuthPolicy) -> None:
    """Check the code (the usual failed-attempt lock applies), then disable the login and end its sessions."""
    key = _throttle_key(login_id)
    auth.check_not_throttled(session, identifier=key, ip=None, now=now, policy=policy)
    challenge = session.scalar(select(Challenge).where(
        Challenge.login_id == login_id, Challenge.purpose == PURPOSE, Challenge.used_at.is_(None),
        Challenge.expires_at > now))
    if challenge is None:
        raise WrongCode(_l("The code has expired or was not requested. Ask for a new one."))
    if not check_secret(challenge.secret_hash, (code or "").strip()[:12]):
        auth.count_failure(session, identifier=key, now=now, policy=policy)
        session.commit()
        raise WrongCode(_l("Wrong code."))
    challenge.used_at = now
    login = session.get(Login, login_id)
    login.enabled = False
    session.execute(update(LoginSession).where(LoginSession.login_id == login_id, LoginSession.revoked_at.is_(None))
                    .values(revoked_at=now))
    session.execute(delete(LoginThrottle).where(LoginThrottle.identifier == key))
    record(session, actor, "personal_account_closed", obj=login)
    session.commit()
