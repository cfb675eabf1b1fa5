"""The customer's ways in, seen and shut by staff (issue 18): passkeys, linked outside accounts, balance-feed keys
and web sessions of each login whose primary account the customer owns.

A customer whose phone was stolen calls support: staff remove one way in, or shut them all at once. Each change
is one transaction, carried out once per form submission, audited with the staff actor on the customer's account,
and told to the login's number."""
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, String, cast, delete, func, literal, null, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.domain import alerts, feed, idempotency, passkeys, social
from portal.domain.audit import Actor, record
from portal.domain.errors import NotFound
from portal.domain.social.providers import KNOWN as KNOWN_PROVIDERS
from portal.models import (
    Account,
    FeedToken,
    HomeContract,
    Line,
    Login,
    LoginSession,
    Passkey,
    ProcessedRequest,
    SocialAccount,
)

# A way in shut by someone else must never go unnoticed: a security notice, sent at once whatever the alert
# settings and quiet hours (the caller may not have been the customer).
NOTICE_EVENT = alerts.SECURITY


@dataclass
class Item:
    id: int
    name: str
    detail: str
    created_at: datetime | None
    last_used_at: datetime | None


@dataclass
class LoginWaysIn:
    """One login's ways in, as the staff card shows them."""

    login_id: int
    signs_in_as: str  # the primary account's number or contract number
    open_sessions: int = 0
    passkeys: list[Item] = field(default_factory=list)
    linked: list[Item] = field(default_factory=list)
    feed_keys: list[Item] = field(default_factory=list)

    @property
    def anything_open(self) -> bool:
        return bool(self.open_sessions or self.passkeys or self.linked or self.feed_keys)


def provider_name(key: str, names: dict[str, str]) -> str:
    """``names``: the configured providers' names by key (the operator may name one, or add its own)."""
    return names.get(key) or KNOWN_PROVIDERS.get(key, {}).get("name", key)


def _typed_none(type_):
    # The first SELECT of a UNION types its columns (SQLite returns datetimes as text otherwise).
    return cast(null(), type_)


def of_customer(session: Session, customer_id: int, *, provider_names: dict[str, str]) -> list[LoginWaysIn]:
    """Every login of the customer with its live ways in, in one query (a UNION ALL, one row per thing)."""
    own_logins = (select(Login.id).join(Account, Account.id == Login.primary_account_id)
                  .where(Account.customer_id == customer_id))
    open_sessions = (select(func.count(LoginSession.id))
                     .where(LoginSession.login_id == Login.id, LoginSession.revoked_at.is_(None))
                     .correlate(Login).scalar_subquery())
    logins = (select(literal("login", String(8)).label("kind"), Login.id.label("login_id"),
                     Login.id.label("item_id"),
                     func.coalesce(Line.msisdn, HomeContract.contract_no, "").label("name"),
                     cast(literal(""), String(120)).label("detail"),
                     Login.created_at.label("created_at"), _typed_none(DateTime).label("last_used_at"),
                     open_sessions.label("sessions"))
              .join(Account, Account.id == Login.primary_account_id)
              .outerjoin(Line, Line.account_id == Account.id)
              .outerjoin(HomeContract, HomeContract.account_id == Account.id)
              .where(Account.customer_id == customer_id))
    keys = select(literal("passkey"), Passkey.login_id, Passkey.id, Passkey.name, literal(""), Passkey.created_at,
                  Passkey.last_used_at, literal(0)).where(Passkey.login_id.in_(own_logins))
    linked = select(literal("social"), SocialAccount.login_id, SocialAccount.id, SocialAccount.provider,
                    SocialAccount.shown, SocialAccount.linked_at, SocialAccount.last_used_at,
                    literal(0)).where(SocialAccount.login_id.in_(own_logins))
    feed_keys = select(literal("feed"), FeedToken.login_id, FeedToken.id, FeedToken.name, FeedToken.hint,
                       FeedToken.created_at, FeedToken.last_used_at,
                       literal(0)).where(FeedToken.login_id.in_(own_logins), FeedToken.revoked_at.is_(None))
    everything = union_all(logins, keys, linked, feed_keys).subquery()
    rows = session.execute(select(everything).order_by(everything.c.login_id, everything.c.created_at,
                                                       everything.c.item_id)).all()
    cards = {row.login_id: LoginWaysIn(login_id=row.login_id, signs_in_as=row.name, open_sessions=row.sessions)
             for row in rows if row.kind == "login"}
    lists = {"passkey": "passkeys", "social": "linked", "feed": "feed_keys"}
    for row in rows:
        if row.kind in lists:
            getattr(cards[row.login_id], lists[row.kind]).append(
                Item(row.item_id, provider_name(row.name, provider_names) if row.kind == "social" else row.name,
                     row.detail, row.created_at, row.last_used_at))
    return list(cards.values())


def _login_of_customer(session: Session, customer_id: int, login_id: int | None) -> Login:
    login = session.get(Login, login_id) if login_id is not None else None
    if login is None or login.primary_account.customer_id != customer_id:
        raise NotFound("login")
    return login


def _on_customers_account(actor: Actor, login: Login) -> Actor:
    """The staff actor with the customer's account: the customer's archive shows what support did."""
    return Actor(login_id=None, staff_id=actor.staff_id, account_id=login.primary_account_id, ip=actor.ip)


def _tell(session: Session, login: Login, message, *, now: datetime, **params) -> None:
    alerts.notify(session, account=login.primary_account, event=NOTICE_EVENT, message=message, now=now, **params)


