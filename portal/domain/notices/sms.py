"""SMS about a notice to the customers it affects who asked for them (alert settings: outages and works).

A notice sends two phases: ``start`` when the service is affected (an outage published, works in progress) and
``end`` when it is over (only to those who had the start). One SMS per notice, phase and account: the
``NoticeSms`` row's primary key says it was sent, so a job run twice (a lost worker, the sweep) sends nothing
more. Quiet hours hold the SMS like any alert (portal.domain.alerts.notify). The accounts are read in batches by
id, a short transaction each; queueing an SMS is a row in the outbox, so no network call happens under a lock.
"""
from datetime import datetime, timedelta
from functools import partial

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from portal import formatting
from portal.domain.alerts import notify
from portal.domain.notices.publishing import sms_phase
from portal.domain.notices.scope import accounts_query, affects
from portal.models import Account, AlertSettings, NoticeSms, ServiceNotice

BATCH = 500
TEXTS = {
    ("outage", "start"): _l("outage: %(title)s. We are fixing it. Expected back: %(end)s"),
    ("works", "start"): _l("planned works: %(title)s. The service may stop. Expected end: %(end)s"),
    ("outage", "end"): _l("the outage is over: %(title)s. Sorry for the trouble."),
    ("works", "end"): _l("planned works are finished: %(title)s."),
}
UNKNOWN_END = _l("not known yet")


def _batch(session: Session, notice: ServiceNotice, phase: str, after: int, size: int) -> list[Account]:
    sent = select(NoticeSms.account_id).where(NoticeSms.notice_id == notice.id)
    query = (accounts_query(notice)
             .join(AlertSettings, and_(AlertSettings.account_id == Account.id, AlertSettings.on_outages.is_(True)))
             .where(Account.id > after, ~exists(sent.where(NoticeSms.phase == phase,
                                                           NoticeSms.account_id == Account.id)))
             .options(selectinload(Account.line), selectinload(Account.home_contract)).limit(size))
    if phase == "end":  # the end only to those who were told of the start
        query = query.where(exists(sent.where(NoticeSms.phase == "start", NoticeSms.account_id == Account.id)))
    return list(session.scalars(query))


def send_phase(session: Session, notice_id: int, *, now: datetime, batch: int = BATCH) -> int:
    """Queue (or hold for quiet hours) the SMS of the notice's current phase; returns how many. Commits per batch."""
    notice = session.get(ServiceNotice, notice_id)
    phase = sms_phase(notice.state) if notice is not None else None
    if phase is None:
        session.rollback()
        return 0
    kind, title = notice.kind, notice.title
    end = partial(formatting.datetime_short, notice.expected_end) if notice.expected_end else UNKNOWN_END
    count, after, retries = 0, 0, 0
    while True:
        accounts = [a for a in _batch(session, notice, phase, after, batch)]
        if not accounts:
            break
        chosen = [a for a in accounts if affects(notice, a)]
        session.add_all(NoticeSms(notice_id=notice_id, phase=phase, account_id=a.id, created_at=now) for a in chosen)
        try:
            session.flush()
        except IntegrityError:  # another run took some of these this instant: read the batch again without them
            session.rollback()
            retries += 1
            if retries > 3:
                raise
            notice = session.get(ServiceNotice, notice_id)
            continue
        for account in chosen:
            notify(session, account=account, event="outage", message=TEXTS[kind, phase], now=now, title=title,
                   end=end)
        session.commit()
        count += len(chosen)
        after = accounts[-1].id
        notice = session.get(ServiceNotice, notice_id)
    session.execute(update(ServiceNotice).where(ServiceNotice.id == notice_id).values(sms_done=phase))
    session.commit()
    return count


def unsent_ids(session: Session, *, older_than: datetime, now: datetime) -> list[int]:
    """Notices whose phase the job has not finished (a lost job), changed within the last day."""
    rows = session.execute(select(ServiceNotice.id, ServiceNotice.state, ServiceNotice.sms_done).where(
        ServiceNotice.updated_at <= older_than, ServiceNotice.updated_at >= now - timedelta(days=1)))
    return [notice_id for notice_id, state, done in rows if sms_phase(state) not in (None, done)]
