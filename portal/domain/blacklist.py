"""The blacklist: numbers whose calls and SMS to the line the switch rejects.

It is a paid service (a daily fee): the first number added connects it, once the customer
has agreed to the fee; emptying the list disconnects it if they say so. Each number added
or removed is one switch command of its own, so one refused number can be tried again
without resending the others.
"""
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain import idempotency, provisioning, services
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.domain.phones import mask_msisdn
from portal.domain.services import FeeNotAccepted
from portal.models import BlacklistEntry, SwitchCommand

SERVICE_CODE = "blacklist"


class BlacklistRefused(DomainError):
    field = "number"


def subject(msisdn: str) -> str:
    return f"blacklist:{msisdn}"


def entries_of(session: Session, account_id: int) -> list[BlacklistEntry]:
    return list(session.scalars(select(BlacklistEntry).where(BlacklistEntry.account_id == account_id)
                                .order_by(BlacklistEntry.id.desc())))


def states_of(session: Session, account_id: int, entries: list[BlacklistEntry]) -> dict[str, SwitchCommand]:
    """The switch's state of each listed number and of the service itself, by subject."""
    return provisioning.latest(session, account_id, [subject(e.msisdn) for e in entries] + [f"service:{SERVICE_CODE}"])


def add_number(session: Session, *, account_id: int, msisdn: str, accept_fee: bool, limit: int,
               idempotency_key: str, actor: Actor, now: datetime) -> bool:
    """Put a number on the list (connecting the service first if needed); False for a repeated submission."""
    account = idempotency.lock_line_for(session, account_id=account_id, idempotency_key=idempotency_key,
                                        action="blacklist_add")
    if account is None:
        return False
    try:
        if msisdn == account.line.msisdn:
            raise BlacklistRefused(_l("This is the number itself."))
        entries = session.scalar(select(func.count()).select_from(BlacklistEntry)
                                 .where(BlacklistEntry.account_id == account.id))
        if session.scalar(select(BlacklistEntry.id).where(BlacklistEntry.account_id == account.id,
                                                          BlacklistEntry.msisdn == msisdn)):
            raise BlacklistRefused(_l("This number is already on the list."))
        if entries >= limit:
            raise BlacklistRefused(_l("The list holds at most %(limit)d numbers. Remove some first.", limit=limit))
        if services.active_subscription(session, account.id, SERVICE_CODE) is None:
            service = services.service_by_code(session, SERVICE_CODE)
            if service is None:
                raise BlacklistRefused(_l("The blacklist is not offered at the moment."), field=None)
            if not accept_fee:
                raise FeeNotAccepted(_l("The blacklist is a paid service: tick the box to connect it."),
                                     field="connect")
            services.subscribe(session, account, service, key=idempotency_key, actor=actor, now=now)
    except DomainError:
        session.rollback()
        raise
    session.add(BlacklistEntry(account_id=account.id, msisdn=msisdn, created_at=now))
    provisioning.queue_command(session, account, subject=subject(msisdn), operation="blacklist.add",
                               params={"number": msisdn})
    record(session, actor, "blacklist_added", obj=account, account_id=account.id, detail=mask_msisdn(msisdn))
    return idempotency.commit_once(session)


def remove_numbers(session: Session, *, account_id: int, entry_ids: list[int], disconnect_if_empty: bool,
                   idempotency_key: str, actor: Actor, now: datetime) -> bool:
    """Take numbers off the list; an emptied list ends the service if the customer asked. False: done before."""
    account = idempotency.lock_account_for(session, account_id=account_id, idempotency_key=idempotency_key,
                                           action="blacklist_remove")
    if account is None:
        return False
    wanted = set(entry_ids)
    entries = [e for e in entries_of(session, account.id) if e.id in wanted]
    if not wanted or len(entries) != len(wanted):
        session.rollback()
        raise NotFound("entry")  # someone else's entry, or one removed already
    for entry in entries:
        session.delete(entry)
        provisioning.queue_command(session, account, subject=subject(entry.msisdn), operation="blacklist.remove",
                                   params={"number": entry.msisdn})
        record(session, actor, "blacklist_removed", obj=account, account_id=account.id,
               detail=mask_msisdn(entry.msisdn))
    session.flush()
    subscription = services.active_subscription(session, account.id, SERVICE_CODE)
    if disconnect_if_empty and subscription is not None and not entries_of(session, account.id):
        services.unsubscribe(session, account, subscription, key=idempotency_key, actor=actor, now=now)
    return idempotency.commit_once(session)
