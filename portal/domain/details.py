"""Call details ("detailing"): the calls, messages and data sessions of one line over a period.

Read by (account, started) only, newest first, by keyset: the page, the CSV and the
PDF never hold more than a chunk of rows in memory.  Ordered by e-mail, a
``DetailOrder`` row is created and a Celery task builds the file and sends it.
"""
import io
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from email.message import EmailMessage
from functools import cache
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_datetime
from babel.numbers import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, Row, and_, bindparam, case, delete, func, insert, or_, select
from sqlalchemy import literal as sa_literal
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import formatting
from portal.domain import audit
from portal.domain.bounds import DB_BIGINT_MAX
from portal.domain.csv_export import csv_writer
from portal.domain.errors import DomainError, NotFound
from portal.domain.history import Period
from portal.domain.idempotency import KEY_FORMAT
from portal.domain.phones import format_msisdn
from portal.models import Account, DetailOrder, UsageDay, UsageRecord, UsageRollup

MAX_MONTHS = 6  # the operator keeps call details this long; older ones are not shown
PAGE_SIZE = 50
CHUNK = 1000  # rows per keyset query of an export
PDF_MAX_ROWS = 5000  # a printed form longer than ~100 pages is useless; longer periods go to CSV
CALL_KINDS = ("call_out", "call_in", "call_missed")
GROUPS = OrderedDict([
    ("calls", (_l("Calls"), CALL_KINDS)), ("sms", (_l("SMS"), ("sms",))), ("mms", (_l("MMS"), ("mms",))),
    ("data", (_l("Mobile internet"), ("data",))),
])
KIND_LABELS = {
    "call_out": _l("Outgoing call"), "call_in": _l("Incoming call"), "call_missed": _l("Missed call"),
    "sms": _l("SMS"), "mms": _l("MMS"), "data": _l("Internet session"),
}
FORMATS = ("csv", "pdf")
# Sent by the after_commit hook in portal.details_jobs: orders created in this transaction.
PENDING_KEY = "detail_orders_pending"
# How long a worker may take over one order before the sweep may hand it out again (DETAILS_MAIL_LEASE in the
# config): building the file and the mail server's timeout.
DEFAULT_MAIL_LEASE = timedelta(seconds=120)


class BadPeriod(DomainError):
    field = "start"


# ---- the period ----------------------------------------------------------------------------------------------


