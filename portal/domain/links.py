"""Several numbers under one login: link requests, their review by staff, unlinking.

The walkthroughs' rules: the numbers belong to the same owner and region as the
login's own number, the free "Number management" service is active on every one
of them, and staff decide within a number of working days.
"""
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import force_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from portal.domain import auth
from portal.domain.alerts import owner_language
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.domain.passwords import check_secret, hash_secret
from portal.domain.phones import InvalidPhone, format_msisdn, mask_msisdn, parse_msisdn
from portal.domain.sms import queue_sms
from portal.domain.sms_codes import new_code
from portal.domain.workdays import add_working_days
from portal.models import (
    Account,
    AccountStatus,
    Challenge,
    HomeContract,
    Line,
    LinkRequest,
    LinkRequestNumber,
    Login,
    LoginAccount,
    LoginSession,
    LoginThrottle,
    Service,
    Subscription,
)

NUMBER_MANAGEMENT = "number_management"  # the service category that allows linking
USSD_CONNECT = "*111*828*1#"
STATUS_LABELS = {"pending": _l("under review"), "approved": _l("approved"), "rejected": _l("not approved"),
                 "withdrawn": _l("withdrawn")}


class LinkRefused(DomainError):
    pass


@dataclass(frozen=True)
class LinkPolicy:
    review_working_days: int
    holidays: frozenset[date]
    max_numbers: int


def split_numbers(text: str) -> list[str]:
    """The numbers typed into the request, one per line or separated by commas/semicolons."""
    return [part.strip() for part in re.split(r"[\n,;]+", text or "") if part.strip()]


def has_number_management(session: Session, account_ids) -> set[int]:
    """Which of these accounts have the Number management service active."""
    return set(session.scalars(
        select(Subscription.account_id).join(Service, Service.id == Subscription.service_id)
        .where(Subscription.account_id.in_(list(account_ids)), Subscription.status == "active",
               Service.category == NUMBER_MANAGEMENT)
    ))


def number_management_service(session: Session) -> Service | None:
    return session.scalar(select(Service).where(Service.category == NUMBER_MANAGEMENT, Service.archived.is_(False))
                          .order_by(Service.id).limit(1))


def _pending_account_ids(session: Session, login_id: int) -> set[int]:
    return set(session.scalars(
        select(LinkRequestNumber.account_id).join(LinkRequest)
        .where(LinkRequest.login_id == login_id, LinkRequest.status == "pending")
    ))


def _managed_account_ids(session: Session, login_id: int) -> set[int]:
    return set(session.scalars(select(LoginAccount.account_id).where(LoginAccount.login_id == login_id)))


def _problems(session: Session, login: Login, accounts: list[Account], *, pending: set[int]) -> list[str]:
    """Why these accounts cannot be linked to the login (empty when they can)."""
    primary = login.primary_account
    managed = _managed_account_ids(session, login.id)
    with_service = has_number_management(session, [primary.id, *(a.id for a in accounts)])
    problems = []
    if primary.id not in with_service:
        problems.append(gettext("Connect the free Number management service on your own number first."))
    for account in accounts:
        number = format_msisdn(account.line.msisdn)
        if account.id in managed:
            problems.append(gettext("%(number)s is already in your list.", number=number))
        elif account.id in pending:
            problems.append(gettext("%(number)s is already in a request waiting for review.", number=number))
        elif account.region != primary.region:
            problems.append(gettext("%(number)s is registered in another region.", number=number))
        elif account.id not in with_service:
            problems.append(gettext(
                "%(number)s has no Number management service: dial %(ussd)s from that phone, or connect the "
                "service in that number's own personal account (it is free).", number=number, ussd=USSD_CONNECT))
    return problems


