"""TV on a home contract: the packages with their channel lists, and the parental PIN for adult channels."""
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.domain import services
from portal.domain.accounts import lock_account
from portal.domain.alerts import owner_language
from portal.domain.audit import Actor, record
from portal.domain.auth import TryLater
from portal.domain.errors import DomainError, NotFound
from portal.domain.passwords import check_secret, hash_secret
from portal.domain.sms import daily_quota_retry_after, queue_sms
from portal.models import Account, AuditEvent, ParentalPin, TvChannel, tv_package_channel

PIN_FORMAT = re.compile(r"^[0-9]{4}$")
PIN_SMS_PURPOSE = "parental_pin"
PIN_FAILED = "parental_pin_failed"


class PinRefused(DomainError):
    """The PIN cannot be set or sent; the message says why."""


class NotHomeContract(NotFound):
    """The account is a mobile line: TV and home extras belong to home contracts."""


@dataclass(frozen=True)
class TvPackage:
    offer: services.Offer
    channels: list[TvChannel]

    @property
    def adult(self) -> bool:
        return any(c.adult for c in self.channels)


def require_home(account: Account) -> None:
    if account.kind != "home" or account.home_contract is None:
        raise NotHomeContract("account")


def tv_packages(session: Session, account: Account, *, now: datetime) -> list[TvPackage]:
    """The TV packages this contract may see, each with its state, price and channels (by number)."""
    offers = [o for group in services.service_catalog(session, account, now=now).values() for o in group
              if o.service.kind == "tv"]
    channels: dict[int, list[TvChannel]] = {o.service.id: [] for o in offers}
    if offers:
        rows = session.execute(
            select(tv_package_channel.c.service_id, TvChannel)
            .join(TvChannel, TvChannel.id == tv_package_channel.c.channel_id)
            .where(tv_package_channel.c.service_id.in_(channels))
            .order_by(TvChannel.number, TvChannel.name))
        for service_id, channel in rows:
            channels[service_id].append(channel)
    return [TvPackage(o, channels[o.service.id]) for o in offers]


def has_parental_pin(session: Session, account_id: int) -> bool:
    return session.get(ParentalPin, account_id) is not None


def _check_format(pin: str | None, field: str) -> str:
    pin = (pin or "").strip()
    if not PIN_FORMAT.match(pin):
        raise PinRefused(_l("The PIN is 4 digits."), field=field)
    return pin


def _home_for_update(session: Session, account_id: int) -> Account:
    account = lock_account(session, account_id)
    if account is None or account.kind != "home" or account.home_contract is None:
        session.rollback()
        raise NotHomeContract("account")
    return account


def _pin_failures_retry_after(session: Session, *, account_id: int, login_id: int | None, per_day: int,
                              now: datetime) -> datetime | None:
    """Wrong old PINs in the last 24 hours on this contract or by this login, whichever session typed them."""
    who = [AuditEvent.account_id == account_id] + ([AuditEvent.login_id == login_id] if login_id else [])
    times = session.scalars(select(AuditEvent.created_at).where(
        AuditEvent.action == PIN_FAILED, AuditEvent.created_at > now - timedelta(days=1), or_(*who))
        .order_by(AuditEvent.created_at.desc())).all()
    return times[per_day - 1] + timedelta(days=1) if len(times) >= per_day else None


def set_parental_pin(session: Session, *, account_id: int, pin: str, old_pin: str | None, actor: Actor,
                     now: datetime, failures_per_day: int = 5) -> None:
    """Set the PIN (4 digits); changing one that exists needs the old PIN.

    Wrong old PINs are counted in the database per contract and per login, so signing in
    again does not buy more guesses (10 000 PINs at ``failures_per_day`` take years).
    """
    pin = _check_format(pin, "pin")
    account = _home_for_update(session, account_id)
    current = session.get(ParentalPin, account.id)
    if current is not None:
        retry_after = _pin_failures_retry_after(session, account_id=account.id, login_id=actor.login_id,
                                                per_day=failures_per_day, now=now)
        if retry_after:
            session.rollback()
            raise TryLater(_l("Too many wrong PINs today. Forgot it? Get a new one by SMS."), retry_after,
                           field="old_pin")
        if not check_secret(current.pin_hash, (old_pin or "").strip()):
            record(session, actor, PIN_FAILED, obj=account, account_id=account.id)
            session.commit()
            raise PinRefused(_l("The current PIN is wrong. Forgot it? Get a new one by SMS."), field="old_pin")
    if current is None:
        session.add(ParentalPin(account_id=account.id, pin_hash=hash_secret(pin), updated_at=now))
    else:
        current.pin_hash = hash_secret(pin)
        current.updated_at = now
    record(session, actor, "parental_pin_set" if current is None else "parental_pin_changed", obj=account)
    session.commit()


def reset_parental_pin(session: Session, *, account_id: int, actor: Actor, now: datetime, per_day: int,
                       sms_locale: str) -> None:
    """A new random PIN, sent by SMS to the contract's contact phone; at most ``per_day`` a day."""
    account = _home_for_update(session, account_id)
    phone = account.home_contract.contact_phone
    if not phone:
        session.rollback()
        raise PinRefused(_l("The contract has no contact phone to send the PIN to. Please call support."))
    retry_after = daily_quota_retry_after(session, to=phone, purpose=PIN_SMS_PURPOSE, per_day=per_day, now=now)
    if retry_after:
        session.rollback()
        raise TryLater(_l("The PIN was sent too many times today."), retry_after)
    pin = f"{secrets.randbelow(10_000):04d}"
    current = session.get(ParentalPin, account.id)
    if current is None:
        session.add(ParentalPin(account_id=account.id, pin_hash=hash_secret(pin), updated_at=now))
    else:
        current.pin_hash = hash_secret(pin)
        current.updated_at = now
    with force_locale(owner_language(session, account.id, sms_locale)):
        text = gettext("Parental-control PIN for TV, contract %(no)s: %(pin)s. Never tell it to children.",
                       no=account.home_contract.contract_no, pin=pin)
    queue_sms(session, to=phone, text=text, purpose=PIN_SMS_PURPOSE).created_at = now  # the quota counts these
    record(session, actor, "parental_pin_reset", obj=account)
    session.commit()

