"""Customer sign-in: the SMS password, login with throttling, sessions, password change."""
import hashlib
import hmac
import ipaddress
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, func, select, text, update
from sqlalchemy.orm import Session

from portal.domain import alerts, captcha
from portal.domain.audit import SYSTEM, Actor, record
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
    SmsMessage,
    StaffSession,
)

TEMP_PASSWORD = "temp_password"
PASSWORD_SMS_PURPOSE = "password"
PASSWORD_PENDING_KEY = "password_requests_pending"  # session.info: requests for the job after commit


@dataclass(frozen=True)
class AuthPolicy:
    """The limits of docs/architecture.md §4, taken from the app config."""

    captcha_key: str  # the app's SECRET_KEY: it keys the captcha answers and the SMS-password digests
    captcha_length: int
    captcha_ttl: timedelta
    captcha_test_answer: str | None
    sms_quotas: tuple[tuple[int, int], ...]
    sms_global_per_minute: int
    temp_password_length: int
    temp_password_ttl: timedelta
    temp_passwords_valid: int  # the newest this many unexpired SMS passwords all work until one is used
    max_failures: int  # in a row, for one identifier from one network
    max_failures_all_networks: int  # for one identifier from anywhere: then only an SMS password opens it
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
            temp_passwords_valid=cfg["TEMP_PASSWORDS_VALID"], max_failures=cfg["LOGIN_MAX_FAILURES"],
            max_failures_all_networks=cfg["LOGIN_MAX_FAILURES_ALL_NETWORKS"], lock_base=cfg["LOGIN_LOCK_BASE"],
            lock_max=cfg["LOGIN_LOCK_MAX"],
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
SWITCHED_OFF = _l("Your personal account is switched off. Get a password by SMS to switch it on again.")


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


def temporary_password_digest(password: str, *, key: str) -> str:
    """A keyed digest of an SMS password.

    Not a slow password hash: the password is random (8 of 31 letters), lives minutes and
    is used once, and a fast digest keeps the request for a number we serve as quick as the
    one for a number we do not (a slow hash there would tell them apart by time).
    """
    return hmac.new(key.encode(), b"temp-password:" + password.encode(), hashlib.sha256).hexdigest()