def _owned_lines(session: Session, login: Login, msisdns: list[str]) -> tuple[list[Account], list[str]]:
    """The owner's live lines among ``msisdns``; any other number gets the same answer (no enumeration)."""
    accounts = {line.msisdn: line.account for line in session.scalars(
        select(Line).join(Account).where(Line.msisdn.in_(msisdns), Account.status != AccountStatus.terminated.value)
        .options(joinedload(Line.account)))}
    found, problems = [], []
    for msisdn in msisdns:
        account = accounts.get(msisdn)
        if account is None or account.customer_id != login.primary_account.customer_id:
            problems.append(gettext("%(number)s cannot be added: only numbers registered to you can be.",
                                    number=format_msisdn(msisdn)))
        else:
            found.append(account)
    return found, problems


def request_link(session: Session, *, login_id: int, numbers_text: str, actor: Actor, now: datetime, today: date,
                 policy: LinkPolicy) -> LinkRequest:
    """Ask staff to let this login manage the numbers listed in ``numbers_text`` (all or nothing)."""
    # Locking the login serialises two requests of one login (the "already requested" check).
    login = session.get(Login, login_id, with_for_update=True, populate_existing=True)
    msisdns = []
    for text in split_numbers(numbers_text):
        try:
            msisdn = parse_msisdn(text[:40])
        except InvalidPhone:
            session.rollback()
            raise LinkRefused(gettext("%(text)s is not a phone number.", text=text[:40]), field="numbers")
        if msisdn not in msisdns:
            msisdns.append(msisdn)
    if not msisdns:
        session.rollback()
        raise LinkRefused(_l("Type at least one number."), field="numbers")
    if len(msisdns) > policy.max_numbers:
        session.rollback()
        raise LinkRefused(gettext("At most %(n)d numbers in one request.", n=policy.max_numbers), field="numbers")
    accounts, problems = _owned_lines(session, login, msisdns)
    problems += _problems(session, login, accounts, pending=_pending_account_ids(session, login.id))
    if problems:
        session.rollback()
        raise LinkRefused(" ".join(problems), field="numbers")
    link = LinkRequest(login_id=login.id, status="pending", created_at=now,
                       due_on=add_working_days(today, policy.review_working_days, policy.holidays))
    link.numbers = [LinkRequestNumber(account_id=a.id) for a in accounts]
    session.add(link)
    session.flush()
    record(session, actor, "link_requested", obj=link,
           detail=", ".join(mask_msisdn(a.line.msisdn) for a in accounts))
    session.commit()
    return link


def requests_of_login(session: Session, login_id: int, *, limit: int = 10) -> list[LinkRequest]:
    """This login's requests, newest first (pending ones and the latest decisions)."""
    return list(session.scalars(
        select(LinkRequest).where(LinkRequest.login_id == login_id).order_by(LinkRequest.id.desc()).limit(limit)
        .options(selectinload(LinkRequest.numbers).joinedload(LinkRequestNumber.account).joinedload(Account.line))
    ))


def _locked_request(session: Session, request_id: int, *, login_id: int | None = None) -> LinkRequest:
    link = session.get(LinkRequest, request_id, with_for_update=True, populate_existing=True)
    if link is None or (login_id is not None and link.login_id != login_id):
        session.rollback()
        raise NotFound("link request")
    return link


def _not_pending(session: Session, link: LinkRequest):
    session.rollback()
    return LinkRefused(_l("This request has already been decided."))


def withdraw(session: Session, *, login_id: int, request_id: int, actor: Actor, now: datetime) -> None:
    link = _locked_request(session, request_id, login_id=login_id)
    if link.status == "withdrawn":
        session.rollback()
        return  # a second click: already done
    if link.status != "pending":
        raise _not_pending(session, link)
    link.status, link.decided_at = "withdrawn", now
    record(session, actor, "link_withdrawn", obj=link)
    session.commit()


def unlink(session: Session, *, login_id: int, account_id: int, actor: Actor, now: datetime) -> None:
    """Stop managing a linked number (never the login's own)."""
    login = session.get(Login, login_id)
    if account_id == login.primary_account_id:
        raise LinkRefused(_l("Your own number cannot be removed from the list."))
    deleted = session.execute(delete(LoginAccount).where(LoginAccount.login_id == login_id,
                                                         LoginAccount.account_id == account_id)).rowcount
    if not deleted:
        session.rollback()
        raise NotFound("account")
    record(session, actor, "number_unlinked", account_id=account_id, object_type="account", object_id=str(account_id))
    session.commit()


