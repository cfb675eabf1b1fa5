"""SMS from the web: counting parts, charging by the tariff, limits, and handing the message to the gateway.

Parts follow GSM 03.23/03.38: a text of the GSM 7-bit alphabet takes 160 septets in one
SMS, 153 per part once concatenated (the user data header takes the rest); an extension
character (``^{}\\[~]|€``) is an escape plus a septet, 2 in all, and is never split between
parts. Any other character makes the whole text UCS-2: 70 UTF-16 units in one SMS, 67 per
part; a character outside the BMP (most emoji) is a surrogate pair, 2 units, never split.
portal/static/sms-counter.js applies the same rules while the customer types.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from portal.domain import idempotency, ledger, statement
from portal.domain.audit import Actor, record
from portal.domain.auth import TryLater
from portal.domain.errors import DomainError, NotFound
from portal.domain.overview import current_allowance
from portal.domain.phones import format_msisdn, mask_msisdn
from portal.domain.sms import queue_sms
from portal.models import AccountStatus, UsageRecord, WebSms

# The GSM 03.38 default alphabet in code order (0x1B is the escape to the extension table).
GSM7_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_BASIC = frozenset(GSM7_TABLE) - {"\x1b"}
# The extension table: each is sent as the escape plus this code.
GSM7_EXTENSION_CODES = {"^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D, "]": 0x3E, "|": 0x40,
                        "€": 0x65}
GSM7_EXTENSION = frozenset(GSM7_EXTENSION_CODES)
# (one SMS, one part of a concatenated SMS), in septets or UTF-16 units.
CAPACITY = {"gsm7": (160, 153), "ucs2": (70, 67)}
# Far beyond any allowed message; longer input is refused before it is even counted.
MAX_INPUT = 2000


class SmsRefused(DomainError):
    """The message cannot be sent; the message says why."""


def normalise(text: str | None) -> str:
    """Browsers send a textarea's line breaks as CRLF; the counter in the page sees LF. Count (and send) LF."""
    return (text or "").replace("\r\n", "\n")


def encoding_of(text: str) -> str:
    return "gsm7" if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) else "ucs2"


def _units(text: str, encoding: str) -> list[int]:
    if encoding == "gsm7":
        return [2 if c in GSM7_EXTENSION else 1 for c in text]
    return [2 if ord(c) > 0xFFFF else 1 for c in text]


def sms_parts(text: str) -> tuple[str, int, int]:
    """(encoding, parts, units left in the last part) for a message; an empty one is (gsm7, 0, 160)."""
    encoding = encoding_of(text)
    single, part = CAPACITY[encoding]
    units = _units(text, encoding)
    total = sum(units)
    if total <= single:
        return encoding, (1 if total else 0), single - total
    parts, used = 1, 0
    for unit in units:  # a two-unit character never straddles two parts
        if used + unit > part:
            parts, used = parts + 1, 0
        used += unit
    return encoding, parts, part - used


def split_text(text: str) -> tuple[str, list[str]]:
    """(encoding, the text of each part) as ``sms_parts`` counts them: one part if it fits in one SMS, else
    parts of a concatenated SMS, a two-unit character never split between two."""
    encoding = encoding_of(text)
    single, part = CAPACITY[encoding]
    units = _units(text, encoding)
    if sum(units) <= single:
        return encoding, [text] if text else []
    parts, start, used = [], 0, 0
    for i, unit in enumerate(units):
        if used + unit > part:
            parts.append(text[start:i])
            start, used = i, 0
        used += unit
    parts.append(text[start:])
    return encoding, parts


@dataclass(frozen=True)
class WebSmsRules:
    max_parts: int
    price: int  # kopecks per part beyond the package, when the tariff names none
    quotas: tuple[tuple[int, int], ...]  # (messages, window in seconds)

    @classmethod
    def from_config(cls, cfg) -> "WebSmsRules":
        return cls(cfg["WEB_SMS_MAX_PARTS"], cfg["WEB_SMS_PRICE"], tuple(tuple(q) for q in cfg["WEB_SMS_QUOTAS"]))


@dataclass(frozen=True)
class Charge:
    from_allowance: int
    paid_parts: int
    price: int
    cost: int


def check_text(text: str, rules: WebSmsRules) -> tuple[str, int]:
    """(encoding, parts) of a text that may be sent; SmsRefused otherwise."""
    if not text.strip():
        raise SmsRefused(_l("Write the message."), field="text")
    if len(text) > MAX_INPUT:
        raise SmsRefused(_l("The message is far too long: at most %(n)d SMS parts can be sent at once.",
                            n=rules.max_parts), field="text")
    encoding, parts, _ = sms_parts(text)
    if parts > rules.max_parts:
        raise SmsRefused(_l("The message is too long: %(parts)d SMS parts, at most %(n)d can be sent at once.",
                            parts=parts, n=rules.max_parts), field="text")
    return encoding, parts


