"""The family locator («Где мои близкие», issue 18 point 2): a line with the service asks to see where another
number is; the holder agrees with a code sent to them by SMS (they tell it to the seeker) or by signing in, and may
revoke at any time; every lookup is listed to the holder and noticed by SMS, a few a day at most.

Only numbers of ours can be located, but the seeker is never told whether a number is ours: a request is made
either way, and only our numbers get the SMS with the code (a request to another number lapses unanswered).
The parental rule: a line under the seeker's own personal account and customer that its owner marked as used by
a child under 14 is granted by the owner, with no code; the child's line still gets the SMS notices of lookups.

The network is asked with no database lock held and no transaction open (``locate``): the lookup is committed as
pending first, and its answer is recorded once, however often it comes.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from portal.domain import alerts, services
from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.domain.idempotency import lock_account_for
from portal.domain.locator.network import LocatorUnavailable, NetworkLocator, Position
from portal.domain.passwords import check_secret, hash_secret
from portal.domain.phones import format_msisdn
from portal.domain.sms import daily_quota_retry_after, queue_sms
from portal.domain.sms_codes import new_code
from portal.models import Account, AccountStatus, Line, LocatorConsent, LocatorLookup

SERVICE = "family-locator"
CODE_SMS = "locator_code"  # the SMS purpose: its text is a secret (never shown to staff)
PEOPLE_LIMIT = 10  # people a line may see (granted or asked)
REQUESTS_PER_DAY = 5  # new requests a line may make in 24 hours
REQUEST_TTL = timedelta(days=1)  # the holder's time to answer; the code lives as long
WRONG_CODES_LIMIT = 5  # then the request lapses: 5 guesses of 10⁶ codes
# Code SMS a number gets in 24 hours, from all seekers: more would be spam. Past it the request is made as usual
# (a refusal would tell the seeker the number is ours) and the holder can still answer in the personal account.
CODES_PER_NUMBER_PER_DAY = 3
NAME_MAX = 40
LIVE = ("pending", "granted")
STATE_LABELS = {"pending": _l("waiting for consent"), "granted": _l("agreed"), "refused": _l("refused"),
                "expired": _l("not answered"), "revoked": _l("consent withdrawn"), "removed": _l("removed")}


class LocatorRefused(DomainError):
    pass


class ServiceNeeded(LocatorRefused):
    pass


class TooManyRequests(LocatorRefused):
    status = 429


class WrongCode(DomainError):
    field = "code"


@dataclass(frozen=True)
class Person:
    """A row of the seeker's list: the consent, its state now, and the latest lookup."""

    consent: LocatorConsent
    state: str
    last: LocatorLookup | None


def state_now(consent: LocatorConsent, now: datetime) -> str:
    """A pending request past its day reads as expired before anything writes it so."""
    return "expired" if consent.state == "pending" and consent.expires_at <= now else consent.state


def service_connected(session: Session, account_id: int) -> bool:
    return services.active_subscription(session, account_id, SERVICE) is not None


def people(session: Session, seeker_account_id: int, now: datetime) -> list[Person]:
    """The seeker's people (not removed), newest first, each with its latest lookup (two queries)."""
    consents = list(session.scalars(select(LocatorConsent).where(
        LocatorConsent.seeker_account_id == seeker_account_id, LocatorConsent.state != "removed")
        .order_by(LocatorConsent.id.desc())))
    latest = _latest_lookups(session, [c.id for c in consents])
    return [Person(c, state_now(c, now), latest.get(c.id)) for c in consents]


def _latest_lookups(session: Session, consent_ids: list[int]) -> dict[int, LocatorLookup]:
    if not consent_ids:
        return {}
    newest = (select(func.max(LocatorLookup.id)).where(LocatorLookup.consent_id.in_(consent_ids))
              .group_by(LocatorLookup.consent_id))
    return {row.consent_id: row for row in session.scalars(select(LocatorLookup).where(LocatorLookup.id.in_(newest)))}


