"""Home extras that need a record of their own: a mailbox, an antivirus licence, a static IP address.

They are services like any other: ``services.connect_service`` charges their fees and calls
``attach`` in the same transaction, ``services.disconnect_service`` calls ``detach``.  The
catalog entry says which extra a service is by its code (``EXTRA_CODES``).
"""
import hashlib
import hmac
import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.domain.errors import DomainError
from portal.domain.passwords import check_new_password, hash_secret
from portal.models import AntivirusLicence, Mailbox, Service, StaticIp, Subscription

EXTRA_CODES = {"home-mailbox": "mailbox", "home-antivirus": "antivirus", "home-static-ip": "static_ip"}
MAILBOX_NAME = re.compile(r"^[a-z0-9._-]{3,30}$")
# Names a customer may not take: they would look like the operator's own addresses.
RESERVED_NAMES = frozenset({"abuse", "admin", "administrator", "billing", "hostmaster", "info", "mailer-daemon",
                            "noc", "noreply", "no-reply", "postmaster", "root", "security", "support", "webmaster"})
LICENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: typed from a screen


class ExtraRefused(DomainError):
    """The extra cannot be set up; the message says why (and which field, if any)."""


@dataclass(frozen=True)
class ExtraSetup:
    """What connecting an extra needs from the customer and the operator's configuration."""

    mailbox_name: str | None = None
    mailbox_password: str | None = None
    licence_key: str | None = None
    ip_pool: str | None = None


def extra_kind(service: Service) -> str | None:
    """"mailbox", "antivirus", "static_ip", or None for a service without a record of its own."""
    return EXTRA_CODES.get(service.code) if service.kind == "home" else None


def normalise_mailbox_name(name: str | None) -> str:
    return (name or "").strip().lower()


def check_mailbox_name(session: Session, name: str) -> None:
    """3–30 lowercase latin letters, digits, dot, dash, underscore; starts and ends with a letter or a digit; free."""
    if not MAILBOX_NAME.match(name) or not (name[0].isalnum() and name[-1].isalnum()) or ".." in name:
        raise ExtraRefused(_l("3 to 30 characters: lowercase latin letters, digits, dot, dash and underscore; "
                              "start and end with a letter or a digit."), field="mailbox_name")
    if name in RESERVED_NAMES or session.scalar(select(Mailbox.id).where(Mailbox.name == name)):
        raise ExtraRefused(_l("This name is taken. Choose another."), field="mailbox_name")


def licence_key(secret: str, seed: str) -> str:
    """A licence key derived from the form's idempotency key: a resubmitted form shows the same key again."""
    digest = hmac.new(secret.encode(), f"antivirus:{seed}".encode(), hashlib.sha256).digest()
    chars = "".join(LICENCE_ALPHABET[b % len(LICENCE_ALPHABET)] for b in digest[:20])
    return "-".join(chars[i:i + 4] for i in range(0, 20, 4))


def free_address(session: Session, pool: str) -> str:
    """The lowest address of ``pool`` (a CIDR) no contract holds."""
    taken = set(session.scalars(select(StaticIp.address)))
    for address in ipaddress.ip_network(pool, strict=False).hosts():
        if str(address) not in taken:
            return str(address)
    raise ExtraRefused(_l("No free static addresses are left just now. Please call support."))


def check_setup(session: Session, service: Service, setup: ExtraSetup | None) -> None:
    """Refuse before any money moves if the extra's details are missing or wrong."""
    kind = extra_kind(service)
    if kind is None:
        return
    if setup is None:
        raise ExtraRefused(_l("Connect it on the Home extras page: it needs a few details."))
    if kind == "mailbox":
        check_mailbox_name(session, normalise_mailbox_name(setup.mailbox_name))
        try:
            check_new_password(setup.mailbox_password or "", msisdn=None, min_length=8)
        except DomainError as err:
            raise ExtraRefused(err.message, field="mailbox_password") from None
    elif kind == "antivirus" and not setup.licence_key:
        raise ExtraRefused(_l("The licence key is missing."))
    elif kind == "static_ip":
        if not setup.ip_pool:
            raise ExtraRefused(_l("Static addresses are not offered just now."))
        free_address(session, setup.ip_pool)


