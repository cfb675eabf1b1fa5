"""Traffic of the home contract in focus: a daily chart per billing period, the sessions list and its CSV.

The sessions follow the call details' rules (six months back, nothing in the future, the login's time zone,
keyset paging, streamed CSV): the same functions of ``domain.details`` read them.
"""
from datetime import timedelta

from flask import Response, abort, request, stream_with_context
from flask_babel import get_locale, to_user_timezone
from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from portal import formatting
from portal.domain import details, home
from portal.domain.errors import DomainError
from portal.domain.history import Period
from portal.extensions import db
from portal.forms import PortalForm
from portal.models import utcnow
from portal.numbers import bp
from portal.web import account_in_focus, customer_required, is_htmx_partial, render, select_timezone


class BillingPeriodForm(PortalForm):
    """Which billing period the chart shows: a GET form, bookmarkable, no CSRF token."""

    class Meta:
        csrf = False

    period = SelectField(_l("Billing period"), choices=[], validate_choice=True, validators=[Optional()],
                         invalid_choice_message=_l("Choose a billing period from the list."))

    def __init__(self, *args, periods=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.period.choices = periods
        self.period.data = self.period.data or periods[0][0]  # none chosen: the current one


class SessionsForm(PortalForm):
    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[Optional()], render_kw={"max": "9999-12-31"})
    end = DateField(_l("To"), validators=[Optional()], render_kw={"max": "9999-12-31"})


ONE_DAY = timedelta(days=1)


def today():
    return to_user_timezone(utcnow()).date()


def home_in_focus():
    """The home contract the customer acts on; a mobile line in focus has no traffic pages."""
    account = account_in_focus()
    if account.home_contract is None:
        abort(404)
    return account


@bp.get("/traffic")
@customer_required
def traffic():
    account = home_in_focus()
    now = today()
    periods = home.billing_periods(account.home_contract.billing_day, now, earliest=details.earliest_start(now))
    choices = [(start.isoformat(), f"{formatting.date_short(start)} – {formatting.date_short(end - ONE_DAY)}")
               for start, end in periods]
    form = BillingPeriodForm(request.args, periods=choices)
    days, chosen = [], None
    if form.validate():
        start, end = next(p for p in periods if p[0].isoformat() == form.period.data)
        chosen = Period(start, min(end - ONE_DAY, now), select_timezone())
        days = home.daily_traffic(db.session, account.id, chosen)
    return render("numbers/traffic.html", status=form.status, form=form, days=days, period=chosen,
                  total_kb=sum(kb for _day, kb in days), number=details.line_label(account), d=details,
                  locale=str(get_locale()))


@bp.get("/traffic/sessions")
@customer_required
def traffic_sessions():
    account = home_in_focus()
    form, period = _sessions_filter(account)
    return _sessions_page(account, form, period)


@bp.get("/traffic/sessions.csv")
@customer_required
def traffic_sessions_csv():
    account = home_in_focus()
    form, period = _sessions_filter(account)
    if period is None:
        return _sessions_page(account, form, period)
    lines = details.sessions_csv_lines(db.session, account.id, period, tz=period.tz)
    response = Response(stream_with_context(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename=sessions-{period.start}-{period.end}.csv"
    return response


def _sessions_page(account, form, period):
    records, cursor, before, total = [], None, None, None
    if period is not None:
        before = details.decode_cursor(request.args.get("before"))
        records, cursor = details.records_page(db.session, account.id, period, details.HOME_KINDS, before=before)
        total = details.totals(db.session, account.id, period, details.HOME_KINDS) if not before else None
    partial = "numbers/_traffic_rows.html" if before and is_htmx_partial() else None
    return render("numbers/traffic_sessions.html", partial, status=form.status, form=form, records=records,
                  next_before=details.encode_cursor(cursor), before=before, totals=total, d=details,
                  shown=period is not None, number=details.line_label(account),
                  earliest=details.earliest_start(today()), locale=str(get_locale()))


def _sessions_filter(account):
    """The period from the query string (default: the billing period so far); the Period, or None with errors."""
    now = today()
    form = SessionsForm(request.args)
    first = max(home.billing_period(account.home_contract.billing_day, now)[0], details.earliest_start(now))
    form.start.data = form.start.data or first
    form.end.data = form.end.data or now
    period = None
    if form.validate():
        try:
            period = details.check_period(form.start.data, form.end.data, today=now, tz=select_timezone())
        except DomainError as err:
            form.add_domain_error(err)
    return form, period
