"""SMS alerts: the one place that decides whether an event sends an SMS to a line, and when.

Features call ``notify`` (or ``balance_moved`` from the ledger); the account's
alert settings say whether the event is wanted, the owner's language picks the
text, and quiet hours (in the owner's time zone) hold the SMS until they end.
"""
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from functools import partial
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import formatting
from portal.domain import paylink
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError
from portal.domain.sms import queue_sms
from portal.models import Account, AlertSettings, HeldAlert, Login

EVENTS = ("low_balance", "payment", "change", "new_device", "login", "outage", "suspended")
# Money coming in: the "payment received" alert.
PAYMENT_KINDS = frozenset({"card_topup", "voucher", "transfer_in"})


class InvalidAlertSettings(DomainError):
    pass


@dataclass(frozen=True)
class AlertPolicy:
    brand: str
    default_timezone: str
    default_locale: str
    support_phone: str
    public_url: str | None = None
    secret: str = ""

    def pay_link(self, account: Account) -> str | None:
        """The signed pay-without-a-password link of a mobile line (None without PUBLIC_URL, or for a home
        contract: its alerts go to a contact phone, the page is a line's)."""
        if not self.public_url or account.line is None:
            return None
        return f"{self.public_url.rstrip('/')}/p/{paylink.make_token(account.id, secret=self.secret)}"

    @classmethod
    def current(cls) -> "AlertPolicy":
        # Alerts start deep inside money and auth functions: the app's settings are read
        # here rather than threaded through every caller (app state, not request state).
        cfg = current_app.config
        return cls(brand=cfg["BRAND"], default_timezone=cfg["BABEL_DEFAULT_TIMEZONE"],
                   default_locale=cfg["BABEL_DEFAULT_LOCALE"], public_url=cfg["PUBLIC_URL"], secret=cfg["SECRET_KEY"],
                   support_phone=cfg["SUPPORT_PHONE"])


def settings_of(session: Session, account_id: int) -> AlertSettings:
    """The account's settings, or the defaults (not added to the session)."""
    return session.get(AlertSettings, account_id) or AlertSettings(
        account_id=account_id, low_balance_below=None, on_payment=True, on_change=True, on_new_device=True,
        on_every_login=False, on_outages=False, quiet_from=None, quiet_to=None)


# A new way into the personal account or a change of how support knows the caller: sent at once, whatever the
# settings and the quiet hours, since whoever made it unasked would choose the night for it.
SECURITY = "security"


def wanted(settings: AlertSettings, event: str) -> bool:
    if event in (SECURITY, "support", "suspended", "locator"):
        # a security notice; staff answered the customer's own request, the line stopped, someone looked up where
        # the line is: always sent
        return True
    return {"low_balance": settings.low_balance_below is not None, "payment": settings.on_payment,
            "change": settings.on_change, "new_device": settings.on_new_device,
            "login": settings.on_every_login, "outage": settings.on_outages}[event]