def send_temporary_password(session: Session, *, account: Account, login: Login | None, msisdn: str, now: datetime,
                            policy: AuthPolicy) -> Login:
    """Queue an SMS with a new temporary password for the line's login (made if it has none yet).

    The newest ``temp_passwords_valid`` unexpired ones stay valid, so a late SMS still works
    after the customer asked again; the oldest beyond that end now.
    """
    login = _ensure_login(session, account, login, now)
    keep = session.scalars(
        select(Challenge.id).where(Challenge.login_id == login.id, Challenge.purpose == TEMP_PASSWORD,
                                   Challenge.used_at.is_(None), Challenge.expires_at > now)
        .order_by(Challenge.created_at.desc(), Challenge.id.desc()).limit(max(policy.temp_passwords_valid - 1, 0))
    ).all()
    session.execute(delete(Challenge).where(Challenge.login_id == login.id, Challenge.purpose == TEMP_PASSWORD,
                                            Challenge.id.not_in(keep)))
    password = generate_temporary_password(policy.temp_password_length)
    session.add(Challenge(token=secrets.token_urlsafe(24), purpose=TEMP_PASSWORD, login_id=login.id,
                          secret_hash=temporary_password_digest(password, key=policy.captcha_key), created_at=now,
                          expires_at=now + policy.temp_password_ttl))
    minutes = int(policy.temp_password_ttl.total_seconds() // 60)
    with force_locale(login.language or policy.sms_locale):  # the owner's saved language
        if account.home_contract is not None:
            text = gettext("%(brand)s: password %(password)s for contract %(contract)s (valid %(minutes)d min). "
                           "Never tell it to anyone.", brand=policy.brand, password=password, minutes=minutes,
                           contract=account.home_contract.contract_no)
        else:
            text = gettext("%(brand)s: your password %(password)s (valid %(minutes)d min). Never tell it to anyone.",
                           brand=policy.brand, password=password, minutes=minutes)
    queue_sms(session, to=msisdn, purpose=PASSWORD_SMS_PURPOSE, text=text).created_at = now  # quotas count these
    return login


def request_sms_password(session: Session, *, msisdn: str, captcha_token: str, captcha_answer: str, ip: str | None,
                         now: datetime, policy: AuthPolicy) -> None:
    """Accept a request for a temporary password to ``msisdn``; the job sends it if the number is ours.

    The captcha is used up whatever happens next. The outcome is the same for a
    number we do not serve (no enumeration): quotas count requests, not SMS. So is
    the work: whether the number is ours is looked at by the job
    (``fulfil_password_request``), never in the request, so its time tells nothing.
    """
    try:
        captcha.consume(session, token=captcha_token, answer=captcha_answer, now=now,
                        test_answer=policy.captcha_test_answer)
    except captcha.WrongCaptcha:
        session.commit()  # the attempt used the picture up
        raise
    # Row lock on our line (or contract) serialises concurrent requests for one identifier (PostgreSQL).
    details = (HomeContract, HomeContract.contract_no) if is_contract(msisdn) else (Line, Line.msisdn)
    session.scalar(select(details[0].account_id).where(details[1] == msisdn).with_for_update())
    retry_after = _quota_retry_after(session, msisdn=msisdn, now=now, policy=policy)
    if retry_after:
        session.commit()
        raise TryLater(_l("Too many requests for this number."), retry_after, field="phone")
    password_request = PasswordRequest(msisdn=msisdn, ip=ip, created_at=now, sent=False)
    session.add(password_request)
    session.flush()
    record(session, Actor(ip=ip), "password_request_received", obj=password_request,
           detail=mask_identifier(msisdn))
    session.info.setdefault(PASSWORD_PENDING_KEY, []).append(password_request.id)
    session.commit()


def fulfil_password_request(session: Session, request_id: int, *, now: datetime, policy: AuthPolicy) -> str:
    """The job behind ``request_sms_password``: send the temporary password if the number is ours and the
    phone's quota allows (commits; a second run of the same request does nothing)."""
    password_request = session.get(PasswordRequest, request_id, with_for_update=True)
    if password_request is None or password_request.handled_at is not None:
        session.rollback()
        return "done before"
    password_request.handled_at = now
    msisdn = password_request.msisdn
    account, login = login_for_msisdn(session, msisdn)
    # A home contract's password goes to its contact phone; without one it cannot get an SMS.
    to = (account.home_contract.contact_phone if is_contract(msisdn) else msisdn) if account else None
    # One phone may be reached through its number and through contracts that list it: its quota counts both.
    # Over it nothing is sent; the customer saw the same neutral answer either way.
    if to is not None:
        _serialise_phone(session, to)
    if to is None or _phone_retry_after(session, phone=to, now=now, policy=policy) is not None:
        session.commit()
        return "not served" if to is None else "phone quota"
    login = send_temporary_password(session, account=account, login=login, msisdn=to, now=now, policy=policy)
    password_request.sent = True
    record(session, Actor(login_id=login.id, account_id=account.id, ip=password_request.ip),
           "sms_password_requested", obj=login, detail=mask_identifier(msisdn))
    session.commit()
    return "sent"


def unhandled_password_requests(session: Session, *, now: datetime, within: timedelta,
                                waited: timedelta = timedelta(0)) -> list[int]:
    """Requests whose job never ran (the broker was down), recent enough for a password still to be wanted;
    ``waited``: only those that have waited at least that long (the sweep leaves a running job alone)."""
    return list(session.scalars(select(PasswordRequest.id).where(
        PasswordRequest.handled_at.is_(None), PasswordRequest.created_at > now - within,
        PasswordRequest.created_at <= now - waited).order_by(PasswordRequest.id)))


def _serialise_phone(session: Session, phone: str) -> None:
    """Two jobs for one phone (its own number and a contract that lists it) must not both pass its quota.

    Held until the job's commit; SQLite serialises writers by itself.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("select pg_advisory_xact_lock(hashtext(:key))"), {"key": "sms-password:" + phone})


def _first_free(times: list[datetime], *, now: datetime, policy: AuthPolicy) -> datetime | None:
    """When one more may go, given the times of earlier ones (newest first) and the quotas."""
    waits = []
    for limit, seconds in policy.sms_quotas:
        in_window = [t for t in times if t > now - timedelta(seconds=seconds)]
        if len(in_window) >= limit:
            waits.append(in_window[limit - 1] + timedelta(seconds=seconds))
    return max(waits) if waits else None


def _longest_window(policy: AuthPolicy) -> timedelta:
    return timedelta(seconds=max(seconds for _, seconds in policy.sms_quotas))


def _quota_retry_after(session: Session, *, msisdn: str, now: datetime, policy: AuthPolicy) -> datetime | None:
    times = session.scalars(
        select(PasswordRequest.created_at)
        .where(PasswordRequest.msisdn == msisdn, PasswordRequest.created_at > now - _longest_window(policy))
        .order_by(PasswordRequest.created_at.desc())
    ).all()
    waits = [_first_free(times, now=now, policy=policy)]
    sent_last_minute = session.scalar(
        select(func.count()).select_from(PasswordRequest)
        .where(PasswordRequest.sent.is_(True), PasswordRequest.created_at > now - timedelta(minutes=1))
    )
    if sent_last_minute >= policy.sms_global_per_minute:
        waits.append(now + timedelta(minutes=1))
    waits = [w for w in waits if w]
    return max(waits) if waits else None


def _phone_retry_after(session: Session, *, phone: str, now: datetime, policy: AuthPolicy) -> datetime | None:
    """The same quotas, counted on the SMS passwords a phone was sent, whichever number or contract asked."""
    times = session.scalars(
        select(SmsMessage.created_at)
        .where(SmsMessage.to == phone, SmsMessage.purpose == PASSWORD_SMS_PURPOSE,
               SmsMessage.created_at > now - _longest_window(policy))
        .order_by(SmsMessage.created_at.desc())
    ).all()
    return _first_free(times, now=now, policy=policy)


def authenticate(session: Session, *, msisdn: str, password: str, ip: str | None, now: datetime,
                 policy: AuthPolicy) -> Login:
    """Check number and password (permanent or temporary); count and lock failures.

    The same message for an unknown number and a wrong password; locks apply to any
    number typed, ours or not, so they tell nothing either. An unknown number costs the
    same password-hash check as a known one, so the time taken tells nothing too.
    """
    check_not_throttled(session, identifier=msisdn, ip=ip, now=now, policy=policy)
    account, login = login_for_msisdn(session, msisdn)
    password = password[:128]
    permanent_locked = permanent_password_locked_until(session, identifier=msisdn, now=now)
    usable_hash = login.password_hash if login is not None and not permanent_locked else None
    right_password = check_secret(usable_hash, password)  # without a usable hash it checks a dummy one: same work
    # A switched-off login opens with a new SMS password only (see domain.closing).
    ok = right_password and login.enabled
    ok = ok or (login is not None and _use_temporary_password(session, login, password, now, policy))
    if not ok:
        # Only the holder of the right password learns the account is switched off (and how to come
        # back); anyone else gets the one message.
        switched_off = right_password and not login.enabled
        if not switched_off:
            count_failure(session, identifier=msisdn, ip=ip, now=now, policy=policy)
        record(session, Actor(login_id=login.id if login else None, ip=ip), "login_failed",
               detail=mask_identifier(msisdn) + (" (switched off)" if switched_off else ""))
        session.commit()
        if switched_off:
            raise LoginFailed(SWITCHED_OFF)
        if permanent_locked:
            raise TryLater(_l("Too many failed attempts for this number. Get a password by SMS to sign in."),
                           permanent_locked, field="password")
        raise LoginFailed(WRONG_CREDENTIALS)
    clear_failures(session, identifier=msisdn, ip=ip)
    record(session, Actor(login_id=login.id, account_id=account.id, ip=ip), "login", obj=login,
           detail="sms password" if login.must_change_password else "password")
    session.flush()
    return login


def _use_temporary_password(session: Session, login: Login, password: str, now: datetime,
                            policy: AuthPolicy) -> bool:
    """Any of the login's live SMS passwords opens it once; using one ends them all."""
    challenges = session.scalars(
        select(Challenge).where(Challenge.login_id == login.id, Challenge.purpose == TEMP_PASSWORD,
                                Challenge.used_at.is_(None), Challenge.expires_at > now)
    ).all()
    # The temporary password is typed from an SMS: letters are matched in any case.
    typed = temporary_password_digest(password.strip().lower(), key=policy.captcha_key)
    if not any(hmac.compare_digest(c.secret_hash, typed) for c in challenges):
        return False
    for challenge in challenges:
        challenge.used_at = now
    login.must_change_password = True
    if not login.enabled:
        login.enabled = True
        record(session, Actor(login_id=login.id, account_id=login.primary_account_id), "personal_account_reopened",
               obj=login)
    return True


def login_identifier(login: Login) -> str:
    """What the login signs in with: its line's number or its contract's number."""
    primary = login.primary_account
    if primary.line is not None:
        return primary.line.msisdn
    return primary.home_contract.contract_no if primary.home_contract is not None else f"login:{login.id}"


def network_of(ip: str | None) -> str | None:
    """The /24 (IPv4) or /56 (IPv6) around an address: one household, office or NATed block."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip[:45]
    prefix = 24 if address.version == 4 else 56
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _throttle_key(key: str) -> str:
    # The column holds 120 characters; a long staff e-mail with its network is kept as its digest.
    return key if len(key) <= 120 else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _network_key(identifier: str, ip: str | None) -> str:
    """Failures in a row for one identifier from one network: what locks that network out of it."""
    network = network_of(ip)
    return _throttle_key(f"{identifier}@{network}" if network else identifier)


def _everywhere_key(identifier: str) -> str:
    """Failures for one identifier from every network: what stops slow guessing spread over many."""
    return _throttle_key("*" + identifier)


def check_not_throttled(session: Session, *, identifier: str, ip: str | None, now: datetime,
                         policy: AuthPolicy) -> None:
    """Refuse while this network is locked out of this identifier, or while this address failed too often.

    The lock is per identifier *and* network: failures typed from elsewhere never lock the
    owner out (issue 14.15); see ``permanent_password_locked_until`` for many networks.
    """
    throttle = session.get(LoginThrottle, _network_key(identifier, ip))
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


def permanent_password_locked_until(session: Session, *, identifier: str, now: datetime) -> datetime | None:
    """Until when failures from many networks lock the permanent password (an SMS password still opens)."""
    throttle = session.get(LoginThrottle, _everywhere_key(identifier))
    return throttle.locked_until if throttle and throttle.locked_until and throttle.locked_until > now else None


def _count(session: Session, key: str, *, limit: int, now: datetime, policy: AuthPolicy) -> None:
    throttle = session.get(LoginThrottle, key, with_for_update=True)
    if throttle is None:
        throttle = LoginThrottle(identifier=key, failures=0)
        session.add(throttle)
    throttle.failures += 1
    throttle.updated_at = now
    over = throttle.failures - limit
    if over >= 0:
        # 1, 2, 4, 8 … minutes: a person who forgot waits a little, a guesser waits for ever.
        throttle.locked_until = now + min(policy.lock_base * 2 ** min(over, 20), policy.lock_max)


def count_failure(session: Session, *, identifier: str, now: datetime, policy: AuthPolicy,
                  ip: str | None = None) -> None:
    """One more failure for the identifier from this network, and (with an address) from anywhere."""
    _count(session, _network_key(identifier, ip), limit=policy.max_failures, now=now, policy=policy)
    if ip:
        _count(session, _everywhere_key(identifier), limit=policy.max_failures_all_networks, now=now,
               policy=policy)


def clear_failures(session: Session, *, identifier: str, ip: str | None) -> None:
    """A success: the identifier's counters start again."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.identifier.in_(
        (_network_key(identifier, ip), _everywhere_key(identifier), _throttle_key(identifier)))))