def _own(session: Session, consent_id: int, *, seeker_account_id: int | None = None,
         target_account_id: int | None = None) -> LocatorConsent:
    """The consent, locked, if it is the seeker's (and not removed) or the holder's: else NotFound (the same answer
    whether it exists or not)."""
    consent = session.get(LocatorConsent, consent_id, with_for_update=True)
    if consent is None:
        raise NotFound("consent")
    if target_account_id is not None:
        mine = consent.target_account_id == target_account_id
    else:
        mine = consent.seeker_account_id == seeker_account_id and consent.state != "removed"
    if not mine:
        session.rollback()
        raise NotFound("consent")
    return consent


def ask(session: Session, *, seeker: Account, msisdn: str, name: str, managed_account_ids: set[int],
        idempotency_key: str, actor: Actor, now: datetime) -> LocatorConsent | None:
    """Ask to see where ``msisdn`` is; the holder of a number of ours gets an SMS with the code. A child's line the
    seeker's login manages (same customer, marked) is granted at once. None when the form came twice."""
    name = " ".join((name or "").split())
    if not name or len(name) > NAME_MAX:
        raise LocatorRefused(_l("Give a name of up to %(n)s characters.", n=NAME_MAX), field="name")
    if seeker.line is None:
        raise LocatorRefused(_l("The locator works for a mobile number: choose one in the switcher."))
    if msisdn == seeker.line.msisdn:
        raise LocatorRefused(_l("This is the number you are using: choose another one."), field="msisdn")
    if not service_connected(session, seeker.id):
        raise ServiceNeeded(_l("Connect the “Family locator” service on this number first."))
    account = lock_account_for(session, account_id=seeker.id, idempotency_key=idempotency_key, action="locator_ask")
    if account is None:
        return None
    live = list(session.scalars(select(LocatorConsent).where(
        LocatorConsent.seeker_account_id == seeker.id, LocatorConsent.state.in_(LIVE))))
    live = [c for c in live if state_now(c, now) in LIVE]
    if any(c.target_msisdn == msisdn for c in live):
        session.rollback()
        raise LocatorRefused(_l("This number is already in your list."), field="msisdn")
    if len(live) >= PEOPLE_LIMIT:
        session.rollback()
        raise LocatorRefused(_l("You can see at most %(n)s people: remove someone first.", n=PEOPLE_LIMIT),
                             field="msisdn")
    asked_today = session.scalar(select(func.count()).select_from(LocatorConsent).where(
        LocatorConsent.seeker_account_id == seeker.id, LocatorConsent.created_at > now - timedelta(days=1)))
    if asked_today >= REQUESTS_PER_DAY:
        session.rollback()
        raise TooManyRequests(_l("At most %(n)s requests a day.", n=REQUESTS_PER_DAY))
    target = _our_line(session, msisdn)
    consent = LocatorConsent(seeker_account_id=seeker.id, target_msisdn=msisdn, name=name, created_at=now,
                             expires_at=now + REQUEST_TTL, target_account_id=target.id if target else None)
    session.add(consent)
    if target is not None and _parent_may_grant(seeker, target, managed_account_ids):
        consent.state, consent.decided_at, consent.decided_by = "granted", now, "owner"
        session.flush()
        record(session, actor, "locator_granted_by_owner", obj=consent, detail=f"child's line {target.id}")
    else:
        code = new_code()
        consent.code_hash = hash_secret(code)
        session.flush()
        if target is not None and daily_quota_retry_after(session, to=msisdn, purpose=CODE_SMS,
                                                          per_day=CODES_PER_NUMBER_PER_DAY, now=now) is None:
            _send_code(session, target=target, seeker=seeker, code=code)
        record(session, actor, "locator_asked", obj=consent)
    session.commit()
    return consent


