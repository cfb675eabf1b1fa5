"""The content-charge ban (issue 18, point 4): a free switch on a line that refuses new paid subscriptions
started by content providers (through the operator's content gateway); what it refused is listed for the
customer. Subscriptions the customer connects in the portal are the customer's own choice and not refused.

The gateway may ask twice for the same subscription (its ``request_id``): the answer is the same and nothing
happens twice — one connection and its charges, or one refusal on the list.
"""
import hashlib
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from portal.domain import idempotency, services
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.domain.overview import CONTENT
from portal.models import ContentBan, ContentRefusal, Line, Service

LISTED = 20  # refusals shown on the subscriptions page


class ContentRefused(DomainError):
    status = 403

    def __init__(self):
        super().__init__(_l("The line refuses paid subscriptions from content providers."))


@dataclass(frozen=True)
class Refusal:
    attempted_at: datetime
    provider: str
    service: Service | None
    service_code: str


def is_banned(session: Session, account_id: int) -> datetime | None:
    """Since when the line refuses them (None: it does not)."""
    return session.scalar(select(ContentBan.since).where(ContentBan.account_id == account_id))


def set_ban(session: Session, *, account_id: int, on: bool, actor: Actor, now: datetime) -> bool:
    """Switch the ban on or off; False when it already was so (nothing recorded twice)."""
    if bool(is_banned(session, account_id)) == on:
        return False
    if on:
        session.add(ContentBan(account_id=account_id, since=now))
    else:
        session.execute(delete(ContentBan).where(ContentBan.account_id == account_id))
    record(session, actor, "content_ban_on" if on else "content_ban_off", detail=str(account_id),
           object_type="account", object_id=str(account_id))
    session.commit()
    return True


def refusals(session: Session, account_id: int, *, limit: int = LISTED) -> list[Refusal]:
    rows = session.execute(select(ContentRefusal, Service).outerjoin(Service, Service.id == ContentRefusal.service_id)
                           .where(ContentRefusal.account_id == account_id)
                           .order_by(ContentRefusal.attempted_at.desc(), ContentRefusal.id.desc()).limit(limit))
    return [Refusal(r.attempted_at, r.provider, s, r.service_code) for r, s in rows]


def _request_key(provider: str, request_id: str) -> str:
    return "cnt_" + hashlib.sha256(f"{provider}\n{request_id}".encode()).hexdigest()[:60]


def provider_subscribe(session: Session, *, msisdn: str, service_code: str, provider: str, request_id: str,
                       now: datetime) -> bool:
    """A content provider subscribes a line to a paid subscription through the gateway.

    True: connected now; False: this request was carried out before. ContentRefused (the refusal kept once)
    when the line has the ban; NotFound for an unknown number or a service that is not a paid subscription;
    the service rules' own refusals (ServiceRefused) otherwise."""
    account_id = session.scalar(select(Line.account_id).where(Line.msisdn == msisdn))
    service = session.scalar(select(Service).where(Service.code == service_code, Service.category == CONTENT,
                                                   Service.archived.is_(False)))
    if account_id is None or service is None:
        raise NotFound("number or subscription")
    key = _request_key(provider, request_id)
    if session.scalar(select(ContentRefusal.id).where(ContentRefusal.request_key == key)):
        raise ContentRefused()  # asked again: refused again, listed once
    account = idempotency.lock_account_for(session, account_id=account_id, idempotency_key=key,
                                           action="content_subscribe")
    if account is None:
        return False
    actor = Actor(account_id=account_id)
    if is_banned(session, account_id):
        session.add(ContentRefusal(account_id=account_id, provider=provider, service_id=service.id,
                                   service_code=service.code, request_key=key, attempted_at=now))
        record(session, actor, "content_refused", obj=account, detail=f"{provider}: {service.code}")
        session.commit()
        raise ContentRefused()
    try:
        services.subscribe(session, account, service, key=key, actor=actor, now=now)
    except DomainError:
        session.rollback()
        raise
    record(session, actor, "content_subscribed", obj=account, detail=f"{provider}: {service.code}")
    return idempotency.commit_once(session)
