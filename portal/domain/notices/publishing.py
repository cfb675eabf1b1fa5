"""Staff publish notices, post updates, move their state and resolve them; every step audited, one commit."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError, NotFound
from portal.domain.notices.scope import SCOPES, names_a_flat, normalise_address
from portal.models import ServiceNotice, ServiceNoticeUpdate

KINDS = ("outage", "works")
# The states of each kind, in order; the last one ends the notice.
STATES = {"outage": ("investigating", "fixing", "resolved"), "works": ("scheduled", "in_progress", "done")}
FINAL = frozenset({"resolved", "done"})
# States in which the customers' service is affected now: the "start" SMS goes when a notice enters one.
ACTIVE = frozenset({"investigating", "fixing", "in_progress"})
MAX_TITLE, MAX_TEXT, MAX_UPDATE = 120, 2000, 1000
# Works are announced ahead, but not for ever; an outage's expected end is at most this far away too.
MAX_AHEAD = timedelta(days=90)
# Pending notice ids for the SMS job, handed out after the transaction commits (portal.jobs).
PENDING_KEY = "notice_sms_pending"


class NoticeRefused(DomainError):
    """A notice change the rules refuse; ``field`` says which value."""


@dataclass(frozen=True)
class NoticeValues:
    kind: str
    title: str
    text: str
    scope: str
    scope_value: str
    starts_at: datetime
    expected_end: datetime | None


def sms_phase(state: str) -> str | None:
    """The SMS phase a notice in ``state`` is in: start while the service is affected, end once it is over."""
    if state in ACTIVE:
        return "start"
    return "end" if state in FINAL else None


def _checked(values: NoticeValues, *, regions: list[str], connection_types: tuple[str, ...],
             now: datetime) -> NoticeValues:
    if values.kind not in KINDS:
        raise NoticeRefused(_l("Choose from the list."), field="kind")
    title, text = " ".join(values.title.split()), values.text.strip()
    if not title:
        raise NoticeRefused(_l("This field is required."), field="title")
    if len(title) > MAX_TITLE or len(text) > MAX_TEXT:
        raise NoticeRefused(_l("Too long."), field="title" if len(title) > MAX_TITLE else "text")
    scope, scope_value = values.scope, " ".join(values.scope_value.split())
    if scope not in SCOPES:
        raise NoticeRefused(_l("Choose from the list."), field="scope")
    if scope == "mobile":
        scope_value = ""
    elif scope == "region" and scope_value not in regions:
        raise NoticeRefused(_l("Choose a region customers live in."), field="region")
    elif scope == "connection" and scope_value not in connection_types:
        raise NoticeRefused(_l("Choose from the list."), field="connection_type")
    elif scope == "address":
        if names_a_flat(scope_value):
            raise NoticeRefused(_l("Give the building without the flat or office: a notice is for everyone in "
                                   "it."), field="address")
        if len(normalise_address(scope_value).split()) < 2:
            raise NoticeRefused(_l("Give the city, the street and the building."), field="address")
    if values.starts_at > now + MAX_AHEAD:
        raise NoticeRefused(_l("At most 90 days ahead."), field="starts_at")
    if values.expected_end is not None:
        if values.expected_end <= values.starts_at:
            raise NoticeRefused(_l("The end comes after the start."), field="expected_end")
        if values.expected_end > now + MAX_AHEAD:
            raise NoticeRefused(_l("At most 90 days ahead."), field="expected_end")
    return NoticeValues(values.kind, title, text, scope, scope_value[:200], values.starts_at, values.expected_end)


def _queue_sms(session: Session, notice: ServiceNotice) -> None:
    if sms_phase(notice.state) is not None:
        session.info.setdefault(PENDING_KEY, []).append(notice.id)


def create_notice(session: Session, *, values: NoticeValues, regions: list[str], connection_types: tuple[str, ...],
                  actor: Actor, now: datetime) -> ServiceNotice:
    """Publish a notice in its kind's first state (an outage is being investigated, works are scheduled)."""
    values = _checked(values, regions=regions, connection_types=connection_types, now=now)
    state = STATES[values.kind][0]
    notice = ServiceNotice(kind=values.kind, title=values.title, text=values.text, scope=values.scope,
                           scope_value=values.scope_value, starts_at=values.starts_at,
                           expected_end=values.expected_end, state=state, open=True,
                           published_by_staff_id=actor.staff_id, created_at=now, updated_at=now)
    session.add(notice)
    session.flush()
    session.add(ServiceNoticeUpdate(notice_id=notice.id, created_at=now, text="", state_from=None, state_to=state,
                                    staff_id=actor.staff_id))
    record(session, actor, "notice_published", obj=notice, detail=f"{values.kind} {values.scope} {notice.title}")
    _queue_sms(session, notice)
    session.commit()
    return notice


