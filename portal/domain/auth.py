"""Customer sign-in: the SMS password, login with throttling, sessions, password change."""
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from portal.domain import alerts, captcha
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError
from portal.domain.passwords import check_new_password, check_secret, generate_temporary_password, hash_secret
from portal.domain.phones import mask_msisdn, parse_msisdn
from portal.domain.sms import queue_sms
from portal.models import (
    Account,
    AccountStatus,
    AuditEvent,
    Challenge,
    HomeContract,
    Line,
    Login,
    LoginAccount,
    LoginSession,
    LoginThrottle,
    PasswordRequest,
)

TEMP_PASSWORD = "temp_password"


@dataclass(frozen=True)
class AuthPolicy:
    """The limits of DESIGN.md §4, taken from the app config."""

    captcha_key: str
    captcha_length: int
    captcha_ttl: timedelta
    captcha_test_answer: str | None
    sms_quotas: tuple[tuple[int, int], ...]
    sms_global_per_minute: int
    temp_password_length: int
    temp_password_ttl: timedelta
    max_failures: int
    lock_base: timedelta
    lock_max: timedelta
    ip_failures_per_hour: int
    password_min_length: int
    brand: str
    sms_locale: str  # SMS go out in the operator's language, whatever the web page's

    @classmethod
    def from_config(cls, cfg) -> "AuthPolicy":
        return cls(
            captcha_key=cfg["SECRET_KEY"], captcha_length=cfg["CAPTCHA_LENGTH"], captcha_ttl=cfg["CAPTCHA_TTL"],
            captcha_test_answer=cfg["CAPTCHA_TEST_ANSWER"] if cfg["TESTING"] else None,
            sms_quotas=tuple(tuple(q) for q in cfg["SMS_QUOTAS"]), sms_global_per_minute=cfg["SMS_GLOBAL_PER_MINUTE"],
            temp_password_length=cfg["TEMP_PASSWORD_LENGTH"], temp_password_ttl=cfg["TEMP_PASSWORD_TTL"],
            max_failures=cfg["LOGIN_MAX_FAILURES"], lock_base=cfg["LOGIN_LOCK_BASE"], lock_max=cfg["LOGIN_LOCK_MAX"],
            ip_failures_per_hour=cfg["LOGIN_IP_MAX_FAILURES_PER_HOUR"],
            password_min_length=cfg["PASSWORD_MIN_LENGTH"], brand=cfg["BRAND"],
            sms_locale=cfg["BABEL_DEFAULT_LOCALE"],
        )


class TryLater(DomainError):
    """A quota or a lock stops the request until ``retry_after``."""

    status = 429

    def __init__(self, message, retry_after: datetime, field: str | None = None):
        super().__init__(message, field)
        self.retry_after = retry_after


class LoginFailed(DomainError):
    field = "password"


WRONG_CREDENTIALS = _l("Wrong number or password.")


CONTRACT_NO = re.compile(r"^([A-Za-z]{2,4})-?(\d{4,10})$")


def parse_contract_no(text: str) -> str | None:
    """A home contract number in its stored form (``hc100200`` → ``HC-100200``), or None if it is not one."""
    found = CONTRACT_NO.match((text or "").strip())
    return f"{found.group(1).upper()}-{found.group(2)}" if found else None


def parse_identifier(text: str, region: str = "RU") -> str:
    """What people sign in with: a phone number (→ E.164) or a home contract number (→ ``HC-100200``)."""
    return parse_contract_no(text) or parse_msisdn(text, region)


def is_contract(identifier: str) -> bool:
    return not identifier.startswith("+")


def mask_identifier(identifier: str) -> str:
    return identifier if is_contract(identifier) else mask_msisdn(identifier)


def login_for_msisdn(session: Session, msisdn: str) -> tuple[Account | None, Login | None]:
    """The live account a phone number or a home contract number signs in to, and its login if it has one."""
    if is_contract(msisdn):
        join, match = (HomeContract, HomeContract.account_id == Account.id), HomeContract.contract_no == msisdn
    else:
        join, match = (Line, Line.account_id == Account.id), Line.msisdn == msisdn
    row = session.execute(
        select(Account, Login)
        .join(*join)
        .outerjoin(Login, Login.primary_account_id == Account.id)
        .where(match, Account.status != AccountStatus.terminated.value)
    ).first()
    return (row[0], row[1]) if row else (None, None)