# ---- staff ------------------------------------------------------------------------------------------------------

def review_queue(session: Session) -> list[LinkRequest]:
    """Pending requests, the ones due first at the top."""
    return list(session.scalars(
        select(LinkRequest).where(LinkRequest.status == "pending")
        .order_by(LinkRequest.due_on, LinkRequest.created_at, LinkRequest.id)
        .options(selectinload(LinkRequest.numbers).joinedload(LinkRequestNumber.account).joinedload(Account.line))
    ))


def request_for_staff(session: Session, request_id: int) -> LinkRequest:
    link = session.scalar(select(LinkRequest).where(LinkRequest.id == request_id).options(
        selectinload(LinkRequest.numbers).joinedload(LinkRequestNumber.account).joinedload(Account.line)))
    if link is None:
        raise NotFound("link request")
    return link


def requester(session: Session, link: LinkRequest) -> Login:
    return session.scalar(select(Login).where(Login.id == link.login_id)
                          .options(joinedload(Login.primary_account).joinedload(Account.customer),
                                   joinedload(Login.primary_account).joinedload(Account.line)))


def _notify(session: Session, login: Login, text: str) -> None:
    line = login.primary_account.line
    if line is not None:
        queue_sms(session, to=line.msisdn, purpose="notice", text=text)


def approve(session: Session, *, request_id: int, actor: Actor, now: datetime, policy: auth.AuthPolicy) -> None:
    """Link the numbers, send each of them a new password, tell the requester. Rules are checked again."""
    link = _locked_request(session, request_id)
    if link.status != "pending":
        raise _not_pending(session, link)
    login = requester(session, link)
    accounts = [n.account for n in link.numbers]
    problems = _problems(session, login, accounts, pending=set())
    problems += [gettext("%(number)s is no longer registered to this owner.", number=format_msisdn(a.line.msisdn))
                 for a in accounts if a.customer_id != login.primary_account.customer_id
                 or a.status == AccountStatus.terminated.value]
    if problems:
        session.rollback()
        raise LinkRefused(" ".join(problems))
    for account in accounts:
        session.add(LoginAccount(login_id=login.id, account_id=account.id, created_at=now))
        # "New access codes": whoever knew the added number's password loses it and its sessions.
        own_login = session.scalar(select(Login).where(Login.primary_account_id == account.id))
        if own_login is not None:
            own_login.password_hash = None
            session.execute(update(LoginSession).where(LoginSession.login_id == own_login.id,
                                                       LoginSession.revoked_at.is_(None)).values(revoked_at=now))
        auth.send_temporary_password(session, account=account, login=own_login, msisdn=account.line.msisdn,
                                     now=now, policy=policy)
    link.status, link.decided_at, link.decided_by_staff_id = "approved", now, actor.staff_id
    numbers = ", ".join(format_msisdn(a.line.msisdn) for a in accounts)
    with force_locale(login.language or policy.sms_locale):
        _notify(session, login, ngettext("%(brand)s: number %(numbers)s is added to your personal account.",
                                         "%(brand)s: numbers %(numbers)s are added to your personal account.",
                                         len(accounts), brand=policy.brand, numbers=numbers))
    record(session, actor, "link_approved", obj=link, login_id=login.id, account_id=login.primary_account_id,
           detail=", ".join(mask_msisdn(a.line.msisdn) for a in accounts))
    session.commit()


def reject(session: Session, *, request_id: int, reason: str, actor: Actor, now: datetime,
           policy: auth.AuthPolicy) -> None:
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise LinkRefused(_l("Say why, so the customer knows what to do."), field="reason")
    link = _locked_request(session, request_id)
    if link.status != "pending":
        raise _not_pending(session, link)
    login = requester(session, link)
    link.status, link.decided_at, link.decided_by_staff_id, link.reason = "rejected", now, actor.staff_id, reason[:500]
    with force_locale(login.language or policy.sms_locale):
        _notify(session, login, gettext("%(brand)s: your request to add numbers was declined. The reason is in your "
                                        "personal account.", brand=policy.brand))
    record(session, actor, "link_rejected", obj=link, login_id=login.id, account_id=login.primary_account_id,
           detail=reason[:200])
    session.commit()