def get_notice(session: Session, notice_id: int, *, lock: bool = False) -> ServiceNotice:
    notice = session.get(ServiceNotice, notice_id, with_for_update=lock)
    if notice is None:
        raise NotFound("notice")
    return notice


def edit_notice(session: Session, *, notice_id: int, values: NoticeValues, regions: list[str],
                connection_types: tuple[str, ...], actor: Actor, now: datetime) -> ServiceNotice:
    """Correct a notice's words, area or times; its kind and state stay (post an update to move the state)."""
    notice = get_notice(session, notice_id, lock=True)
    values = _checked(NoticeValues(notice.kind, *[getattr(values, f) for f in (
        "title", "text", "scope", "scope_value", "starts_at", "expected_end")]),
        regions=regions, connection_types=connection_types, now=now)
    changed = [name for name in ("title", "text", "scope", "scope_value", "starts_at", "expected_end")
               if getattr(notice, name) != getattr(values, name)]
    for name in changed:
        setattr(notice, name, getattr(values, name))
    if changed:
        notice.updated_at = now
        record(session, actor, "notice_edited", obj=notice, detail=", ".join(changed))
    session.commit()
    return notice


def post_update(session: Session, *, notice_id: int, text: str, state: str | None, actor: Actor,
                now: datetime) -> ServiceNoticeUpdate:
    """Add what staff know now and, if given, move the notice to ``state`` (any state of its kind)."""
    notice = get_notice(session, notice_id, lock=True)
    text = text.strip()
    if state == notice.state:
        state = None
    if state is not None and state not in STATES[notice.kind]:
        raise NoticeRefused(_l("Choose from the list."), field="state")
    if not text and state is None:
        raise NoticeRefused(_l("Write the update or choose a new state."), field="text")
    if len(text) > MAX_UPDATE:
        raise NoticeRefused(_l("Too long."), field="text")
    update = ServiceNoticeUpdate(notice_id=notice.id, created_at=now, text=text, state_from=notice.state,
                                 state_to=state, staff_id=actor.staff_id)
    session.add(update)
    before = sms_phase(notice.state)
    if state is not None:
        notice.state = state
        notice.open = state not in FINAL
        notice.ended_at = now if state in FINAL else None
        if state in FINAL and notice.expected_end is None:
            notice.expected_end = now
    notice.updated_at = now
    session.flush()
    record(session, actor, "notice_updated", obj=notice,
           detail=f"{update.state_from} → {state}" if state else "update")
    if sms_phase(notice.state) != before:
        _queue_sms(session, notice)
    session.commit()
    return update


def resolve_notice(session: Session, *, notice_id: int, text: str, actor: Actor, now: datetime) -> ServiceNoticeUpdate:
    """The notice is over: an outage resolved, works done (its kind's last state)."""
    notice = get_notice(session, notice_id)
    if not notice.open:
        raise NoticeRefused(_l("The notice is already over."))
    return post_update(session, notice_id=notice_id, text=text, state=STATES[notice.kind][-1], actor=actor, now=now)
