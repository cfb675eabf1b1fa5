"""Small line tools from the settings: the missed-call list and the internet settings SMS."""
from datetime import datetime

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from portal.domain.alerts import owner_language
from portal.domain.audit import Actor, record
from portal.domain.auth import TryLater
from portal.domain.errors import DomainError
from portal.domain.sms import daily_quota_retry_after, queue_sms
from portal.models import Account, Service, UsageRecord

MISSED_CALLS_SERVICE = "who-called"  # the catalog code of the missed-call notice
SETTINGS_PURPOSE = "internet_settings"


class NotAMobileLine(DomainError):
    pass


def missed_call_service(session: Session) -> Service | None:
    return session.scalar(select(Service).where(Service.code == MISSED_CALLS_SERVICE))


def missed_calls(session: Session, account_id: int, *, since: datetime, before_id: int | None = None,
                 size: int = 50) -> tuple[list[UsageRecord], int | None]:
    """Calls missed while the phone was off, newest first; keyset pages by id."""
    stmt = select(UsageRecord).where(UsageRecord.account_id == account_id, UsageRecord.kind == "call_missed",
                                     UsageRecord.started_at >= since)
    if before_id:
        # Keyset on (started_at, id): the page ends where the previous one's last call was.
        last = session.get(UsageRecord, before_id)
        if last is None or last.account_id != account_id:
            return [], None
        stmt = stmt.where(or_(UsageRecord.started_at < last.started_at,
                              and_(UsageRecord.started_at == last.started_at, UsageRecord.id < last.id)))
    rows = list(session.scalars(stmt.order_by(UsageRecord.started_at.desc(), UsageRecord.id.desc()).limit(size + 1)))
    return rows[:size], (rows[size - 1].id if len(rows) > size else None)


def send_internet_settings(session: Session, *, account: Account, settings: dict, per_day: int, brand: str,
                           locale: str, actor: Actor, now: datetime) -> None:
    """The access-point settings by SMS to the line itself, at most ``per_day`` times a day."""
    if account.line is None:
        raise NotAMobileLine(_l("Internet settings are sent to mobile numbers only."))
    msisdn = account.line.msisdn
    retry_after = daily_quota_retry_after(session, to=msisdn, purpose=SETTINGS_PURPOSE, per_day=per_day, now=now)
    if retry_after:
        raise TryLater(_l("The settings were already sent several times today."), retry_after)
    with force_locale(owner_language(session, account.id, locale)):
        text = gettext("%(brand)s internet settings: APN %(apn)s, user %(user)s, password %(password)s.",
                       brand=brand, **settings)
    queue_sms(session, to=msisdn, text=text, purpose=SETTINGS_PURPOSE)
    record(session, actor, "internet_settings_sent", obj=account)
    session.commit()
