"""Notices as customers, the status page and staff read them."""
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Row, or_, select
from sqlalchemy.orm import Session, selectinload

from portal.domain.notices.scope import affects
from portal.models import Account, ServiceNotice

# Over notices stay on the status page (and the staff list's top) this long, so "is it fixed?" has an answer.
RECENT = timedelta(days=3)
# A dashboard shows works from this long before they start; earlier ones are on the status page.
WORKS_AHEAD = timedelta(days=3)


@dataclass(frozen=True)
class StatusBoard:
    current: list[ServiceNotice]
    recent: list[ServiceNotice]


def open_notices(session: Session) -> list[ServiceNotice]:
    """Every notice not over yet, soonest first (there are a handful at a time: one query, no paging)."""
    return list(session.scalars(select(ServiceNotice).where(ServiceNotice.open.is_(True))
                                .order_by(ServiceNotice.starts_at, ServiceNotice.id)))


@cache
def _open_rows_statement():
    """Built once: the dashboard asks on every request, and building the statement cost more than running it."""
    notice = ServiceNotice.__table__
    return (select(notice.c.id, notice.c.kind, notice.c.title, notice.c.scope, notice.c.scope_value,
                   notice.c.starts_at, notice.c.expected_end, notice.c.state)
            .where(notice.c.open.is_(True)).order_by(notice.c.starts_at, notice.c.id))


def notices_for(session: Session, account: Account, *, now: datetime) -> list[Row]:
    """The notices affecting ``account`` now, and works due within WORKS_AHEAD (one query), as plain rows of what
    a customer's list shows and ``affects`` reads (id, kind, title, scope, scope_value, starts_at, expected_end,
    state): every dashboard asks, and ORM objects cost more than the query."""
    return [n for n in session.execute(_open_rows_statement()) if n.starts_at <= now + WORKS_AHEAD
            and affects(n, account)]


def status_board(session: Session, *, now: datetime) -> StatusBoard:
    """The public status page: every notice not over, and those over within RECENT (newest first)."""
    notices = list(session.scalars(
        select(ServiceNotice).where(or_(ServiceNotice.open.is_(True), ServiceNotice.ended_at >= now - RECENT))
        .order_by(ServiceNotice.starts_at.desc(), ServiceNotice.id.desc())))
    return StatusBoard(current=sorted((n for n in notices if n.open), key=lambda n: (n.starts_at, n.id)),
                       recent=[n for n in notices if not n.open])


def public_notice(session: Session, notice_id: int) -> ServiceNotice | None:
    """A notice with its updates, for its public page."""
    return session.scalar(select(ServiceNotice).where(ServiceNotice.id == notice_id)
                          .options(selectinload(ServiceNotice.updates)))


def staff_list(session: Session, *, limit: int = 100) -> list[ServiceNotice]:
    """Notices for staff: the open ones first (soonest first), then the latest over ones."""
    current = open_notices(session)
    over = session.scalars(select(ServiceNotice).where(ServiceNotice.open.is_(False))
                           .order_by(ServiceNotice.ended_at.desc(), ServiceNotice.id.desc()).limit(limit))
    return [*current, *over]
