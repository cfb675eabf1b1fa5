"""The balance feed (issue 18, point 6): a customer makes a named, read-only key that returns the balance, the
status and what is left of the packages of every number and contract of the login, as JSON and as a tiny page —
for the home-screen widgets and scripts people otherwise write to scrape the portal.

A key is 32 random bytes shown once; only its SHA-256 is stored. A key reads, never changes anything; it is
revoked by its owner (or dies with the login switched off). Making and revoking are audited; each use is counted
on the key (when, from where) for the owner to see.
"""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal.domain import idempotency
from portal.domain.accounts import account_cards
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.models import Allowance, FeedToken, Login

MAX_KEYS = 5  # active keys per login
NAME_LENGTH = 60
PREFIX = "bf_"  # tells a feed key from anything else in a script or a leaked paste


class FeedRefused(DomainError):
    pass


@dataclass(frozen=True)
class NewKey:
    token: FeedToken
    secret: str  # shown once


@dataclass(frozen=True)
class Package:
    minutes_left: int
    minutes_total: int
    sms_left: int
    sms_total: int
    mms_left: int
    mms_total: int
    data_mb_left: int | None  # None: unlimited
    data_mb_total: int | None
    until: datetime


@dataclass(frozen=True)
class Entry:
    """One number or contract of the login, as the feed shows it."""

    account_id: int
    kind: str  # mobile | home
    number: str  # +7… or the contract number
    balance: int  # kopecks
    status: str
    tariff: str | None
    tariff_en: str | None
    package: Package | None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def make_key(session: Session, *, login_id: int, name: str, actor: Actor, now: datetime,
             idempotency_key: str | None = None) -> NewKey | None:
    """A new key for the login; None when this very form was sent before (its key was shown then)."""
    name = " ".join((name or "").split())
    if not name:
        raise FeedRefused(_l("Name the key, e.g. “Widget on my phone”."), field="name")
    if len(name) > NAME_LENGTH:
        raise FeedRefused(_l("At most %(n)s characters.", n=NAME_LENGTH), field="name")
    active = session.scalar(select(func.count()).select_from(FeedToken)
                            .where(FeedToken.login_id == login_id, FeedToken.revoked_at.is_(None)))
    if active >= MAX_KEYS:
        raise FeedRefused(_l("At most %(n)s keys: revoke one you no longer use.", n=MAX_KEYS), field="name")
    if idempotency_key is not None:
        try:
            idempotency.claim(session, idempotency_key, action="feed_key", account_id=actor.account_id)
        except idempotency.AlreadyDone:
            return None
    secret = PREFIX + secrets.token_urlsafe(32)
    token = FeedToken(login_id=login_id, name=name, token_hash=_digest(secret), hint=secret[:8], created_at=now)
    session.add(token)
    session.flush()
    record(session, actor, "feed_key_made", obj=token, detail=f"{name} ({token.hint}…)")
    if not idempotency.commit_once(session):
        return None
    return NewKey(token, secret)


def keys_of_login(session: Session, login_id: int) -> list[FeedToken]:
    return list(session.scalars(select(FeedToken).where(FeedToken.login_id == login_id)
                                .order_by(FeedToken.revoked_at.is_not(None), FeedToken.created_at.desc())))


def revoke_key(session: Session, *, login_id: int, token_id: int, actor: Actor, now: datetime) -> FeedToken:
    """Revoke one of the login's keys (another login's is NotFound); revoking twice changes nothing."""
    token = session.get(FeedToken, token_id)
    if token is None or token.login_id != login_id:
        raise NotFound("feed key")
    if token.revoked_at is None:
        token.revoked_at = now
        record(session, actor, "feed_key_revoked", obj=token, detail=f"{token.name} ({token.hint}…)")
        session.commit()
    return token


def login_of_key(session: Session, secret: str | None, *, now: datetime, ip: str | None) -> int | None:
    """The login a live key belongs to, counting the use; None for an unknown, revoked or malformed key, or a
    login switched off (the same answer for each: nothing tells a guesser which)."""
    if not secret or not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    found = session.execute(
        select(FeedToken.id, FeedToken.login_id).join(Login, Login.id == FeedToken.login_id)
        .where(FeedToken.token_hash == _digest(secret), FeedToken.revoked_at.is_(None), Login.enabled.is_(True))
    ).first()
    if found is None:
        return None
    session.execute(update(FeedToken).where(FeedToken.id == found.id)
                    .values(uses=FeedToken.uses + 1, last_used_at=now, last_used_ip=ip))
    session.commit()
    return found.login_id


def entries(session: Session, login_id: int, *, now: datetime) -> list[Entry]:
    """Every number and contract of the login with its package this period: two queries whatever their count."""
    cards = account_cards(session, login_id)
    packages = {a.account_id: a for a in session.scalars(
        select(Allowance).where(Allowance.account_id.in_([c.id for c in cards]), Allowance.period_start <= now,
                                Allowance.period_end > now))}
    out = []
    for card in cards:
        allowance = packages.get(card.id)
        package = None
        if allowance is not None:
            unlimited = bool(card.unlimited_data)
            package = Package(allowance.minutes_left, allowance.minutes_total, allowance.sms_left,
                              allowance.sms_total, allowance.mms_left, allowance.mms_total,
                              None if unlimited else allowance.data_mb_left,
                              None if unlimited else allowance.data_mb_total, allowance.period_end)
        out.append(Entry(card.id, card.kind, card.msisdn or card.contract_no, card.balance, card.status,
                         card.tariff_name, card.tariff_name_en, package))
    return out