def months_back(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier, or that month's last day (31 Aug − 6 → 28/29 Feb)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    following = date(year + month // 12, month % 12 + 1, 1)
    return date(year, month, min(day.day, (following - timedelta(days=1)).day))


def earliest_start(today: date) -> date:
    """The first day the customer may ask for: six calendar months before today."""
    return months_back(today, MAX_MONTHS)


def default_period(today: date) -> tuple[date, date]:
    """This month so far."""
    return today.replace(day=1), today


def check_period(start: date, end: date, *, today: date, tz: str = "UTC") -> Period:
    """Start ≤ end ≤ today, and start no earlier than six calendar months before today."""
    if end > today:
        raise BadPeriod(_l("The period cannot end in the future."), field="end")
    if start > end:
        raise BadPeriod(_l("The start must come before the end."))
    earliest = earliest_start(today)
    if start < earliest:
        raise BadPeriod(_("The records are kept for 6 months: choose a start on %(date)s or later.",
                          date=formatting.date_long(earliest)))
    return Period(start, end, tz)


def kinds_of(group: str | None) -> tuple[str, ...]:
    """The record kinds of a filter group; everything for none."""
    return GROUPS[group][1] if group in GROUPS else ()


# ---- reading -------------------------------------------------------------------------------------------------

Cursor = tuple[datetime, int]


def encode_cursor(cursor: Cursor | None) -> str | None:
    return f"{cursor[0]:%Y%m%d%H%M%S%f}-{cursor[1]}" if cursor else None


def decode_cursor(value: str | None) -> Cursor | None:
    """The (started_at, id) to continue before; None for a missing or mangled value (the first page)."""
    try:
        stamp, _sep, ident = (value or "").partition("-")
        cursor = datetime.strptime(stamp, "%Y%m%d%H%M%S%f"), int(ident)
        if not 0 <= cursor[1] <= DB_BIGINT_MAX:
            raise ValueError("beyond the records' ids")
        return cursor
    except ValueError:
        return None


def _conditions(account_id: int, period: Period, kinds: tuple[str, ...]):
    start, end = period.bounds
    conditions = [UsageRecord.account_id == account_id, UsageRecord.started_at >= start, UsageRecord.started_at < end]
    if kinds:
        conditions.append(UsageRecord.kind.in_(kinds))
    return conditions


def _before(cursor: Cursor):
    """Strictly older than the cursor in (started_at, id) order; the first term lets the index bound the scan."""
    started, ident = cursor
    return [UsageRecord.started_at <= started,
            or_(UsageRecord.started_at < started, and_(UsageRecord.started_at == started, UsageRecord.id < ident))]


NEWEST_FIRST = (UsageRecord.started_at.desc(), UsageRecord.id.desc())


PAGE_COLUMNS = (UsageRecord.id, UsageRecord.account_id, UsageRecord.started_at, UsageRecord.ended_at, UsageRecord.kind,
                UsageRecord.counterpart, UsageRecord.quantity, UsageRecord.cost, UsageRecord.ip)


def _of_account(table, *, time_column, with_kinds: bool) -> list:
    """The conditions of the page and the totals, as bind parameters (account_id, start, end, kinds)."""
    conditions = [table.c.account_id == bindparam("account_id"), time_column >= bindparam("start"),
                  time_column < bindparam("end")]
    if with_kinds:
        conditions.append(table.c.kind.in_(bindparam("kinds", expanding=True)))
    return conditions


# The page's statements are built once per shape (with or without kinds, first or later page): building one
# costs more than the database takes to answer it, and the page is asked far more often than exported.
@cache
def _page_statement(with_kinds: bool, with_before: bool):
    record = UsageRecord.__table__
    stmt = select(*(record.c[column.key] for column in PAGE_COLUMNS)).where(
        *_of_account(record, time_column=record.c.started_at, with_kinds=with_kinds))
    if with_before:
        started, ident = bindparam("before_started"), bindparam("before_id")
        stmt = stmt.where(record.c.started_at <= started,
                          or_(record.c.started_at < started, and_(record.c.started_at == started, record.c.id < ident)))
    return stmt.order_by(record.c.started_at.desc(), record.c.id.desc()).limit(bindparam("size"))


def records_page(session: Session, account_id: int, period: Period, kinds: tuple[str, ...], *,
                 before: Cursor | None = None, size: int = PAGE_SIZE) -> tuple[list[Row], Cursor | None]:
    """Newest first, ``size`` at a time; returns the records and the cursor of the next (older) page, if any.

    The records are plain rows with the columns a table shows, not ORM objects: cheaper for a page of 50.
    """
    start, end = period.bounds
    params = {"account_id": account_id, "start": start, "end": end, "kinds": list(kinds), "size": size + 1}
    if before:
        params.update(before_started=before[0], before_id=before[1])
    rows = session.execute(_page_statement(bool(kinds), bool(before)), params).all()
    last = rows[size - 1] if len(rows) > size else None
    return rows[:size], ((last.started_at, last.id) if last else None)


@dataclass(frozen=True)
class Totals:
    count: int = 0
    seconds: int = 0  # of calls
    kb: int = 0  # of data sessions
    cost: int = 0  # kopecks


@cache
def _totals_statement(table_name: str, with_kinds: bool):
    """Count, call seconds, data KB and cost: of the records (``usage_record``) or of the daily roll-up."""
    if table_name == "usage_record":
        table = UsageRecord.__table__
        count, time_column = func.count(table.c.id), table.c.started_at
    else:
        table = UsageDay.__table__
        count, time_column = func.coalesce(func.sum(table.c.count), 0), table.c.day
    return select(count,
                  func.coalesce(func.sum(case((table.c.kind.in_(CALL_KINDS), table.c.quantity), else_=0)), 0),
                  func.coalesce(func.sum(case((table.c.kind == "data", table.c.quantity), else_=0)), 0),
                  func.coalesce(func.sum(table.c.cost), 0)) \
        .where(*_of_account(table, time_column=time_column, with_kinds=with_kinds))


def _totals_of(session: Session, table_name: str, account_id: int, start, end, kinds: tuple[str, ...]) -> Totals:
    count, seconds, kb, cost = session.execute(
        _totals_statement(table_name, bool(kinds)),
        {"account_id": account_id, "start": start, "end": end, "kinds": list(kinds)}).one()
    return Totals(int(count), int(seconds), int(kb), int(cost))


def _raw_totals(session: Session, account_id: int, start: datetime, end: datetime,
                kinds: tuple[str, ...]) -> Totals:
    if start >= end:
        return Totals()
    return _totals_of(session, "usage_record", account_id, start, end, kinds)


def _day_totals(session: Session, account_id: int, first: date, stop: date, kinds: tuple[str, ...]) -> Totals:
    return _totals_of(session, "usage_day", account_id, first, stop, kinds)


@cache
def _rolled_up_statement():
    return select(UsageRollup.__table__.c.through).where(UsageRollup.__table__.c.id == 1)


def _add(*parts: Totals) -> Totals:
    return Totals(*(sum(values) for values in zip(*((p.count, p.seconds, p.kb, p.cost) for p in parts))))


def totals(session: Session, account_id: int, period: Period, kinds: tuple[str, ...]) -> Totals:
    """The whole filtered period: whole rolled-up UTC days from ``usage_day``, the edges from the records.

    A six-month period of a busy line is then ~180 small rows plus two partial days, not a million records.
    """
    start, end = period.bounds
    rolled = session.scalar(_rolled_up_statement())
    first = (start + timedelta(days=1)).date() if start.time() != datetime.min.time() else start.date()
    stop = min(end.date(), rolled + timedelta(days=1)) if rolled else first
    if first >= stop:
        return _raw_totals(session, account_id, start, end, kinds)
    midnight = datetime.min.time()
    return _add(_raw_totals(session, account_id, start, datetime.combine(first, midnight), kinds),
                _day_totals(session, account_id, first, stop, kinds),
                _raw_totals(session, account_id, datetime.combine(stop, midnight), end, kinds))


def roll_up(session: Session, *, through: date, since: date | None = None, redo_days: int = 3) -> int:
    """Build ``usage_day`` for the UTC days ``since`` (default: ``redo_days`` before ``through``) to ``through``.

    Each day is rebuilt whole (records that arrive late are counted on the next run). Commits; returns days built.
    """
    since = since or through - timedelta(days=redo_days - 1)
    day = since
    while day <= through:
        begin = datetime.combine(day, datetime.min.time())
        session.execute(delete(UsageDay).where(UsageDay.day == day))
        session.execute(insert(UsageDay).from_select(
            ["account_id", "day", "kind", "count", "quantity", "cost"],
            select(UsageRecord.account_id, sa_literal(day, Date), UsageRecord.kind, func.count(UsageRecord.id),
                   func.coalesce(func.sum(UsageRecord.quantity), 0), func.coalesce(func.sum(UsageRecord.cost), 0))
            .where(UsageRecord.started_at >= begin, UsageRecord.started_at < begin + timedelta(days=1))
            .group_by(UsageRecord.account_id, UsageRecord.kind)))
        day += timedelta(days=1)
    state = session.get(UsageRollup, 1, with_for_update=True)
    if state is None:
        session.add(UsageRollup(id=1, through=through))
    elif state.through < through:
        state.through = through
    session.commit()
    return (through - since).days + 1


def retention_cutoff(today: date, months: int = MAX_MONTHS) -> datetime:
    """Records that started before this UTC moment are past keeping: ``months`` calendar months before today,
    less a day, so no time zone ever loses a day a customer may still ask for."""
    if months < MAX_MONTHS:
        raise ValueError(f"call details are shown for {MAX_MONTHS} months: keep at least that many")
    return datetime.combine(months_back(today, months) - timedelta(days=1), datetime.min.time())


def prune(session: Session, *, today: date, months: int = MAX_MONTHS, batch: int = 10_000) -> int:
    """Delete the records and daily totals older than the retention, ``batch`` rows per transaction.

    Short transactions, each a range read through the start-time index, so new records keep arriving
    meanwhile; safe to stop and run again. Commits; returns how many records went.
    """
    cutoff = retention_cutoff(today, months)
    removed = 0
    while True:
        ids = select(UsageRecord.id).where(UsageRecord.started_at < cutoff).limit(batch).scalar_subquery()
        count = session.execute(delete(UsageRecord).where(UsageRecord.id.in_(ids))).rowcount
        session.commit()
        removed += count
        if count < batch:
            break
    session.execute(delete(UsageDay).where(UsageDay.day < cutoff.date()))
    session.commit()
    return removed


def iter_records(session: Session, account_id: int, period: Period, kinds: tuple[str, ...], *,
                 chunk: int = CHUNK, limit: int | None = None, extra: tuple = ()):
    """Every record of the period, newest first, as plain rows fetched ``chunk`` at a time by keyset.

    Each chunk is its own short query: no server-side cursor held open across yields, so a
    slow download does not pin a connection's snapshot, and memory stays at one chunk.
    ``extra`` columns (a home session's end and IP) come after the usual six.
    """
    columns = (UsageRecord.id, UsageRecord.started_at, UsageRecord.kind, UsageRecord.counterpart,
               UsageRecord.quantity, UsageRecord.cost, *extra)
    cursor, sent = None, 0
    while limit is None or sent < limit:
        size = chunk if limit is None else min(chunk, limit - sent)
        stmt = select(*columns).where(*_conditions(account_id, period, kinds))
        if cursor:
            stmt = stmt.where(*_before(cursor))
        rows = session.execute(stmt.order_by(*NEWEST_FIRST).limit(size)).all()
        yield from rows
        sent += len(rows)
        if len(rows) < size:
            return
        cursor = (rows[-1].started_at, rows[-1].id)


# ---- formatting ----------------------------------------------------------------------------------------------


def kind_labels() -> dict[str, str]:
    """The kinds' names in the reader's language, worked out once for a whole table or file."""
    return {kind: str(label) for kind, label in KIND_LABELS.items()}


def format_duration(seconds: int) -> str:
    """Seconds as m:ss (75 → 1:15; an hour is 60:00)."""
    minutes, rest = divmod(max(0, int(seconds)), 60)
    return f"{minutes}:{rest:02d}"


def format_volume(kb: int, locale: str = "en") -> str:
    """A session's volume, as everywhere: KB, MB below a gigabyte, GB above."""
    return formatting.volume(kb, locale)


def format_amount(kind: str, quantity: int, locale: str = "en") -> str:
    """What a record used: a call's duration, a session's volume; nothing for messages."""
    if kind in CALL_KINDS:
        return format_duration(quantity)
    if kind == "data":
        return format_volume(quantity, locale)
    return ""


def format_counterpart(counterpart: str) -> str:
    """A phone number grouped for reading (+7 916 123-45-67); a sender's name or "internet" as it is."""
    if counterpart == "internet":
        return _("Internet")
    if counterpart.startswith("+") and counterpart[1:].isdigit():
        return format_msisdn(counterpart)
    return counterpart


class ShownRecord(NamedTuple):
    """A record as the page's table shows it."""

    time: str
    kind: str
    counterpart: str
    amount: str
    cost: str


def shown_records(records: list[Row], *, locale: str, tz: str) -> list[ShownRecord]:
    """A page of records formatted for the table with the reader's language and zone, given once here: a
    template filter looks both up again for every value (four a row, fifty rows)."""
    labels, zone, internet = kind_labels(), ZoneInfo(tz), _("Internet")
    return [ShownRecord(formatting.datetime_short(r.started_at, locale, zone), labels.get(r.kind, r.kind),
                        internet if r.counterpart == "internet" else format_counterpart(r.counterpart),
                        format_amount(r.kind, r.quantity, locale), formatting.money(r.cost, locale))
            for r in records]


def format_roubles(kopecks: int, locale: str = "en") -> str:
    """Kopecks as a plain number of roubles (1 234.50); the ₽ sign is not in the PDF's font."""
    return format_decimal(Decimal(kopecks).scaleb(-2), format="#,##0.00", locale=locale)


def local_time(started_at: datetime, tz: str) -> datetime:
    return started_at.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz))


