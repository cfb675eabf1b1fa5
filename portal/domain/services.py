"""Services: the catalog a line sees, connecting and disconnecting them."""
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from portal.domain import alerts, home_extras, idempotency, ledger, provisioning
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.domain.overview import active_subscriptions
from portal.domain.tariffs import period_bounds
from portal.models import Account, AccountStatus, Service, Subscription

# Which service kinds an account of each kind may connect.
KINDS = {"mobile": ("mobile",), "home": ("home", "tv")}
# Categories in the order the catalog shows them.
CATEGORIES = ("calls", "internet", "roaming", "entertainment", "security", "number_management", "subscription",
              "tv", "home", "ringback")
# Ringback melodies are chosen on their own page (portal.domain.ringback), not from the services catalog.
OWN_PAGE_CATEGORIES = ("ringback",)
CATEGORY_LABELS = {
    "calls": _l("Calls"), "internet": _l("Internet"), "roaming": _l("Roaming"),
    "entertainment": _l("Entertainment"), "security": _l("Security"),
    "number_management": _l("Number management"), "subscription": _l("Paid subscriptions"),
    "tv": _l("TV"), "home": _l("Home extras"), "ringback": _l("Ringback melodies"),
}
# Services the network's switch turns on and off (their settings are switch commands too).
SWITCH_SERVICES = frozenset({"blacklist", "ringback-tone"})


class FeeNotAccepted(DomainError):
    """A paid service would start with this change: the customer ticks (``field``) that they agree to its fee."""


class ServiceRefused(DomainError):
    """The service cannot be connected or disconnected; the message says why."""


@dataclass(frozen=True)
class Offer:
    service: Service
    subscription: Subscription | None  # the active one, if connected
    refusal: str | None  # why it cannot be connected now, if so
    first_charge: int  # connection fee plus this period's share of the monthly fee


def _fraction_left(now: datetime) -> float:
    start, end = period_bounds(now)
    return (end - now) / (end - start)


def first_charge(service: Service, now: datetime) -> int:
    return service.connection_fee + round(service.monthly_fee * _fraction_left(now)) + service.daily_fee


def _refusal(account: Account, service: Service, active: list[Subscription], now: datetime):
    if account.status != AccountStatus.active.value:
        return _l("Services can be connected only on an active line.")
    if service.archived or service.kind not in KINDS[account.kind]:
        return _l("This service is no longer offered.")
    if service.tariffs and account.tariff not in service.tariffs:
        return _l("This service does not work with your tariff.")
    connected = {s.service_id: s.service for s in active}
    if service.id in connected:
        return _l("This service is already connected.")
    clash = next((s for s in connected.values() if s in service.conflicts or service in s.conflicts), None)
    if clash is not None:
        return _l("It cannot work together with “%(name)s”. Disconnect that one first.", name=clash.name)
    if account.balance < first_charge(service, now):
        return _l("The balance is too low to connect it. Top up first.")
    return None


def offer_for(session: Session, account: Account, service: Service, *, now: datetime) -> Offer:
    """One service's state and price for this account."""
    active = active_subscriptions(session, account.id)
    subscription = next((s for s in active if s.service_id == service.id), None)
    refusal = None if subscription else _refusal(account, service, active, now)
    return Offer(service, subscription, str(refusal) if refusal else None, first_charge(service, now))


def service_catalog(session: Session, account: Account, *, now: datetime) -> dict[str, list[Offer]]:
    """The services this account may see, by category, each with its state and price now."""
    services = session.scalars(
        select(Service).where(Service.kind.in_(KINDS[account.kind]), Service.archived.is_(False),
                              Service.category.not_in(OWN_PAGE_CATEGORIES))
        .options(selectinload(Service.tariffs), selectinload(Service.conflicts))
        .order_by(Service.name)
    ).all()
    active = active_subscriptions(session, account.id)
    by_service = {s.service_id: s for s in active}
    catalog = defaultdict(list)
    for service in services:
        subscription = by_service.get(service.id)
        refusal = None if subscription else _refusal(account, service, active, now)
        catalog[service.category].append(Offer(service, subscription, str(refusal) if refusal else None,
                                               first_charge(service, now)))
    order = {category: i for i, category in enumerate(CATEGORIES)}
    return {c: catalog[c] for c in sorted(catalog, key=lambda c: (order.get(c, len(order)), c))}


def offered_service(session: Session, account: Account, service_id: int) -> Service:
    service = session.get(Service, service_id)
    if service is None or service.archived or service.kind not in KINDS[account.kind] \
            or service.category in OWN_PAGE_CATEGORIES:
        raise NotFound("service")
    return service


def account_subscription(session: Session, account: Account, subscription_id: int) -> Subscription:
    """An active subscription of this account; NotFound for anyone else's."""
    subscription = session.get(Subscription, subscription_id)
    if subscription is None or subscription.account_id != account.id or subscription.status != "active":
        raise NotFound("subscription")
    return subscription