def network_login(session: Session, *, msisdn: str, ip: str | None, now: datetime) -> Login:
    """Sign in the number the operator's gateway vouched for (the caller checked the gateway)."""
    account, login = login_for_msisdn(session, msisdn)
    if account is None:
        raise LoginFailed(_l("This number cannot sign in here."))
    if login is not None and not login.enabled:
        raise LoginFailed(SWITCHED_OFF)
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


@dataclass(frozen=True)
class SessionLifetime:
    """How long a signed-in device lasts, judged from its row (a copied cookie dies with it)."""

    idle: timedelta  # since the last request
    absolute: timedelta  # since sign-in, however busy

    @classmethod
    def for_customers(cls, cfg) -> "SessionLifetime":
        return cls(cfg["SESSION_IDLE_LIFETIME"], cfg["SESSION_ABSOLUTE_LIFETIME"])

    @classmethod
    def for_staff(cls, cfg) -> "SessionLifetime":
        return cls(cfg["STAFF_SESSION_IDLE_LIFETIME"], cfg["STAFF_SESSION_ABSOLUTE_LIFETIME"])

    def expired(self, row: "LoginSession | StaffSession | SignedInSession", now: datetime) -> bool:
        return now - row.last_seen_at > self.idle or now - row.created_at > self.absolute