def quiet_until(settings: AlertSettings, now: datetime, zone: str) -> datetime | None:
    """When the quiet hours around ``now`` end (naive UTC), or None when ``now`` is not in them."""
    if settings.quiet_from is None or settings.quiet_to is None or settings.quiet_from == settings.quiet_to:
        return None
    local = now.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(zone))
    minute = local.hour * 60 + local.minute
    start, end = settings.quiet_from, settings.quiet_to
    inside = start <= minute < end if start < end else (minute >= start or minute < end)
    if not inside:
        return None
    end_day = local.date() + timedelta(days=1) if minute >= end else local.date()
    local_end = datetime.combine(end_day, time(end // 60, end % 60), tzinfo=ZoneInfo(zone))
    return local_end.astimezone(timezone.utc).replace(tzinfo=None)


def _owner_login(session: Session, account_id: int) -> Login | None:
    return session.scalar(select(Login).where(Login.primary_account_id == account_id))


def owner_language(session: Session, account_id: int, default: str) -> str:
    """The language SMS texts to an account are written in: its owner's saved one, else ``default``."""
    login = _owner_login(session, account_id)
    return (login.language if login else None) or default


def _recipient(account: Account) -> str | None:
    if account.line is not None:
        return account.line.msisdn
    return account.home_contract.contact_phone if account.home_contract is not None else None


def notify(session: Session, *, account: Account, event: str, message, now: datetime, **params) -> HeldAlert | None:
    """Send (or hold for quiet hours) the alert for ``event`` if the account wants it; the caller commits.

    ``message`` is a lazy string with %(name)s placeholders; it is rendered in the owner's language.
    Returns the held alert when quiet hours hold it.
    """
    settings = settings_of(session, account.id)
    to = _recipient(account)
    if to is None or not wanted(settings, event):
        return None
    policy = AlertPolicy.current()
    login = _owner_login(session, account.id)
    with force_locale((login.language if login else None) or policy.default_locale):
        # A value may be a function (an amount to format): it writes itself in the owner's language.
        # %(support)s: the support line, for the notices that say whom to call.
        values = {"support": policy.support_phone, **{k: v() if callable(v) else v for k, v in params.items()}}
        text = f"{policy.brand}: {str(message) % values}"
    hold = None if event == SECURITY else quiet_until(settings, now,
                                                      (login.timezone if login else None) or policy.default_timezone)
    if hold is not None:
        held = HeldAlert(account_id=account.id, to=to, event=event, text=text[:500], created_at=now, hold_until=hold)
        session.add(held)
        return held
    queue_sms(session, to=to, text=text, purpose="alert")
    return None


def balance_moved(session: Session, *, account: Account, before: int, after: int, now: datetime) -> None:
    """The low-balance alert, once, when the balance goes below the line's threshold."""
    if after >= before:
        return
    threshold = settings_of(session, account.id).low_balance_below
    if threshold is not None and before >= threshold > after:
        link = AlertPolicy.current().pay_link(account)
        notify(session, account=account, event="low_balance", now=now,
               message=_l("your balance is %(balance)s, below the %(threshold)s you set. Pay without a password: "
                          "%(link)s") if link else
               _l("your balance is %(balance)s, below the %(threshold)s you set. Top up to stay connected."),
               balance=partial(formatting.money, after), threshold=partial(formatting.money, threshold),
               **({"link": link} if link else {}))


def suspended(session: Session, *, account: Account, now: datetime) -> None:
    """The line is suspended (an unpaid promised payment): always said, with the pay link where there is one."""
    link = AlertPolicy.current().pay_link(account)
    notify(session, account=account, event="suspended", now=now,
           message=_l("the number is suspended: a promised payment was not paid. Pay without a password: %(link)s")
           if link else _l("the number is suspended: a promised payment was not paid. Top up to use it again."),
           **({"link": link} if link else {}))


def release_due(session: Session, *, now: datetime) -> int:
    """Send the held alerts whose quiet hours are over (commits); the alerts job runs it."""
    due = list(session.scalars(select(HeldAlert).where(HeldAlert.sent_at.is_(None), HeldAlert.hold_until <= now)
                               .order_by(HeldAlert.id).with_for_update(skip_locked=True)))
    for held in due:
        queue_sms(session, to=held.to, text=held.text, purpose="alert")
        held.sent_at = now
    session.commit()
    return len(due)


def save_settings(session: Session, *, account_id: int, low_balance_below: int | None, on_payment: bool,
                  on_change: bool, on_new_device: bool, on_every_login: bool, quiet_from: int | None,
                  quiet_to: int | None, actor: Actor, now: datetime, on_outages: bool = False) -> None:
    if low_balance_below is not None and not 0 <= low_balance_below <= 10_000_00:
        raise InvalidAlertSettings(_l("Choose an amount from %(min)s to %(max)s.", min=formatting.money(0, whole=True),
                                      max=formatting.money(10_000_00, whole=True)), field="low_balance_below")
    if (quiet_from is None) != (quiet_to is None):
        raise InvalidAlertSettings(_l("Give both the start and the end of the quiet hours, or neither."),
                                   field="quiet_to")
    for value, field in ((quiet_from, "quiet_from"), (quiet_to, "quiet_to")):
        if value is not None and not 0 <= value < 24 * 60:
            raise InvalidAlertSettings(_l("Choose a time of day."), field=field)
    settings = session.get(AlertSettings, account_id, with_for_update=True)
    if settings is None:
        settings = AlertSettings(account_id=account_id)
        session.add(settings)
    settings.low_balance_below, settings.on_payment, settings.on_change = low_balance_below, on_payment, on_change
    settings.on_new_device, settings.on_every_login = on_new_device, on_every_login
    settings.on_outages = on_outages
    settings.quiet_from, settings.quiet_to, settings.updated_at = quiet_from, quiet_to, now
    record(session, actor, "alerts_changed", account_id=account_id, object_type="account", object_id=str(account_id))
    session.commit()