# ---- exports -------------------------------------------------------------------------------------------------

CSV_BOM = "\ufeff"  # Excel, the customer's usual tool, reads UTF-8 without it as cp1251 and garbles Cyrillic
CSV_FLUSH_ROWS = 500
# Headers in the reader's language; the values stay machine-readable (ISO times, seconds, KB, 12.50).
CALLS_CSV_HEADERS = (_l("Time"), _l("Kind code"), _l("Kind"), _l("Number"), _l("Duration, s"), _l("Volume, KB"),
                     _l("Cost, ₽"))
SESSIONS_CSV_HEADERS = (_l("Start"), _l("End"), _l("Duration, s"), _l("Volume, KB"), _l("IP address"))


def csv_lines(session: Session, account_id: int, period: Period, kinds: tuple[str, ...], *, tz: str):
    """The period as CSV, streamed: local time with its offset, kind, counterpart, seconds, KB, roubles."""
    labels = kind_labels()
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow([str(header) for header in CALLS_CSV_HEADERS])
    yield CSV_BOM + out.getvalue()
    out.seek(0)
    out.truncate()
    zone, n = ZoneInfo(tz), 0
    for _id, started_at, kind, counterpart, quantity, cost in iter_records(session, account_id, period, kinds):
        writer.writerow([started_at.replace(tzinfo=timezone.utc).astimezone(zone).isoformat(timespec="seconds"),
                         kind, labels.get(kind, kind), counterpart,
                         quantity if kind in CALL_KINDS else "", quantity if kind == "data" else "",
                         f"{cost // 100}.{cost % 100:02d}"])
        n += 1
        if n % CSV_FLUSH_ROWS == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    if out.tell():
        yield out.getvalue()