def connect_service(session: Session, *, account_id: int, service_id: int, idempotency_key: str, actor: Actor,
                    now: datetime, setup: home_extras.ExtraSetup | None = None) -> bool:
    """Connect now: connection fee and this period's share of the monthly fee, subscription, audit.

    A home extra with a record of its own (mailbox, antivirus, static IP) needs ``setup``; its
    record is made in the same transaction.  False when this submission was carried out before.
    """
    account = idempotency.lock_account_for(session, account_id=account_id, idempotency_key=idempotency_key,
                                           action="connect_service")
    if account is None:
        return False
    service = session.get(Service, service_id)
    if service is None:
        session.rollback()
        raise NotFound("service")
    try:
        subscribe(session, account, service, key=idempotency_key, actor=actor, now=now, setup=setup)
    except DomainError:
        session.rollback()
        raise
    return idempotency.commit_once(session)


def subscribe(session: Session, account: Account, service: Service, *, key: str, actor: Actor, now: datetime,
              setup: home_extras.ExtraSetup | None = None) -> Subscription:
    """Connect in the caller's transaction (the account row locked, the submission's key claimed)."""
    refusal = _refusal(account, service, active_subscriptions(session, account.id), now)
    if refusal:
        raise ServiceRefused(refusal)
    home_extras.check_setup(session, service, setup)
    charges = (("connect", service.connection_fee, _l("Connection: %(name)s", name=service.name)),
               ("month", round(service.monthly_fee * _fraction_left(now)),
                _l("%(name)s, rest of the month", name=service.name)),
               ("day", service.daily_fee, _l("%(name)s, today", name=service.name)))
    for suffix, amount, description in charges:
        if amount:
            ledger.post(session, account, amount=-amount, kind="service_fee", key=f"svc:{key}:{suffix}",
                        description=description, now=now, coded=True)
    subscription = Subscription(account_id=account.id, service_id=service.id, status="active", since=now,
                                service=service)
    session.add(subscription)
    session.flush()
    home_extras.attach(session, subscription, setup, now=now)
    if service.code in SWITCH_SERVICES:
        provisioning.queue_command(session, account, subject=f"service:{service.code}", operation="service.on",
                                   params={"service": service.code})
    alerts.notify(session, account=account, event="change", now=now, name=service.name,
                  message=_l("the service %(name)s is connected."))
    record(session, actor, "service_connected", obj=account, detail=service.code)
    return subscription


def disconnect_service(session: Session, *, account_id: int, subscription_id: int, idempotency_key: str,
                       actor: Actor, now: datetime) -> None:
    """End the subscription now; the unused part of the month comes back only if the service says so."""
    account = idempotency.lock_account_for(session, account_id=account_id, idempotency_key=idempotency_key,
                                           action="disconnect_service")
    if account is None:
        return
    subscription = session.get(Subscription, subscription_id, populate_existing=True)
    if subscription is None or subscription.account_id != account_id:
        session.rollback()
        raise NotFound("subscription")
    if subscription.status != "active":
        session.rollback()
        return  # already disconnected: nothing to do twice
    unsubscribe(session, account, subscription, key=idempotency_key, actor=actor, now=now)
    idempotency.commit_once(session)


def unsubscribe(session: Session, account: Account, subscription: Subscription, *, key: str, actor: Actor,
                now: datetime) -> None:
    """End an active subscription in the caller's transaction (the account row locked)."""
    subscription.status = "ended"
    subscription.until = now
    service = subscription.service
    home_extras.detach(session, subscription, now=now)
    refund = round(service.monthly_fee * _fraction_left(now)) if service.refund_unused else 0
    if refund:
        ledger.post(session, account, amount=refund, kind="adjustment", key=f"svc:{key}:refund",
                    description=_l("Unused part of %(name)s", name=service.name), now=now)
    if service.code in SWITCH_SERVICES:
        provisioning.queue_command(session, account, subject=f"service:{service.code}", operation="service.off",
                                   params={"service": service.code})
    alerts.notify(session, account=account, event="change", now=now, name=service.name,
                  message=_l("the service %(name)s is disconnected."))
    record(session, actor, "service_disconnected", obj=account, detail=service.code)


def active_subscription(session: Session, account_id: int, code: str) -> Subscription | None:
    """The account's active subscription to the service with this code, if any."""
    return session.scalar(select(Subscription).join(Service).where(
        Subscription.account_id == account_id, Subscription.status == "active", Service.code == code))


def service_by_code(session: Session, code: str) -> Service | None:
    """A service the operator offers now, by its catalog code (features built on one: blacklist, melodies)."""
    return session.scalar(select(Service).where(Service.code == code, Service.archived.is_(False)))