def status_refusal(status: str):
    if status == AccountStatus.active.value:
        return None
    if status in (AccountStatus.blocked_lost.value, AccountStatus.blocked_by_owner.value):
        return _l("The number is blocked: SMS cannot be sent from it. Unblock it first.")
    if status == AccountStatus.suspended.value:
        return _l("The number is suspended for debt: SMS cannot be sent from it. Top up the balance first.")
    return _l("SMS can be sent only from an active number.")


def charge_for(parts: int, *, sms_left: int, tariff_price: int | None, rules: WebSmsRules) -> Charge:
    """Each part takes one SMS from the package while any is left; each further part costs the price."""
    from_allowance = min(parts, max(sms_left, 0))
    paid = parts - from_allowance
    price = rules.price if tariff_price is None else tariff_price
    return Charge(from_allowance, paid, price, paid * price)


def quota_retry_after(session: Session, account_id: int, now: datetime, rules: WebSmsRules) -> datetime | None:
    """When the account may send again, if a per-hour or per-day limit is reached (counted in the database)."""
    waits = []
    for limit, seconds in rules.quotas:
        since = now - timedelta(seconds=seconds)
        window = WebSms.account_id == account_id, WebSms.created_at > since
        if session.scalar(select(func.count()).select_from(WebSms).where(*window)) >= limit:
            oldest = session.scalars(select(WebSms.created_at).where(*window)
                                     .order_by(WebSms.created_at.desc()).offset(limit - 1).limit(1)).first()
            waits.append((oldest or now) + timedelta(seconds=seconds))
    return max(waits) if waits else None


def send_web_sms(session: Session, *, account_id: int, to: str, text: str, idempotency_key: str,
                 rules: WebSmsRules, actor: Actor, now: datetime) -> WebSms:
    """Charge the parts (package first, then the price), record the usage, queue the SMS: one transaction.

    The same submission again (a double click) returns the first one's message and sends nothing.
    """
    text = normalise(text)
    encoding, parts = check_text(text, rules)
    existing = session.scalar(select(WebSms).where(WebSms.idempotency_key == idempotency_key))
    if existing is not None:
        return existing
    account = idempotency.lock_account_for(session, account_id=account_id, idempotency_key=idempotency_key,
                                           action="web_sms")
    if account is None:
        return session.scalar(select(WebSms).where(WebSms.idempotency_key == idempotency_key))
    try:
        if account.line is None:
            raise SmsRefused(_l("SMS are sent from mobile numbers only."))
        refusal = status_refusal(account.status)
        if refusal:
            raise SmsRefused(refusal)
        retry_after = quota_retry_after(session, account.id, now, rules)
        if retry_after:
            raise TryLater(_l("The limit of SMS from the site is reached."), retry_after)
        allowance = current_allowance(session, account.id, now)
        charge = charge_for(parts, sms_left=allowance.sms_left if allowance else 0,
                            tariff_price=account.tariff.sms_price if account.tariff else None, rules=rules)
        if charge.cost > account.balance:
            raise SmsRefused(_l("The balance does not cover this message (%(parts)d paid parts). Top up first.",
                                parts=charge.paid_parts))
    except DomainError:
        session.rollback()
        raise
    if charge.from_allowance:
        allowance.sms_left -= charge.from_allowance
    if charge.cost:
        ledger.post(session, account, amount=-charge.cost, kind="usage", key=f"websms:{idempotency_key}",
                    description=statement.web_sms_line(format_msisdn(to), parts),
                    now=now, coded=True)
    session.add(UsageRecord(account_id=account.id, started_at=now, kind="sms", counterpart=to, quantity=parts,
                            cost=charge.cost))
    message = queue_sms(session, to=to, text=text, purpose="web", sender=account.line.msisdn)
    sms = WebSms(account_id=account.id, sms_message_id=message.id, to=to, encoding=encoding, parts=parts,
                 from_allowance=charge.from_allowance, cost=charge.cost, idempotency_key=idempotency_key,
                 created_at=now)
    session.add(sms)
    session.flush()
    record(session, actor, "web_sms_sent", obj=sms, account_id=account.id,
           detail=f"to {mask_msisdn(to)}; {parts} part(s), {charge.from_allowance} from package; cost {charge.cost}")
    if not idempotency.commit_once(session):
        return session.scalar(select(WebSms).where(WebSms.idempotency_key == idempotency_key))
    return sms


def web_sms_of_account(session: Session, *, sms_id: int, account_id: int) -> WebSms:
    sms = session.get(WebSms, sms_id)
    if sms is None or sms.account_id != account_id:
        raise NotFound("web_sms")
    return sms


def recent_web_sms(session: Session, account_id: int, *, limit: int = 10) -> list[WebSms]:
    """The last messages sent from the site from this number, newest first, with their delivery state."""
    return list(session.scalars(select(WebSms).where(WebSms.account_id == account_id)
                                .options(joinedload(WebSms.message))
                                .order_by(WebSms.id.desc()).limit(limit)))


def estimate(text: str) -> dict:
    """What the page shows after a round trip without JavaScript: characters, parts, encoding, left."""
    text = normalise(text)
    encoding, parts, left = sms_parts(text)
    return {"chars": len(text), "parts": parts, "encoding": encoding, "left": left}