def _our_line(session: Session, msisdn: str) -> Account | None:
    return session.scalar(select(Account).join(Line).where(
        Line.msisdn == msisdn, Account.status != AccountStatus.terminated.value))


def _parent_may_grant(seeker: Account, target: Account, managed_account_ids: set[int]) -> bool:
    """The operator's rule for a child under 14: their parent (the owner) consents for them."""
    return (target.id in managed_account_ids and target.customer_id == seeker.customer_id
            and target.line is not None and target.line.used_by_child)


def _send_code(session: Session, *, target: Account, seeker: Account, code: str) -> None:
    policy = alerts.AlertPolicy.current()
    with force_locale(alerts.owner_language(session, target.id, policy.default_locale)):
        text = str(_l("%(brand)s: %(number)s asks to see where you are (Family locator). To agree, tell them the "
                      "code %(code)s, or answer in your personal account. If you do not know them, ignore this.",
                      brand=policy.brand, number=format_msisdn(seeker.line.msisdn), code=code))
    queue_sms(session, to=target.line.msisdn, text=text, purpose=CODE_SMS)


def confirm_code(session: Session, *, seeker_account_id: int, consent_id: int, code: str, actor: Actor,
                 now: datetime) -> None:
    """The code the holder told the seeker grants the request; WRONG_CODES_LIMIT wrong ones end it."""
    consent = _own(session, consent_id, seeker_account_id=seeker_account_id)
    if state_now(consent, now) != "pending" or consent.code_hash is None:
        session.rollback()
        raise WrongCode(_l("This request is not waiting for a code any more."))
    if not check_secret(consent.code_hash, (code or "").strip()[:12]):
        consent.wrong_codes += 1
        used_up = consent.wrong_codes >= WRONG_CODES_LIMIT
        if used_up:
            _decide(consent, "expired", "expiry", now)
        record(session, actor, "locator_wrong_code", obj=consent, detail="request ended" if used_up else "")
        session.commit()
        raise WrongCode(_l("Too many wrong codes: the request has ended. Ask again.") if used_up
                        else _l("Wrong code."))
    _decide(consent, "granted", "code", now)
    record(session, actor, "locator_granted", obj=consent, detail="code")
    session.commit()


def _decide(consent: LocatorConsent, state: str, by: str, now: datetime) -> None:
    consent.state, consent.decided_by, consent.decided_at, consent.code_hash = state, by, now, None


def remove(session: Session, *, seeker_account_id: int, consent_id: int, actor: Actor, now: datetime) -> None:
    """The seeker takes a person off their list (a pending request ends with it)."""
    consent = _own(session, consent_id, seeker_account_id=seeker_account_id)
    _decide(consent, "removed", "seeker", now)
    record(session, actor, "locator_removed", obj=consent)
    session.commit()


# ---- the holder's side -----------------------------------------------------------------------------------------

def received(session: Session, target_account_id: int, now: datetime) -> list[tuple[LocatorConsent, str]]:
    """Who asked or may see where this line is (pending, granted), then the ended ones, with their state now."""
    consents = session.scalars(select(LocatorConsent).where(LocatorConsent.target_account_id == target_account_id)
                               .order_by(LocatorConsent.id.desc()))
    rows = [(c, state_now(c, now)) for c in consents]
    return sorted(rows, key=lambda row: row[1] not in LIVE)


def lookups_of(session: Session, target_account_id: int, limit: int = 100) -> list[tuple[LocatorLookup, str]]:
    """Every lookup of this line made under a consent (newest first), with the seeker's number."""
    return list(session.execute(
        select(LocatorLookup, Line.msisdn).join(LocatorConsent, LocatorConsent.id == LocatorLookup.consent_id)
        .join(Line, Line.account_id == LocatorConsent.seeker_account_id)
        .where(LocatorConsent.target_account_id == target_account_id)
        .order_by(LocatorLookup.id.desc()).limit(limit)))