# A home contract's records are its internet sessions: start, end, volume and the address it was given.
HOME_KINDS = ("data",)


def session_seconds(started_at: datetime, ended_at: datetime | None) -> int | None:
    """How long a home session lasted; None while it is open (or when the network did not say)."""
    return max(0, int((ended_at - started_at).total_seconds())) if ended_at else None


def sessions_csv_lines(session: Session, account_id: int, period: Period, *, tz: str):
    """A home contract's sessions as CSV, streamed like ``csv_lines``: start, end, seconds, KB, IP address."""
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow([str(header) for header in SESSIONS_CSV_HEADERS])
    yield CSV_BOM + out.getvalue()
    out.seek(0)
    out.truncate()
    zone, n = ZoneInfo(tz), 0
    rows = iter_records(session, account_id, period, HOME_KINDS, extra=(UsageRecord.ended_at, UsageRecord.ip))
    for _id, started_at, _kind, _counterpart, quantity, _cost, ended_at, ip in rows:
        seconds = session_seconds(started_at, ended_at)
        writer.writerow([started_at.replace(tzinfo=timezone.utc).astimezone(zone).isoformat(timespec="seconds"),
                         ended_at.replace(tzinfo=timezone.utc).astimezone(zone).isoformat(timespec="seconds")
                         if ended_at else "", "" if seconds is None else seconds, quantity, ip or ""])
        n += 1
        if n % CSV_FLUSH_ROWS == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    if out.tell():
        yield out.getvalue()


