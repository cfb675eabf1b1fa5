"""Sign-in with an outside account (issue 18, point 8): VK ID, Yandex ID or any OpenID Connect provider.

A provider account (its provider key and subject: the provider's stable user id) is linked to a login only by
the login's owner, signed in; it then opens that login. It never creates a login: an unknown subject signs no one
in. The owner's number is told by SMS when an account is linked, so a link made behind their back is noticed.
"""
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.domain import alerts
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.models import Login, SocialAccount

SHOWN_MAX = 120


class LinkRefused(DomainError):
    status = 409


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in: its subject and what the owner may see to recognise the account."""

    provider: str
    subject: str
    shown: str = ""


def mask_email(email: str) -> str:
    """ivan.petrov@yandex.ru → iv***@yandex.ru: enough to recognise one's own address, not to learn another's."""
    name, at, domain = email.partition("@")
    if not at:
        return name[:2] + "***"
    return f"{name[:2]}***@{domain}"


def mask_name(first: str, last: str = "") -> str:
    """Ivan Petrov → Ivan P."""
    first, last = first.strip(), last.strip()
    return f"{first} {last[:1]}.".strip() if last else first


def shown_as(*, email: str | None = None, first_name: str | None = None, last_name: str | None = None) -> str:
    """What the devices page shows of an outside account: a masked e-mail, else the first name and an initial."""
    if email:
        return mask_email(email)[:SHOWN_MAX]
    return mask_name(first_name or "", last_name or "")[:SHOWN_MAX]


def links_of(session: Session, login_id: int) -> list[SocialAccount]:
    return list(session.scalars(select(SocialAccount).where(SocialAccount.login_id == login_id)
                                .order_by(SocialAccount.provider)))


def find_link(session: Session, *, provider: str, subject: str) -> SocialAccount | None:
    return session.scalar(select(SocialAccount).where(SocialAccount.provider == provider,
                                                      SocialAccount.subject == subject))


def login_for(session: Session, identity: Identity) -> Login | None:
    """The login this outside account opens, if its owner linked it and the login is switched on."""
    link = find_link(session, provider=identity.provider, subject=identity.subject)
    if link is None:
        return None
    login = session.get(Login, link.login_id)
    return login if login is not None and login.enabled else None


def link(session: Session, *, login_id: int, identity: Identity, provider_name: str, actor: Actor,
         now: datetime) -> SocialAccount:
    """Link an outside account to the login (again: nothing changes); the login's number is told by SMS.

    Refused if the account opens another login, or the login already has another account of this provider."""
    existing = find_link(session, provider=identity.provider, subject=identity.subject)
    if existing is not None:
        if existing.login_id != login_id:
            raise LinkRefused(_l("This %(provider)s account is already linked to another personal account. "
                                 "Unlink it there first.", provider=provider_name))
        return existing
    if session.scalar(select(SocialAccount.id).where(SocialAccount.login_id == login_id,
                                                     SocialAccount.provider == identity.provider)):
        raise LinkRefused(_l("Another %(provider)s account is linked already. Unlink it first.",
                             provider=provider_name))
    row = SocialAccount(login_id=login_id, provider=identity.provider, subject=identity.subject,
                        shown=identity.shown[:SHOWN_MAX], linked_at=now)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # the same link made at the same moment elsewhere (another tab, a double click)
        session.rollback()
        return link(session, login_id=login_id, identity=identity, provider_name=provider_name, actor=actor, now=now)
    record(session, actor, "social_linked", obj=row, detail=identity.provider)
    login = session.get(Login, login_id)
    alerts.notify(session, account=login.primary_account, event=alerts.SECURITY, now=now, provider=provider_name,
                  message=_l("a %(provider)s account can now sign in to your personal account. If it was not you, "
                             "call %(support)s."))
    session.commit()
    return row


def unlink(session: Session, *, login_id: int, link_id: int, actor: Actor) -> SocialAccount:
    """Unlink one of the login's outside accounts; another login's is NotFound."""
    row = session.get(SocialAccount, link_id)
    if row is None or row.login_id != login_id:
        raise NotFound(_l("Not found."))
    record(session, actor, "social_unlinked", obj=row, detail=row.provider)
    session.delete(row)
    session.commit()
    return row


def signed_in_with(session: Session, *, login: Login, identity: Identity, ip: str | None, now: datetime) -> None:
    """Note a sign-in with an outside account (the caller opens the device session, which commits)."""
    row = find_link(session, provider=identity.provider, subject=identity.subject)
    row.last_used_at = now
    record(session, Actor(login_id=login.id, account_id=login.primary_account_id, ip=ip), "login", obj=login,
           detail=f"social {identity.provider}")
    session.flush()