def seeker_numbers(session: Session, consents) -> dict[int, str]:
    ids = {c.seeker_account_id for c in consents}
    if not ids:
        return {}
    return dict(session.execute(select(Line.account_id, Line.msisdn).where(Line.account_id.in_(ids))).all())


def answer(session: Session, *, target_account_id: int, consent_id: int, agree: bool, actor: Actor,
           now: datetime) -> None:
    """The holder, signed in, agrees or refuses."""
    consent = _own(session, consent_id, target_account_id=target_account_id)
    if state_now(consent, now) != "pending":
        session.rollback()
        raise LocatorRefused(_l("This request has already been answered or has lapsed."))
    _decide(consent, "granted" if agree else "refused", "holder", now)
    record(session, actor, "locator_granted" if agree else "locator_refused", obj=consent, detail="holder")
    session.commit()


def revoke(session: Session, *, target_account_id: int, consent_id: int, actor: Actor, now: datetime) -> None:
    """The holder withdraws consent (or a request still waiting): no more lookups from then on."""
    consent = _own(session, consent_id, target_account_id=target_account_id)
    if consent.state not in LIVE:
        session.rollback()
        raise LocatorRefused(_l("This consent has already ended."))
    _decide(consent, "revoked", "holder", now)
    record(session, actor, "locator_revoked", obj=consent)
    session.commit()


# ---- the owner's mark on a child's line ---------------------------------------------------------------------------

def mark_child_line(session: Session, *, account_id: int, managed_account_ids: set[int],
                    used_by_child: bool, actor: Actor) -> None:
    """The owner says a line of their personal account is used by a child under 14 (or no longer)."""
    line = session.get(Line, account_id, with_for_update=True)
    if line is None or account_id not in managed_account_ids:
        raise NotFound("line")
    line.used_by_child = used_by_child
    record(session, actor, "locator_child_line", object_type="account", object_id=str(account_id),
           detail="marked" if used_by_child else "unmarked")
    session.commit()


# ---- looking up ------------------------------------------------------------------------------------------------

def locate(session: Session, network: NetworkLocator, *, seeker_account_id: int, consent_id: int,
           idempotency_key: str, actor: Actor, now: datetime, notices_per_day: int) -> LocatorLookup | None:
    """Ask the network where the person is, and record the answer. None when the form came twice."""
    started = start_lookup(session, seeker_account_id=seeker_account_id, consent_id=consent_id,
                           idempotency_key=idempotency_key, actor=actor, now=now)
    if started is None:
        return None
    lookup_id, msisdn = started
    try:
        position, failure = network.locate(msisdn, f"lookup-{lookup_id}"), None
    except LocatorUnavailable as err:
        position, failure = None, str(err)[:120]
    return finish_lookup(session, lookup_id=lookup_id, position=position, failure=failure, now=now,
                         notices_per_day=notices_per_day)


def start_lookup(session: Session, *, seeker_account_id: int, consent_id: int, idempotency_key: str, actor: Actor,
                 now: datetime) -> tuple[int, str] | None:
    """Commit a pending lookup (its id and the number to locate), so the network is asked with nothing locked."""
    if lock_account_for(session, account_id=seeker_account_id, idempotency_key=idempotency_key,
                        action="locator_lookup") is None:
        return None
    consent = session.get(LocatorConsent, consent_id)
    if consent is None or consent.seeker_account_id != seeker_account_id or consent.state == "removed":
        session.rollback()
        raise NotFound("consent")
    if consent.state != "granted" or not _still_the_holders(session, consent):
        session.rollback()
        raise LocatorRefused(_l("%(name)s has not agreed to be located, or has withdrawn consent.",
                                name=consent.name))
    if not service_connected(session, seeker_account_id):
        session.rollback()
        raise ServiceNeeded(_l("Connect the “Family locator” service on this number first."))
    lookup = LocatorLookup(consent_id=consent.id, requested_at=now)
    session.add(lookup)
    session.flush()
    record(session, actor, "locator_lookup", obj=lookup, detail=f"consent {consent.id}")
    msisdn = consent.target_msisdn
    session.commit()
    return lookup.id, msisdn


