"""Staff accounts, their sessions, and what staff look up."""
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.domain.audit import Actor, record
from portal.domain.auth import (
    AuthPolicy,
    LoginFailed,
    SessionLifetime,
    TryLater,
    check_not_throttled,
    clear_failures,
    count_failure,
    parse_contract_no,
    permanent_password_locked_until,
)
from portal.domain.errors import DomainError, NotFound
from portal.domain.home import PeriodTraffic, period_traffic
from portal.domain.overview import CONTENT
from portal.domain.passwords import check_new_password, check_secret, hash_secret
from portal.domain.phones import InvalidPhone, parse_msisdn
from portal.models import (
    Account,
    CardPayment,
    ContentBan,
    ContentRefusal,
    Customer,
    HomeContract,
    LedgerEntry,
    Line,
    SmsMessage,
    Staff,
    StaffSession,
    Subscription,
    utcnow,
)
from portal.models.customers import fold_name

ROLES = ("support", "admin")


def create_staff(session: Session, *, email: str, name: str, role: str, password: str, actor: Actor,
                 min_length: int) -> Staff:
    """Add a staff member with a role; the password follows the customers' rules."""
    email = email.strip().lower()
    if role not in ROLES:
        raise DomainError(_l("Role must be one of: %(roles)s.", roles=", ".join(ROLES)), field="role")
    if "@" not in email or len(email) > 120:
        raise DomainError(_l("Enter an e-mail address."), field="email")
    if session.scalar(select(Staff.id).where(Staff.email == email)):
        raise DomainError(_l("A staff member with this e-mail exists."), field="email")
    check_new_password(password, msisdn=None, min_length=min_length)
    staff = Staff(email=email, name=name.strip() or email, role=role, password_hash=hash_secret(password))
    session.add(staff)
    session.flush()
    record(session, actor, "staff_created", obj=staff, detail=f"{email} ({role})")
    session.commit()
    return staff


def sign_in_staff(session: Session, *, email: str, password: str, ip: str | None, now: datetime,
                  policy: AuthPolicy) -> StaffSession:
    """Check e-mail and password with the same throttling as customers; open a staff session."""
    staff = check_staff_password(session, email=email, password=password, ip=ip, now=now, policy=policy)
    return open_staff_session(session, staff=staff, ip=ip, now=now)


def check_staff_password(session: Session, *, email: str, password: str, ip: str | None, now: datetime,
                         policy: AuthPolicy) -> Staff:
    """The staff member whose e-mail and password these are (throttled as customers are), or LoginFailed."""
    email = (email or "").strip().lower()[:120]
    key = "staff:" + email
    check_not_throttled(session, identifier=key, ip=ip, now=now, policy=policy)
    staff = session.scalar(select(Staff).where(Staff.email == email))
    locked = permanent_password_locked_until(session, identifier=key, now=now)
    # An unknown e-mail checks a dummy hash (check_secret without one): the same time as a wrong password.
    if not check_secret(staff.password_hash if staff and staff.enabled and not locked else None, password[:128]):
        count_failure(session, identifier=key, ip=ip, now=now, policy=policy)
        record(session, Actor(staff_id=staff.id if staff else None, ip=ip), "staff_login_failed", detail=email)
        session.commit()
        if locked:
            raise TryLater(_l("Too many failed attempts."), locked, field="password")
        raise LoginFailed(_l("Wrong e-mail or password."))
    clear_failures(session, identifier=key, ip=ip)
    session.flush()
    return staff


def open_staff_session(session: Session, *, staff: Staff, ip: str | None, now: datetime,
                       detail: str = "") -> StaffSession:
    web_session = StaffSession(token=secrets.token_urlsafe(32), staff_id=staff.id, created_at=now,
                               last_seen_at=now, ip=ip)
    session.add(web_session)
    record(session, Actor(staff_id=staff.id, ip=ip), "staff_login", obj=staff, detail=detail)
    session.commit()
    return web_session