def is_overdue(link: LinkRequest, today: date) -> bool:
    return link.status == "pending" and link.due_on < today


# ---- a home contract joins a mobile login (no review: a code to the contract's contact phone proves it) -----------

HOME_LINK_PURPOSE = "home_link_code"
HOME_LINK_TTL = timedelta(minutes=10)


def _throttle_key(login_id: int) -> str:
    return f"home-link:{login_id}"


def start_home_link(session: Session, *, login_id: int, contract_text: str, actor: Actor, now: datetime,
                    policy: auth.AuthPolicy) -> tuple[str, int]:
    """Send a code to the contract's contact phone; returns (challenge token, account id) for the confirmation."""
    login = session.get(Login, login_id)
    refused = LinkRefused(_l("This contract cannot be added: only home contracts registered to you can be, and "
                             "they need a contact phone."), field="contract")
    try:
        contract_no = auth.parse_identifier(contract_text)
    except DomainError:
        raise refused from None
    account = session.scalar(select(Account).join(HomeContract).where(
        HomeContract.contract_no == contract_no, Account.status != AccountStatus.terminated.value))
    if (account is None or account.customer_id != login.primary_account.customer_id
            or not account.home_contract.contact_phone):
        raise refused
    if account.id in _managed_account_ids(session, login_id):
        raise LinkRefused(gettext("%(contract)s is already in your list.", contract=contract_no), field="contract")
    code = new_code()
    token = secrets.token_urlsafe(24)
    session.execute(delete(Challenge).where(Challenge.login_id == login_id, Challenge.purpose == HOME_LINK_PURPOSE))
    session.add(Challenge(token=token, purpose=HOME_LINK_PURPOSE, login_id=login_id, secret_hash=hash_secret(code),
                          created_at=now, expires_at=now + HOME_LINK_TTL))
    with force_locale(owner_language(session, account.id, policy.sms_locale)):  # the contract owner's
        text = gettext("%(brand)s: code %(code)s to add contract %(contract)s to the personal account of "
                       "%(number)s.", brand=policy.brand, code=code, contract=contract_no,
                       number=format_msisdn(login.primary_account.line.msisdn) if login.primary_account.line
                       else "?")
    queue_sms(session, to=account.home_contract.contact_phone, text=text, purpose=HOME_LINK_PURPOSE)
    record(session, actor, "home_link_code_sent", account_id=account.id, object_type="account",
           object_id=str(account.id))
    session.commit()
    return token, account.id


def confirm_home_link(session: Session, *, login_id: int, token: str, account_id: int, code: str, actor: Actor,
                      now: datetime, policy: auth.AuthPolicy) -> None:
    key = _throttle_key(login_id)
    auth.check_not_throttled(session, identifier=key, ip=None, now=now, policy=policy)
    challenge = session.scalar(select(Challenge).where(
        Challenge.token == (token or "")[:64], Challenge.login_id == login_id, Challenge.purpose == HOME_LINK_PURPOSE,
        Challenge.used_at.is_(None), Challenge.expires_at > now))
    if challenge is None:
        raise LinkRefused(_l("The code has expired. Start again."), field="code")
    if not check_secret(challenge.secret_hash, (code or "").strip()[:12]):
        auth.count_failure(session, identifier=key, now=now, policy=policy)
        session.commit()
        raise LinkRefused(_l("Wrong code."), field="code")
    challenge.used_at = now
    if account_id not in _managed_account_ids(session, login_id):
        session.add(LoginAccount(login_id=login_id, account_id=account_id, created_at=now))
    session.execute(delete(LoginThrottle).where(LoginThrottle.identifier == key))
    record(session, actor, "home_contract_linked", account_id=account_id, object_type="account",
           object_id=str(account_id))
    session.commit()