def _still_the_holders(session: Session, consent: LocatorConsent) -> bool:
    """The number is still the line of ours whose holder consented: after a port-out or a closed contract it may
    be someone else's, who never agreed."""
    target = session.get(Account, consent.target_account_id) if consent.target_account_id else None
    return (target is not None and target.status != AccountStatus.terminated.value and target.line is not None
            and target.line.msisdn == consent.target_msisdn)


def finish_lookup(session: Session, *, lookup_id: int, position: Position | None, failure: str | None,
                  now: datetime, notices_per_day: int) -> LocatorLookup | None:
    """Record the network's answer once (a second answer to the same lookup changes nothing); a consent revoked
    while the network answered keeps the position from the seeker. The holder gets an SMS notice of a found
    lookup, at most ``notices_per_day`` in 24 hours (quiet hours hold it, as any alert)."""
    lookup = session.get(LocatorLookup, lookup_id, with_for_update=True, populate_existing=True)
    if lookup is None or lookup.state != "pending":
        session.rollback()
        return lookup
    consent = session.get(LocatorConsent, lookup.consent_id)
    if consent.state != "granted":
        lookup.state, lookup.failure = "refused", "consent ended"
    elif position is None:
        lookup.state, lookup.failure = "failed", (failure or "no answer")[:120]
    else:
        lookup.state, lookup.lat, lookup.lon = "found", position.lat, position.lon
        lookup.accuracy_m, lookup.located_at, lookup.place = position.accuracy_m, position.at, position.place[:120]
        lookup.noticed = _notice(session, consent, now=now, limit=notices_per_day)
    record(session, Actor(), "locator_lookup_" + lookup.state, obj=lookup, detail=lookup.failure or "")
    session.commit()
    return lookup


def _notice(session: Session, consent: LocatorConsent, *, now: datetime, limit: int) -> bool:
    sent = session.scalar(select(func.count()).select_from(LocatorLookup).join(LocatorConsent).where(
        LocatorConsent.target_account_id == consent.target_account_id, LocatorLookup.noticed.is_(True),
        LocatorLookup.requested_at > now - timedelta(days=1)))
    target = session.get(Account, consent.target_account_id)
    if sent >= limit or target is None or target.line is None:
        return False
    seeker = session.get(Line, consent.seeker_account_id)
    alerts.notify(session, account=target, event="locator", now=now,
                  message=_l("%(number)s has just looked up where you are (Family locator). Every lookup is listed "
                             "in your personal account, where you can withdraw consent."),
                  number=format_msisdn(seeker.msisdn) if seeker else "")
    return True


def staff_summary(session: Session, account_ids: set[int]) -> dict:
    """For the staff page of a customer (its accounts), in one query: the consents its lines asked and received
    (the latest 40), each with the seeker's number and how many lookups were made."""
    lookups = (select(func.count()).where(LocatorLookup.consent_id == LocatorConsent.id)
               .correlate(LocatorConsent).scalar_subquery())
    rows = session.execute(
        select(LocatorConsent, Line.msisdn, lookups).join(Line, Line.account_id == LocatorConsent.seeker_account_id)
        .where(or_(LocatorConsent.seeker_account_id.in_(account_ids),
                   LocatorConsent.target_account_id.in_(account_ids)))
        .order_by(LocatorConsent.id.desc()).limit(40)).all() if account_ids else []
    summary = {"asked": [], "received": [], "lookups": {}, "numbers": {}}
    for consent, seeker_msisdn, count in rows:
        summary["asked" if consent.seeker_account_id in account_ids else "received"].append(consent)
        summary["lookups"][consent.id], summary["numbers"][consent.seeker_account_id] = count, seeker_msisdn
    return summary