def serves(session: Session, msisdn: str) -> bool:
    """Whether the number is one of our lines that may sign in."""
    return login_for_msisdn(session, msisdn)[0] is not None


def _ensure_login(session: Session, account: Account, login: Login | None, now: datetime) -> Login:
    if login is None:
        login = Login(primary_account_id=account.id, created_at=now)
        session.add(login)
        session.flush()
        session.add(LoginAccount(login_id=login.id, account_id=account.id, created_at=now))
    return login


def send_temporary_password(session: Session, *, account: Account, login: Login | None, msisdn: str, now: datetime,
                            policy: AuthPolicy) -> Login:
    """Queue an SMS with a new temporary password for the line's login (made if it has none yet)."""
    login = _ensure_login(session, account, login, now)
    # A newer temporary password replaces any older one.
    session.execute(delete(Challenge).where(Challenge.login_id == login.id, Challenge.purpose == TEMP_PASSWORD))
    password = generate_temporary_password(policy.temp_password_length)
    session.add(Challenge(token=secrets.token_urlsafe(24), purpose=TEMP_PASSWORD, login_id=login.id,
                          secret_hash=hash_secret(password), created_at=now,
                          expires_at=now + policy.temp_password_ttl))
    hours = int(policy.temp_password_ttl.total_seconds() // 3600)
    with force_locale(policy.sms_locale):
        if account.home_contract is not None:
            text = gettext("%(brand)s: password %(password)s for contract %(contract)s (valid %(hours)d h). "
                           "Never tell it to anyone.", brand=policy.brand, password=password, hours=hours,
                           contract=account.home_contract.contract_no)
        else:
            text = gettext("%(brand)s: your password %(password)s (valid %(hours)d h). Never tell it to anyone.",
                           brand=policy.brand, password=password, hours=hours)
    queue_sms(session, to=msisdn, purpose="password", text=text)
    return login


def request_sms_password(session: Session, *, msisdn: str, captcha_token: str, captcha_answer: str, ip: str | None,
                         now: datetime, policy: AuthPolicy) -> None:
    """Send a temporary password to ``msisdn`` if it is ours and every quota allows.

    The captcha is used up whatever happens next. The outcome is the same for a
    number we do not serve (no enumeration): quotas count requests, not SMS.
    """
    try:
        captcha.consume(session, token=captcha_token, answer=captcha_answer, now=now,
                        test_answer=policy.captcha_test_answer)
    except captcha.WrongCaptcha:
        session.commit()  # the attempt used the picture up
        raise
    # Row lock on our line (or contract) serialises concurrent requests for one identifier (PostgreSQL).
    details = (HomeContract, HomeContract.contract_no) if is_contract(msisdn) else (Line, Line.msisdn)
    account_id = session.scalar(select(details[0].account_id).where(details[1] == msisdn).with_for_update())
    retry_after = _quota_retry_after(session, msisdn=msisdn, now=now, policy=policy)
    if retry_after:
        session.commit()
        raise TryLater(_l("Too many requests for this number."), retry_after, field="phone")
    account, login = login_for_msisdn(session, msisdn) if account_id else (None, None)
    # A home contract's password goes to its contact phone; without one it cannot get an SMS.
    to = (account.home_contract.contact_phone if is_contract(msisdn) else msisdn) if account else None
    session.add(PasswordRequest(msisdn=msisdn, ip=ip, created_at=now, sent=to is not None))
    actor = Actor(ip=ip)
    if to is None:
        record(session, actor, "sms_password_requested", detail=mask_identifier(msisdn) + " (not served)")
        session.commit()
        return
    login = send_temporary_password(session, account=account, login=login, msisdn=to, now=now, policy=policy)
    record(session, Actor(login_id=login.id, account_id=account.id, ip=ip), "sms_password_requested",
           obj=login, detail=mask_identifier(msisdn))
    session.commit()


def _quota_retry_after(session: Session, *, msisdn: str, now: datetime, policy: AuthPolicy) -> datetime | None:
    waits = []
    longest = max(seconds for _, seconds in policy.sms_quotas)
    times = session.scalars(
        select(PasswordRequest.created_at)
        .where(PasswordRequest.msisdn == msisdn, PasswordRequest.created_at > now - timedelta(seconds=longest))
        .order_by(PasswordRequest.created_at.desc())
    ).all()
    for limit, seconds in policy.sms_quotas:
        in_window = [t for t in times if t > now - timedelta(seconds=seconds)]
        if len(in_window) >= limit:
            waits.append(in_window[limit - 1] + timedelta(seconds=seconds))
    sent_last_minute = session.scalar(
        select(func.count()).select_from(PasswordRequest)
        .where(PasswordRequest.sent.is_(True), PasswordRequest.created_at > now - timedelta(minutes=1))
    )
    if sent_last_minute >= policy.sms_global_per_minute:
        waits.append(now + timedelta(minutes=1))
    return max(waits) if waits else None


def authenticate(session: Session, *, msisdn: str, password: str, ip: str | None, now: datetime,
                 policy: AuthPolicy) -> Login:
    """Check number and password (permanent or temporary); count and lock failures.

    The same message for an unknown number and a wrong password; locks apply to any
    number typed, ours or not, so they tell nothing either.
    """
    check_not_throttled(session, identifier=msisdn, ip=ip, now=now, policy=policy)
    account, login = login_for_msisdn(session, msisdn)
    password = password[:128]
    # A switched-off login opens with a new SMS password only (see domain.closing).
    ok = login is not None and (
        (login.enabled and check_secret(login.password_hash, password))
        or _use_temporary_password(session, login, password, now))
    if not ok:
        count_failure(session, identifier=msisdn, now=now, policy=policy)
        record(session, Actor(login_id=login.id if login else None, ip=ip), "login_failed",
               detail=mask_identifier(msisdn))
        session.commit()
        raise LoginFailed(WRONG_CREDENTIALS)
    session.execute(delete(LoginThrottle).where(LoginThrottle.identifier == msisdn))
    record(session, Actor(login_id=login.id, account_id=account.id, ip=ip), "login", obj=login,
           detail="sms password" if login.must_change_password else "password")
    session.flush()
    return login


def _use_temporary_password(session: Session, login: Login, password: str, now: datetime) -> bool:
    challenge = session.scalar(
        select(Challenge).where(Challenge.login_id == login.id, Challenge.purpose == TEMP_PASSWORD,
                                Challenge.used_at.is_(None), Challenge.expires_at > now)
    )
    # The temporary password is typed from an SMS: letters are matched in any case.
    if challenge is None or not check_secret(challenge.secret_hash, password.strip().lower()):
        return False
    challenge.used_at = now
    login.must_change_password = True
    if not login.enabled:
        login.enabled = True
        record(session, Actor(login_id=login.id, account_id=login.primary_account_id), "personal_account_reopened",
               obj=login)
    return True


def check_not_throttled(session: Session, *, identifier: str, ip: str | None, now: datetime,
                         policy: AuthPolicy) -> None:
    throttle = session.get(LoginThrottle, identifier)
    if throttle and throttle.locked_until and throttle.locked_until > now:
        raise TryLater(_l("Too many failed attempts."), throttle.locked_until, field="password")
    if ip:
        failures = session.scalar(
            select(func.count()).select_from(AuditEvent)
            .where(AuditEvent.ip == ip, AuditEvent.action.in_(("login_failed", "staff_login_failed")),
                   AuditEvent.created_at > now - timedelta(hours=1))
        )
        if failures >= policy.ip_failures_per_hour:
            raise TryLater(_l("Too many failed attempts from your network."), now + timedelta(hours=1),
                           field="password")


def count_failure(session: Session, *, identifier: str, now: datetime, policy: AuthPolicy) -> None:
    throttle = session.get(LoginThrottle, identifier, with_for_update=True)
    if throttle is None:
        throttle = LoginThrottle(identifier=identifier, failures=0)
        session.add(throttle)
    throttle.failures += 1
    throttle.updated_at = now
    over = throttle.failures - policy.max_failures
    if over >= 0:
        # 1, 2, 4, 8 … minutes: a person who forgot waits a little, a guesser waits for ever.
        throttle.locked_until = now + min(policy.lock_base * 2 ** min(over, 20), policy.lock_max)


def network_login(session: Session, *, msisdn: str, ip: str | None, now: datetime) -> Login:
    """Sign in the number the operator's gateway vouched for (the caller checked the gateway)."""
    account, login = login_for_msisdn(session, msisdn)
    if account is None:
        raise LoginFailed(_l("This number cannot sign in here."))
    if login is not None and not login.enabled:
        raise LoginFailed(_l("Your personal account is switched off. Get a password by SMS to switch it on again."))
    login = _ensure_login(session, account, login, now)
    record(session, Actor(login_id=login.id, account_id=account.id, ip=ip), "login", obj=login,
           detail="operator network")
    session.flush()
    return login


def open_session(session: Session, *, login: Login, ip: str | None, user_agent: str | None,
                 now: datetime) -> LoginSession:
    """Start a device session (commits, together with the login's audit event)."""
    user_agent = (user_agent or "")[:300]
    known = set(session.scalars(select(LoginSession.user_agent).where(LoginSession.login_id == login.id)))
    web_session = LoginSession(token=secrets.token_urlsafe(32), login_id=login.id, created_at=now,
                               last_seen_at=now, ip=ip, user_agent=user_agent)
    session.add(web_session)
    account = login.primary_account
    if known and user_agent not in known:
        alerts.notify(session, account=account, event="new_device", now=now, ip=ip or "?",
                      message=_l("a sign-in to your personal account from a new device (IP %(ip)s). If it was not "
                                 "you, change your password."))
    alerts.notify(session, account=account, event="login", now=now, ip=ip or "?",
                  message=_l("a sign-in to your personal account (IP %(ip)s)."))
    session.commit()
    return web_session


def load_session(session: Session, token: str, *, now: datetime) -> LoginSession | None:
    web_session = session.scalar(
        select(LoginSession).where(LoginSession.token == token, LoginSession.revoked_at.is_(None))
    )
    if web_session is None or not web_session.login.enabled:
        return None
    if now - web_session.last_seen_at > timedelta(minutes=5):  # a write per request would be waste
        web_session.last_seen_at = now
        session.commit()
    return web_session


def close_session(session: Session, *, token: str, actor: Actor, now: datetime) -> None:
    web_session = session.scalar(select(LoginSession).where(LoginSession.token == token))
    if web_session and web_session.revoked_at is None:
        web_session.revoked_at = now
        record(session, actor, "logout", obj=web_session)
        session.commit()


class WrongPassword(DomainError):
    field = "current_password"


def change_password(session: Session, *, login_id: int, current_password: str | None, new_password: str,
                    keep_session_token: str | None, actor: Actor, now: datetime, policy: AuthPolicy) -> None:
    """Set a new permanent password and end every other session of the login."""
    login = session.get(Login, login_id)
    if not login.must_change_password and not check_secret(login.password_hash, (current_password or "")[:128]):
        raise WrongPassword(_l("This is not your current password."))
    msisdn = login.primary_account.line.msisdn if login.primary_account.line else None
    check_new_password(new_password, msisdn=msisdn, min_length=policy.password_min_length)
    login.password_hash = hash_secret(new_password)
    login.must_change_password = False
    login.password_changed_at = now
    session.execute(delete(Challenge).where(Challenge.login_id == login.id, Challenge.purpose == TEMP_PASSWORD))
    session.execute(
        update(LoginSession)
        .where(LoginSession.login_id == login.id, LoginSession.revoked_at.is_(None),
               LoginSession.token != (keep_session_token or ""))
        .values(revoked_at=now)
    )
    record(session, actor, "password_changed", obj=login)
    session.commit()
