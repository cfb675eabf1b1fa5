"""Ringback tones: the melody callers hear instead of the ringing tone.

Each melody is a service of the "ringback" category with its own price a day, and the
"Ringback melody" service is the paid base; both are connected through the services
catalog (so the billing run charges them like any daily service). A melody is set for
every caller or for chosen numbers; a melody no longer used by any choice is
disconnected, and so is the base when the last choice goes. Every choice is a switch
command of its own.
"""
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from portal.domain import idempotency, provisioning, services
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.domain.phones import mask_msisdn
from portal.domain.services import FeeNotAccepted
from portal.models import Melody, RingbackChoice, Service, SwitchCommand

BASE_CODE = "ringback-tone"
CATEGORY = "ringback"
EVERYONE = ""  # RingbackChoice.caller for "every caller"
MAX_PERSONAL = 50


class RingbackRefused(DomainError):
    field = "caller"


def subject(caller: str) -> str:
    return f"ringback:{caller or 'all'}"


def catalog(session: Session) -> list[Melody]:
    """The melodies on offer, cheapest first."""
    return list(session.scalars(select(Melody).join(Melody.service).options(joinedload(Melody.service))
                                .where(Service.category == CATEGORY, Service.archived.is_(False))
                                .order_by(Service.daily_fee, Service.name)))


def melody(session: Session, melody_id: int) -> Melody:
    found = session.get(Melody, melody_id, options=[joinedload(Melody.service)])
    if found is None or found.service.archived or found.service.category != CATEGORY:
        raise NotFound("melody")
    return found


def choices_of(session: Session, account_id: int) -> list[RingbackChoice]:
    """Every-caller first, then the numbers in the order they were added."""
    return list(session.scalars(select(RingbackChoice).options(joinedload(RingbackChoice.melody)
                                                               .joinedload(Melody.service))
                                .where(RingbackChoice.account_id == account_id)
                                .order_by(RingbackChoice.caller != EVERYONE, RingbackChoice.id)))


def states_of(session: Session, account_id: int, choices: list[RingbackChoice]) -> dict[str, SwitchCommand]:
    return provisioning.latest(session, account_id, [subject(c.caller) for c in choices] + [f"service:{BASE_CODE}"])


def new_fees(session: Session, account_id: int, chosen: Melody) -> list[Service]:
    """The services whose daily fee would start with this choice (the base and the melody, if not connected)."""
    connected = {s.service.code for s in services.active_subscriptions(session, account_id)}
    base = services.service_by_code(session, BASE_CODE)
    return [s for s in (base, chosen.service) if s is not None and s.code not in connected]


def set_melody(session: Session, *, account_id: int, melody_id: int, caller: str | None, accept_fee: bool,
               idempotency_key: str, actor: Actor, now: datetime) -> bool:
    """Set a melody for every caller (``caller`` None) or one number; False for a repeated submission."""
    caller = caller or EVERYONE
    account = idempotency.lock_line_for(session, account_id=account_id, idempotency_key=idempotency_key,
                                        action="ringback_set")
    if account is None:
        return False
    try:
        chosen = melody(session, melody_id)
        if caller == account.line.msisdn:
            raise RingbackRefused(_l("This is the number itself."))
        existing = session.scalar(select(RingbackChoice).where(RingbackChoice.account_id == account.id,
                                                               RingbackChoice.caller == caller))
        personal = session.scalar(select(func.count()).select_from(RingbackChoice).where(
            RingbackChoice.account_id == account.id, RingbackChoice.caller != EVERYONE))
        if caller != EVERYONE and existing is None and personal >= MAX_PERSONAL:
            raise RingbackRefused(_l("At most %(n)d numbers can have a melody of their own.", n=MAX_PERSONAL))
        starting = new_fees(session, account.id, chosen)
        if starting and not accept_fee:
            raise FeeNotAccepted(_l("Tick the box to agree to the daily fee."), field="accept")
        for service in starting:
            services.subscribe(session, account, service, key=f"{idempotency_key}:{service.code}", actor=actor,
                               now=now)
    except DomainError:
        session.rollback()
        raise
    replaced = existing.melody_id if existing else None
    if existing is None:
        existing = RingbackChoice(account_id=account.id, caller=caller, created_at=now)
        session.add(existing)
    existing.melody_id = chosen.service_id
    session.flush()
    provisioning.queue_command(session, account, subject=subject(caller), operation="ringback.set",
                               params={"caller": caller or "all", "melody": chosen.service.code})
    if replaced and replaced != chosen.service_id:
        _end_unused_melodies(session, account, idempotency_key, actor, now)
    record(session, actor, "ringback_set", obj=account, account_id=account.id,
           detail=f"{chosen.service.code} for {mask_msisdn(caller) if caller else 'all'}")
    return idempotency.commit_once(session)


def remove_choices(session: Session, *, account_id: int, choice_ids: list[int], idempotency_key: str, actor: Actor,
                   now: datetime) -> bool:
    """Back to the ringing tone for these; melodies left unused (and the base, if none is left) end."""
    account = idempotency.lock_account_for(session, account_id=account_id, idempotency_key=idempotency_key,
                                           action="ringback_remove")
    if account is None:
        return False
    wanted = set(choice_ids)
    choices = [c for c in choices_of(session, account.id) if c.id in wanted]
    if not wanted or len(choices) != len(wanted):
        session.rollback()
        raise NotFound("choice")
    for choice in choices:
        provisioning.queue_command(session, account, subject=subject(choice.caller), operation="ringback.remove",
                                   params={"caller": choice.caller or "all"})
        record(session, actor, "ringback_removed", obj=account, account_id=account.id,
               detail=mask_msisdn(choice.caller) if choice.caller else "all")
        session.delete(choice)
    session.flush()
    _end_unused_melodies(session, account, idempotency_key, actor, now)
    return idempotency.commit_once(session)


def _end_unused_melodies(session: Session, account, key: str, actor: Actor, now: datetime) -> None:
    used = set(session.scalars(select(RingbackChoice.melody_id).where(RingbackChoice.account_id == account.id)))
    for subscription in services.active_subscriptions(session, account.id):
        service = subscription.service
        unused_melody = service.category == CATEGORY and service.id not in used
        if unused_melody or (service.code == BASE_CODE and not used):
            services.unsubscribe(session, account, subscription, key=f"{key}:{service.code}", actor=actor, now=now)