def _seen(session: Session, idempotency_key: str) -> bool:
    """A submission carried out before: its thing may be gone already, so this is asked before looking it up."""
    return session.scalar(select(ProcessedRequest.key).where(ProcessedRequest.key == idempotency_key)) is not None


def _once(session: Session, idempotency_key: str, *, action: str, login: Login) -> bool:
    """Claim the submission's key; False when it was carried out before."""
    try:
        idempotency.claim(session, idempotency_key, action=action, account_id=login.primary_account_id)
    except idempotency.AlreadyDone:
        session.rollback()
        return False
    return True


def _carried_out(session: Session, idempotency_key: str, change) -> bool:
    """Run the existing domain change (it commits); a concurrent twin of the same submission committing first
    makes ours a no-op."""
    try:
        change()
    except IntegrityError:
        session.rollback()
        if _seen(session, idempotency_key):
            return False
        raise
    return True


def remove_passkey(session: Session, *, customer_id: int, passkey_id: int, idempotency_key: str, actor: Actor,
                   now: datetime) -> bool:
    """Remove one of the customer's passkeys (another customer's is NotFound). False: done before."""
    if _seen(session, idempotency_key):
        return False
    passkey = session.get(Passkey, passkey_id)
    login = _login_of_customer(session, customer_id, passkey.login_id if passkey else None)
    if not _once(session, idempotency_key, action="staff_passkey_remove", login=login):
        return False
    _tell(session, login, _l("at your request support removed the passkey \"%(name)s\" from your personal account. If "
                             "you did not call us, call %(support)s."), now=now, name=passkey.name)
    return _carried_out(session, idempotency_key, lambda: passkeys.remove(
        session, owner=passkeys.Owner(login_id=login.id), passkey_id=passkey_id,
        actor=_on_customers_account(actor, login), now=now))


def unlink_account(session: Session, *, customer_id: int, link_id: int, provider_names: dict[str, str],
                   idempotency_key: str, actor: Actor, now: datetime) -> bool:
    """Unlink one of the customer's outside sign-in accounts (another customer's is NotFound)."""
    if _seen(session, idempotency_key):
        return False
    link = session.get(SocialAccount, link_id)
    login = _login_of_customer(session, customer_id, link.login_id if link else None)
    if not _once(session, idempotency_key, action="staff_social_unlink", login=login):
        return False
    _tell(session, login, _l("at your request support unlinked your %(provider)s account: it no longer signs you "
                             "in. If you did not call us, call %(support)s."), now=now,
          provider=provider_name(link.provider, provider_names))
    return _carried_out(session, idempotency_key, lambda: social.unlink(
        session, login_id=login.id, link_id=link_id, actor=_on_customers_account(actor, login)))


def revoke_feed_key(session: Session, *, customer_id: int, token_id: int, idempotency_key: str, actor: Actor,
                    now: datetime) -> bool:
    """Revoke one of the customer's balance-feed keys (another customer's is NotFound)."""
    if _seen(session, idempotency_key):
        return False
    token = session.get(FeedToken, token_id)
    login = _login_of_customer(session, customer_id, token.login_id if token else None)
    if token.revoked_at is not None or not _once(session, idempotency_key, action="staff_feed_revoke", login=login):
        return False
    _tell(session, login, _l("at your request support revoked the balance feed key \"%(name)s\". If you did "
                             "not call us, call %(support)s."), now=now, name=token.name)
    return _carried_out(session, idempotency_key, lambda: feed.revoke_key(
        session, login_id=login.id, token_id=token_id, actor=_on_customers_account(actor, login), now=now))


@dataclass(frozen=True)
class Shut:
    passkeys: int
    linked: int
    feed_keys: int
    sessions: int


def shut_every_way_in(session: Session, *, customer_id: int, login_id: int, idempotency_key: str, actor: Actor,
                      now: datetime) -> Shut | None:
    """Remove every passkey, unlink every outside account, revoke every feed key and end every web session of
    the login, in one transaction; the password and the SMS password still work. None: done before."""
    if _seen(session, idempotency_key):
        return None
    login = _login_of_customer(session, customer_id, login_id)
    if not _once(session, idempotency_key, action="staff_shut_ways_in", login=login):
        return None
    removed = session.execute(delete(Passkey).where(Passkey.login_id == login.id)).rowcount
    unlinked = session.execute(delete(SocialAccount).where(SocialAccount.login_id == login.id)).rowcount
    revoked = session.execute(update(FeedToken).where(FeedToken.login_id == login.id, FeedToken.revoked_at.is_(None))
                              .values(revoked_at=now)).rowcount
    ended = session.execute(update(LoginSession).where(LoginSession.login_id == login.id,
                                                       LoginSession.revoked_at.is_(None))
                            .values(revoked_at=now)).rowcount
    shut = Shut(passkeys=removed, linked=unlinked, feed_keys=revoked, sessions=ended)
    record(session, _on_customers_account(actor, login), "ways_in_shut", obj=login,
           detail=f"passkeys {removed}, linked accounts {unlinked}, feed keys {revoked}, sessions {ended}")
    _tell(session, login, _l("at your request support signed you out everywhere and removed your passkeys, linked "
                             "accounts and balance feed keys. Sign in with your password or an SMS password. "
                             "If you did not call us, call %(support)s."), now=now)
    if not idempotency.commit_once(session):
        return None
    return shut

