"""Switching the personal account off, and on again.

Closing disables the login and ends every session; the lines, contracts, money
and settings stay as they are. A later SMS password switches it on again (see
auth._use_temporary_password).
"""
from datetime import datetime

from flask_babel import force_locale, gettext
from sqlalchemy import update
from sqlalchemy.orm import Session

from portal.domain import auth, sms_codes
from portal.domain.audit import Actor, record
from portal.domain.sms_codes import WrongCode, code_phone
from portal.models import Login, LoginSession

__all__ = ["PURPOSE", "WrongCode", "close", "code_phone", "send_code"]

PURPOSE = "close_code"


def send_code(session: Session, *, login_id: int, actor: Actor, now: datetime, policy: auth.AuthPolicy) -> None:
    """A code by SMS to the login's own number (a home contract's: its contact phone, where its SMS passwords
    go); a newer code replaces the older one."""
    login = session.get(Login, login_id)

    def text(code: str) -> str:
        with force_locale(login.language or policy.sms_locale):
            return gettext("%(brand)s: code %(code)s to switch your personal account off. If it is not you, "
                           "ignore this SMS.", brand=policy.brand, code=code)

    sms_codes.send(session, login=login, purpose=PURPOSE, text=text, now=now)
    record(session, actor, "close_code_sent", obj=login)
    session.commit()


def close(session: Session, *, login_id: int, code: str, actor: Actor, now: datetime,
          policy: auth.AuthPolicy) -> None:
    """Check the code (the usual failed-attempt lock applies), then disable the login and end its sessions."""
    sms_codes.use(session, login_id=login_id, purpose=PURPOSE, code=code, now=now, policy=policy)
    login = session.get(Login, login_id)
    login.enabled = False
    session.execute(update(LoginSession).where(LoginSession.login_id == login_id, LoginSession.revoked_at.is_(None))
                    .values(revoked_at=now))
    record(session, actor, "personal_account_closed", obj=login)
    session.commit()