def font_path() -> Path:
    """DroidSansMono from the captcha package: installed wherever the portal runs, and it has Cyrillic."""
    import captcha

    return Path(captcha.__file__).parent / "data" / "DroidSansMono.ttf"


def line_label(account: Account) -> str:
    """The number (or home contract) the details belong to, as the customer knows it."""
    if account.line:
        return format_msisdn(account.line.msisdn)
    return account.home_contract.contract_no if account.home_contract else str(account.id)


PDF_SPACES = str.maketrans({"\u202f": " ", "\u00a0": " "})  # the font has no narrow no-break space


def build_pdf(session: Session, account: Account, period: Period, group: str | None, *, locale: str,
              brand: str, now: datetime, max_rows: int = PDF_MAX_ROWS) -> bytes:
    """The printed form: a header (number, owner, period, totals) and at most ``max_rows`` rows, newest first."""
    from fpdf import FPDF

    kinds = kinds_of(group)
    total = totals(session, account.id, period, kinds)
    tz = period.tz
    widths = (34, 34, 50, 28, 28)
    heads = (_("Time"), _("Kind"), _("Number or service"), _("Duration or volume"), _("Cost, RUB"))

    class Form(FPDF):
        def header(self):
            if self.page_no() > 1:
                self._heads()

        def footer(self):
            self.set_y(-12)
            self.set_font("mono", size=7)
            self.cell(0, 5, f"{line_label(account)} · {self.page_no()}/{{nb}}", align="R")

        def _heads(self):
            self.set_font("mono", size=7)
            for width, text in zip(widths, heads, strict=True):
                self.cell(width, 5, text, border="B")
            self.ln()
            self.set_font("mono", size=8)

    from portal.domain.pdf import begin

    pdf = begin(Form(format="A4"), title=_("Call details"), brand=brand, margin=12, bottom=15)
    pdf.set_font("mono", size=13)
    pdf.cell(0, 8, f"{brand} — {_('Call details')}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("mono", size=9)
    what = str(GROUPS[group][0]) if group in GROUPS else _("Everything")
    facts = [
        (_("Number"), line_label(account)),
        (_("Owner"), account.customer.name),
        (_("Period"), f"{formatting.date_short(period.start, locale)} — "
                      f"{formatting.date_short(period.end, locale)} ({tz})"),
        (_("What"), what),
        (_("Records"), format_decimal(total.count, locale=locale)),
        (_("Calls, total"), format_duration(total.seconds)),
        (_("Data, total"), format_volume(total.kb, locale)),
        (_("Cost, total"), format_roubles(total.cost, locale) + " " + _("RUB")),
        (_("Made"), formatting.datetime_short(now, locale, tz)),
    ]
    for name, value in facts:
        pdf.cell(40, 5, name + ":")
        pdf.cell(0, 5, value.translate(PDF_SPACES), new_x="LMARGIN", new_y="NEXT")
    if total.count > max_rows:
        pdf.ln(2)
        pdf.multi_cell(0, 5, _("The printed form holds the newest %(n)s records. For the whole period "
                               "download the CSV file or order it by e-mail.",
                               n=format_decimal(max_rows, locale=locale)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf._heads()
    labels = kind_labels()
    zone = ZoneInfo(tz)
    for _id, started_at, kind, counterpart, quantity, cost in iter_records(session, account.id, period, kinds,
                                                                           limit=max_rows):
        moment = started_at.replace(tzinfo=timezone.utc).astimezone(zone)
        cells = (babel_datetime(moment, "dd.MM.yy HH:mm:ss", locale=locale), labels.get(kind, kind),
                 format_counterpart(counterpart), format_amount(kind, quantity, locale), format_roubles(cost, locale))
        for i, (width, text) in enumerate(zip(widths, cells, strict=True)):
            pdf.cell(width, 4.5, text.translate(PDF_SPACES), align="R" if i >= 3 else "L")
        pdf.ln()
    if not total.count:
        pdf.cell(0, 6, _("Nothing in this period."))
    return bytes(pdf.output())


# ---- ordering by e-mail --------------------------------------------------------------------------------------


class OrderRefused(DomainError):
    field = "email"


def order_details(session: Session, *, account_id: int, login_id: int, period: Period, group: str | None,
                  fmt: str, email: str, locale: str, idempotency_key: str, actor: audit.Actor, now: datetime,
                  per_day: int) -> DetailOrder:
    """Queue the details of a period for e-mail; the same submission (key) gives the same order."""
    existing = session.scalar(select(DetailOrder).where(DetailOrder.idempotency_key == idempotency_key))
    if existing is not None:
        if existing.login_id != login_id:
            raise NotFound("order")
        return existing
    if not KEY_FORMAT.match(idempotency_key or ""):
        raise DomainError(_l("The form has expired. Reload the page and try again."))
    if fmt not in FORMATS:
        raise OrderRefused(_l("Choose CSV or PDF."), field="format")
    recent = session.scalar(select(func.count(DetailOrder.id)).where(
        DetailOrder.login_id == login_id, DetailOrder.created_at >= now - timedelta(days=1)))
    if recent >= per_day:
        # The address is the customer's to type: a quota keeps the portal from mailing strangers in bulk.
        raise OrderRefused(_l("That is enough orders for today. Download the file instead, or try tomorrow."))
    order = DetailOrder(account_id=account_id, login_id=login_id, period_start=period.start, period_end=period.end,
                        kind=group or "", format=fmt, email=email, locale=locale, status="pending",
                        idempotency_key=idempotency_key, created_at=now)
    session.add(order)
    session.flush()
    audit.record(session, actor, "details_ordered", obj=order,
                 detail=f"{period.start}..{period.end} {group or 'all'} {fmt} to {email}")
    session.info.setdefault(PENDING_KEY, []).append(order.id)
    try:
        session.commit()
    except IntegrityError:  # a concurrent twin of this submission committed first: its order stands
        session.rollback()
        return session.scalars(select(DetailOrder).where(DetailOrder.idempotency_key == idempotency_key)).one()
    return order


def stuck_order_ids(session: Session, *, older_than: datetime, now: datetime) -> list[int]:
    """Orders still pending since before ``older_than`` and not claimed by a worker at ``now`` (their job was
    lost): the beat's sweep sends them again."""
    return list(session.scalars(select(DetailOrder.id).where(
        DetailOrder.status == "pending", DetailOrder.created_at < older_than,
        or_(DetailOrder.claimed_until.is_(None), DetailOrder.claimed_until <= now)).order_by(DetailOrder.id)))


def order_of_login(session: Session, *, order_id: int, login_id: int) -> DetailOrder:
    order = session.get(DetailOrder, order_id)
    if order is None or order.login_id != login_id:
        raise NotFound("order")
    return order


def detail_file(session: Session, order: DetailOrder, *, tz: str, brand: str, now: datetime) -> tuple[str, str, bytes]:
    """(file name, MIME type, content) of an order's file."""
    account = session.get(Account, order.account_id)
    period = Period(order.period_start, order.period_end, tz)
    name = f"details-{order.period_start}-{order.period_end}.{order.format}"
    if order.format == "pdf":
        return name, "application/pdf", build_pdf(session, account, period, order.kind or None,
                                                  locale=order.locale, brand=brand, now=now)
    text = "".join(csv_lines(session, account.id, period, kinds_of(order.kind or None), tz=tz))
    return name, "text/csv", text.encode("utf-8")


def detail_message(order: DetailOrder, account: Account, *, sender: str, brand: str,
                   attachment: tuple[str, str, bytes]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = order.email
    message["Subject"] = _("%(brand)s: call details of %(number)s", brand=brand, number=line_label(account))
    message.set_content(_("Hello,\n\nThe call details of %(number)s for %(start)s — %(end)s are attached.\n\n%(brand)s",
                          number=line_label(account), start=formatting.date_long(order.period_start),
                          end=formatting.date_long(order.period_end), brand=brand))
    name, mimetype, data = attachment
    maintype, subtype = mimetype.split("/")
    params = {"charset": "utf-8"} if maintype == "text" else {}
    message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name, params=params)
    return message


def deliver_order(session: Session, order_id: int, *, send, tz: str, brand: str, sender: str, now: datetime,
                  lease: timedelta = DEFAULT_MAIL_LEASE) -> str:
    """Build an order's file and send it with ``send(message)``; the order becomes sent or failed.

    The order is claimed for ``lease`` in a short transaction, so two workers (or the sweep) never send it
    twice, and no row lock is held while the mail server takes its time; the outcome is recorded in another.
    """
    # SKIP LOCKED: a row another worker is claiming this instant is its, not ours to wait for.
    order = session.scalar(select(DetailOrder).where(DetailOrder.id == order_id)
                           .with_for_update(skip_locked=True).execution_options(populate_existing=True))
    if order is None or order.status != "pending" or (order.claimed_until or now) > now:
        status = order.status if order else session.scalar(select(DetailOrder.status)
                                                           .where(DetailOrder.id == order_id))
        session.rollback()
        return status or "missing"
    order.claimed_until = now + lease
    session.commit()
    try:
        account = session.get(Account, order.account_id)
        message = detail_message(order, account, sender=sender, brand=brand,
                                 attachment=detail_file(session, order, tz=tz, brand=brand, now=now))
        session.rollback()  # nothing open while the mail server answers
        send(message)
    except Exception as err:  # noqa: BLE001 - any failure is the customer's "failed, try again"
        session.rollback()
        return _record_order(session, order_id, "failed", now, error=f"{type(err).__name__}: {err}")
    return _record_order(session, order_id, "sent", now)


def _record_order(session: Session, order_id: int, status: str, now: datetime, *, error: str | None = None) -> str:
    order = session.get(DetailOrder, order_id, with_for_update=True, populate_existing=True)
    if order.status != "pending":  # a slow answer after someone else's (a claim that ran out): theirs stands
        status = order.status
        session.rollback()
        return status
    order.status, order.error, order.claimed_until = status, error[:300] if error else None, None
    if status == "sent":
        order.sent_at = now
    session.commit()
    return status