@dataclass(frozen=True)
class SignedInSession:
    """The request's LoginSession as the user loader reads it: its columns and its login (the one ORM object)."""

    id: int
    token: str
    created_at: datetime
    last_seen_at: datetime
    login: Login


@cache
def _session_statement():
    """Built once: every request runs it, and building a statement costs more than SQLite takes to run it. The
    login is the only ORM object (views and the domain use it as one); the session's row is plain columns."""
    web_session = LoginSession.__table__
    return (select(Login, web_session.c.id, web_session.c.created_at, web_session.c.last_seen_at)
            .join_from(web_session, Login, Login.id == web_session.c.login_id)
            .where(web_session.c.token == bindparam("token"), web_session.c.revoked_at.is_(None)))


def load_session(session: Session, token: str, *, now: datetime, lifetime: SessionLifetime) -> SignedInSession | None:
    row = session.execute(_session_statement(), {"token": token}).first()
    if row is None:
        return None
    web_session = SignedInSession(id=row.id, token=token, created_at=row.created_at, last_seen_at=row.last_seen_at,
                                  login=row.Login)
    if not web_session.login.enabled or lifetime.expired(web_session, now):
        return None
    if now - web_session.last_seen_at > timedelta(minutes=5):  # a write per request would be waste
        session.execute(update(LoginSession.__table__).where(LoginSession.__table__.c.id == web_session.id)
                        .values(last_seen_at=now))
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
    if not login.must_change_password:
        # A wrong current password counts as a failed sign-in of this login (the same lock), so a borrowed
        # session cannot guess it here without limit.
        identifier = login_identifier(login)
        check_not_throttled(session, identifier=identifier, ip=actor.ip, now=now, policy=policy)
        if not check_secret(login.password_hash, (current_password or "")[:128]):
            count_failure(session, identifier=identifier, ip=actor.ip, now=now, policy=policy)
            record(session, actor, "login_failed", obj=login, detail=f"password change: {mask_identifier(identifier)}")
            session.commit()
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