def load_staff_session(session: Session, token: str, *, now: datetime,
                       lifetime: SessionLifetime) -> StaffSession | None:
    web_session = session.scalar(
        select(StaffSession).where(StaffSession.token == token, StaffSession.revoked_at.is_(None))
    )
    if web_session is None or not web_session.staff.enabled or lifetime.expired(web_session, now):
        return None
    if now - web_session.last_seen_at > timedelta(minutes=1):  # the idle limit needs it; not a write per request
        web_session.last_seen_at = now
        session.commit()
    return web_session


def close_staff_session(session: Session, *, token: str, actor: Actor, now: datetime) -> None:
    web_session = session.scalar(select(StaffSession).where(StaffSession.token == token))
    if web_session and web_session.revoked_at is None:
        web_session.revoked_at = now
        record(session, actor, "staff_logout", obj=web_session)
        session.commit()


def search_customers(session: Session, query: str, *, region: str = "RU", limit: int = 50) -> list[Customer]:
    """Customers whose number (any usual form), contract number, home contract number or name matches.

    Exact matches come first (an indexed equality each: the customer's contract number, a home contract,
    a line), then fragments: a part of a number (4 digits or more) and a part of the name, each a LIKE
    served by its trigram index on PostgreSQL (ix_line_msisdn_trgm, ix_customer_name_folded_trgm). Every
    condition is a query of its own over one table, joined by UNION: an OR across a join of the three
    tables defeats every index. SQLite runs the same statement without those indexes (scans; small data).
    """
    query = (query or "").strip()[:100]
    if not query:
        return []
    exact, fragments = _search_parts(query, region)
    matches = union_all(*exact, *fragments).subquery()
    ranked = (select(matches.c.customer_id, func.min(matches.c.rank).label("rank"))
              .group_by(matches.c.customer_id).subquery())
    return list(session.scalars(
        select(Customer).join(ranked, ranked.c.customer_id == Customer.id)
        .options(selectinload(Customer.accounts).joinedload(Account.line),
                 selectinload(Customer.accounts).joinedload(Account.home_contract),
                 selectinload(Customer.accounts).joinedload(Account.tariff),
                 joinedload(Customer.code_word))
        .order_by(ranked.c.rank, Customer.name, Customer.id).limit(limit)
    ))


EXACT, FRAGMENT = 0, 1  # the ranks: exact matches first


def _search_parts(query: str, region: str) -> tuple[list, list]:
    """The per-table queries of a search, each selecting (customer_id, rank)."""
    exact = [select(Customer.id.label("customer_id"), literal(EXACT).label("rank"))
             .where(Customer.contract_no == query)]
    contract_no = parse_contract_no(query)
    if contract_no:
        exact.append(select(Account.customer_id, literal(EXACT))
                     .join(HomeContract, HomeContract.account_id == Account.id)
                     .where(HomeContract.contract_no == contract_no))
    try:
        msisdn = parse_msisdn(query, region)
    except InvalidPhone:
        msisdn = None
    if msisdn:
        exact.append(select(Account.customer_id, literal(EXACT))
                     .join(Line, Line.account_id == Account.id).where(Line.msisdn == msisdn))
    fragments = []
    folded = fold_name(query)
    if folded:
        fragments.append(select(Customer.id, literal(FRAGMENT))
                         .where(Customer.name_folded.like(f"%{_escape_like(folded)}%", escape="/")))
    digits = "".join(ch for ch in query if ch.isdigit())
    if len(digits) >= 4 and len(digits) == len(query.lstrip("+").replace(" ", "").replace("-", "")):
        fragments.append(select(Account.customer_id, literal(FRAGMENT))  # a part of a number
                         .join(Line, Line.account_id == Account.id).where(Line.msisdn.like(f"%{digits}%")))
    return exact, fragments