def attach(session: Session, subscription: Subscription, setup: ExtraSetup | None, *, now: datetime) -> None:
    """Make the extra's record for a new subscription (``check_setup`` has passed); flushes to catch a race."""
    kind = extra_kind(subscription.service)
    if kind is None:
        return
    values = dict(account_id=subscription.account_id, subscription_id=subscription.id)
    if kind == "mailbox":
        session.add(Mailbox(**values, name=normalise_mailbox_name(setup.mailbox_name),
                            password_hash=hash_secret(setup.mailbox_password), created_at=now))
    elif kind == "antivirus":
        key = setup.licence_key.upper()
        session.add(AntivirusLicence(**values, key_hash=hash_secret(key), key_tail=key[-4:], created_at=now))
    else:
        session.add(StaticIp(**values, address=free_address(session, setup.ip_pool), assigned_at=now))
    try:
        session.flush()
    except IntegrityError:  # another customer took the name or the address a moment ago
        session.rollback()
        raise ExtraRefused(_l("This name is taken. Choose another.") if kind == "mailbox"
                           else _l("The address was just taken. Try again."),
                           field="mailbox_name" if kind == "mailbox" else None) from None


def detach(session: Session, subscription: Subscription, *, now: datetime) -> None:
    """Free what the extra held: the mailbox name, the address; the licence is revoked (kept for support)."""
    kind = extra_kind(subscription.service)
    if kind == "mailbox":
        for mailbox in session.scalars(select(Mailbox).where(Mailbox.subscription_id == subscription.id)):
            session.delete(mailbox)
    elif kind == "static_ip":
        for address in session.scalars(select(StaticIp).where(StaticIp.subscription_id == subscription.id)):
            session.delete(address)
    elif kind == "antivirus":
        for licence in session.scalars(select(AntivirusLicence).where(
                AntivirusLicence.subscription_id == subscription.id, AntivirusLicence.revoked_at.is_(None))):
            licence.revoked_at = now


def release_account(session: Session, account_id: int, *, now: datetime) -> None:
    """Free everything a terminated contract's extras held (its subscriptions end in bulk)."""
    session.execute(delete(Mailbox).where(Mailbox.account_id == account_id))
    session.execute(delete(StaticIp).where(StaticIp.account_id == account_id))
    session.execute(update(AntivirusLicence).where(AntivirusLicence.account_id == account_id,
                                                   AntivirusLicence.revoked_at.is_(None)).values(revoked_at=now))


@dataclass
class ExtrasRecords:
    mailboxes: dict[int, Mailbox]  # by subscription id
    licences: dict[int, AntivirusLicence]
    addresses: dict[int, StaticIp]


def extras_records(session: Session, account_id: int) -> ExtrasRecords:
    """The mailbox, licence and address of each active subscription of the account (one query)."""
    rows = session.execute(
        select(Subscription.id, Mailbox, AntivirusLicence, StaticIp)
        .outerjoin(Mailbox, Mailbox.subscription_id == Subscription.id)
        .outerjoin(AntivirusLicence, (AntivirusLicence.subscription_id == Subscription.id)
                   & AntivirusLicence.revoked_at.is_(None))
        .outerjoin(StaticIp, StaticIp.subscription_id == Subscription.id)
        .where(Subscription.account_id == account_id, Subscription.status == "active"))
    records = ExtrasRecords({}, {}, {})
    for subscription_id, mailbox, licence, address in rows:
        for found, into in ((mailbox, records.mailboxes), (licence, records.licences), (address, records.addresses)):
            if found is not None:
                into[subscription_id] = found
    return records
