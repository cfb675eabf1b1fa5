"""USSD parity (issue 18, point 7): what a subscriber dials on any phone, answered through the same domain
functions as the web pages. The operator's USSD centre calls the portal with the subscriber's number (believed
only from the trusted gateways) and the code dialled; the answer is one short text in the line owner's language.

    *100#          balance             *102#      what is left of the package
    *105#          tariff              *107#      the last charges
    *106#          promised payment: the offer;   *106*<roubles>#  take it
    *111*828*1#    connect Number management (to add the number to another personal account)
    *111#          this list
"""
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import formatting
from portal.domain import promised, services
from portal.domain.audit import Actor
from portal.domain.errors import DomainError
from portal.domain.links import NUMBER_MANAGEMENT, USSD_CONNECT
from portal.domain.overview import active_subscriptions, current_allowance
from portal.models import Account, LedgerEntry, Line, Login, Service

MAX_TEXT = 160  # one SMS-sized screen: older phones show no more
CHARGES_SHOWN = 3


@dataclass(frozen=True)
class Answer:
    text: str
    end: bool = True  # the session ends (every answer here is final: no menus to walk on a bad link)


def _money(kopecks: int) -> str:
    return formatting.money(kopecks)


def _balance(session, account, now, rules, request_key):
    return _("Balance: %(balance)s.", balance=_money(account.balance))


def _left(session, account, now, rules, request_key):
    allowance = current_allowance(session, account.id, now)
    if allowance is None:
        return _("No package this month.")
    data = (_("unlimited internet") if account.tariff is not None and account.tariff.unlimited_data
            else formatting.volume(allowance.data_mb_left * 1024))
    return _("Left until %(date)s: %(minutes)s min, %(sms)s SMS, %(data)s.",
             date=formatting.date_short(allowance.period_end), minutes=allowance.minutes_left,
             sms=allowance.sms_left, data=data)


def _tariff(session, account, now, rules, request_key):
    if account.tariff is None:
        return _("No tariff.")
    return _("Tariff %(name)s, %(fee)s a month.", name=account.tariff.title, fee=_money(account.tariff.monthly_fee))


def _charges(session, account, now, rules, request_key):
    rows = session.execute(select(LedgerEntry.created_at, LedgerEntry.amount).where(
        LedgerEntry.account_id == account.id, LedgerEntry.amount < 0)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc()).limit(CHARGES_SHOWN)).all()
    if not rows:
        return _("No charges yet.")
    return "; ".join(f"{formatting.date_short(at)} {_money(-amount)}" for at, amount in rows)


def _promised_offer(session, account, now, rules, request_key):
    offer = promised.offer(session, account, rules, now=now)
    if offer.refusal:
        return offer.refusal
    return _("Promised payment up to %(limit)s for %(days)s days, fee %(fee)s. Dial *106*amount# to take it.",
             limit=formatting.money(offer.limit, whole=True), days=offer.days, fee=_money(offer.fee))


def _promised_take(roubles: str):
    def take(session, account, now, rules, request_key):
        try:
            promised.take_promised_payment(session, account_id=account.id, amount=int(roubles) * 100,
                                           idempotency_key=request_key, rules=rules,
                                           actor=Actor(account_id=account.id), now=now)
        except DomainError as refused:
            session.rollback()
            return str(refused)
        return _("%(amount)s is on your balance. Balance: %(balance)s.", amount=formatting.money(int(roubles) * 100),
                 balance=_money(session.get(Account, account.id, populate_existing=True).balance))
    return take


def _number_management(session, account, now, rules, request_key):
    if any(s.service.category == NUMBER_MANAGEMENT for s in active_subscriptions(session, account.id)):
        return _("Number management is already connected.")
    service = session.scalars(select(Service).where(Service.category == NUMBER_MANAGEMENT, Service.kind == "mobile",
                                                    Service.archived.is_(False)).order_by(Service.id)).first()
    if service is None:
        return _("The service is not available.")
    try:
        services.connect_service(session, account_id=account.id, service_id=service.id, idempotency_key=request_key,
                                 actor=Actor(account_id=account.id), now=now)
    except DomainError as refused:
        return str(refused)
    return _("Number management is connected: the number can now be added to another personal account.")


def _menu(session, account, now, rules, request_key):
    return _("*100# balance, *102# left, *105# tariff, *106# promised payment, *107# charges, %(ussd)s number "
             "management.", ussd=USSD_CONNECT)


FIXED = {"*100#": _balance, "*102#": _left, "*105#": _tariff, "*106#": _promised_offer, "*107#": _charges,
         USSD_CONNECT: _number_management, "*111#": _menu}
TAKE_PROMISED = re.compile(r"^\*106\*(\d{1,6})#$")


def _handler(code: str):
    if code in FIXED:
        return FIXED[code]
    found = TAKE_PROMISED.match(code)
    return _promised_take(found.group(1)) if found else None


def request_key(msisdn: str, session_id: str) -> str:
    """The USSD centre's session id, for this number: a retried request changes nothing twice."""
    return "ussd_" + hashlib.sha256(f"{msisdn}\n{session_id}".encode()).hexdigest()[:60]


def answer(session: Session, *, msisdn: str, code: str, session_id: str, rules: promised.PromisedRules,
           now: datetime, default_locale: str) -> Answer | None:
    """The answer to ``code`` dialled from ``msisdn``; None for a number that is not ours."""
    account = session.scalar(select(Account).join(Line, Line.account_id == Account.id).where(Line.msisdn == msisdn))
    if account is None:
        return None
    language = session.scalar(select(Login.language).where(Login.primary_account_id == account.id))
    code = "".join(code.split())
    with force_locale(language or default_locale):
        handler = _handler(code)
        text = handler(session, account, now, rules, request_key(msisdn, session_id)) if handler else \
            _("Unknown request. Dial *111# for the list.")
    # Plain spaces: a no-break space is not in the GSM alphabet, and one would halve what a screen can hold.
    return Answer(str(text).replace("\xa0", " ").replace("\u202f", " ")[:MAX_TEXT])