def end_expired_sessions(session: Session, *, now: datetime, customers: SessionLifetime, staff: SessionLifetime,
                         keep_ended: timedelta) -> tuple[int, int]:
    """The cleanup job: end sessions past their lifetime, delete rows ended longer than ``keep_ended`` ago.

    Returns (ended, deleted). Ended rows stay a while for the device list and the archive's context.
    """
    ended = deleted = 0
    for table, lifetime in ((LoginSession, customers), (StaffSession, staff)):
        ended += session.execute(
            update(table)
            .where(table.revoked_at.is_(None),
                   (table.last_seen_at < now - lifetime.idle) | (table.created_at < now - lifetime.absolute))
            .values(revoked_at=now)
        ).rowcount
        deleted += session.execute(delete(table).where(table.revoked_at < now - keep_ended)).rowcount
    if ended or deleted:
        record(session, SYSTEM, "sessions_cleaned", detail=f"{ended} ended, {deleted} deleted")
    session.commit()
    return ended, deleted


def lifetimes_from_config(cfg) -> dict:
    """The cleanup job's arguments from the app config (the CLI command and the beat task share it)."""
    return {"customers": SessionLifetime.for_customers(cfg), "staff": SessionLifetime.for_staff(cfg),
            "keep_ended": cfg["SESSION_ROWS_KEPT"]}