def _escape_like(text: str) -> str:
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def sms_outbox(session: Session, *, limit: int = 100, before_id: int | None = None,
               status: str | None = None) -> list[SmsMessage]:
    """The latest messages, older than ``before_id`` if given, only those in ``status`` if given."""
    stmt = select(SmsMessage).order_by(SmsMessage.id.desc()).limit(limit)
    if before_id:
        stmt = stmt.where(SmsMessage.id < before_id)
    if status:
        stmt = stmt.where(SmsMessage.status == status)
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class AccountCard:
    account: Account
    services: list[Subscription]  # connected services, paid content excluded
    subscriptions: list[Subscription]  # paid content subscriptions
    ledger: list[LedgerEntry]  # the latest first
    payments: list[CardPayment]  # the latest card payments, with their states
    traffic: PeriodTraffic | None = None  # a home contract's traffic in its current billing period
    content_ban_since: datetime | None = None  # the line refuses providers' paid subscriptions since then
    content_refused: int = 0  # attempts it refused


@dataclass(frozen=True)
class CustomerCard:
    customer: Customer
    accounts: list[AccountCard]


def customer_card(session: Session, customer_id: int, *, ledger_limit: int = 20,
                  today: date | None = None) -> CustomerCard:
    """A customer with every account's tariff, services, latest ledger entries, home traffic and content ban, in
    six queries."""
    customer = session.scalar(
        select(Customer).where(Customer.id == customer_id)
        .options(selectinload(Customer.accounts).joinedload(Account.line),
                 selectinload(Customer.accounts).joinedload(Account.home_contract),
                 selectinload(Customer.accounts).joinedload(Account.tariff),
                 joinedload(Customer.code_word))
    )
    if customer is None:
        raise NotFound("customer")
    ids = [a.id for a in customer.accounts]
    active = list(session.scalars(
        select(Subscription).options(joinedload(Subscription.service))
        .where(Subscription.account_id.in_(ids), Subscription.status == "active")
        .order_by(Subscription.since)
    )) if ids else []
    # The latest entries of each account in one query: number them per account, keep the first few.
    position = func.row_number().over(partition_by=LedgerEntry.account_id,
                                      order_by=(LedgerEntry.created_at.desc(), LedgerEntry.id.desc()))
    numbered = select(LedgerEntry.id, position.label("n")).where(LedgerEntry.account_id.in_(ids)).subquery()
    entries = list(session.scalars(
        select(LedgerEntry).join(numbered, numbered.c.id == LedgerEntry.id).where(numbered.c.n <= ledger_limit)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
    )) if ids else []
    payments = list(session.scalars(
        select(CardPayment).where(CardPayment.account_id.in_(ids)).order_by(CardPayment.id.desc()).limit(50)
    )) if ids else []
    traffic = period_traffic(session, customer.accounts, today=today or utcnow().date())
    # The content ban of each line and the attempts it refused, in one query.
    content = {row.id: row for row in session.execute(
        select(Account.id, ContentBan.since, func.count(ContentRefusal.id).label("refused"))
        .outerjoin(ContentBan, ContentBan.account_id == Account.id)
        .outerjoin(ContentRefusal, ContentRefusal.account_id == Account.id)
        .where(Account.id.in_(ids)).group_by(Account.id, ContentBan.since))} if ids else {}
    return CustomerCard(customer, [
        AccountCard(
            account=a,
            services=[s for s in active if s.account_id == a.id and s.service.category != CONTENT],
            subscriptions=[s for s in active if s.account_id == a.id and s.service.category == CONTENT],
            ledger=[e for e in entries if e.account_id == a.id],
            payments=[p for p in payments if p.account_id == a.id][:10],
            traffic=traffic.get(a.id),
            content_ban_since=content[a.id].since if a.id in content else None,
            content_refused=content[a.id].refused if a.id in content else 0,
        )
        for a in customer.accounts
    ])


def customer_of_account(session: Session, account_id: int) -> int | None:
    return session.scalar(select(Account.customer_id).where(Account.id == account_id))
