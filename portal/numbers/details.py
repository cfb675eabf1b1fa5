"""Call details of the number in focus: the page, CSV, the printed form (PDF) and orders by e-mail."""
import re

from flask import Response, abort, current_app, request, stream_with_context
from flask_babel import get_locale, to_user_timezone
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import DateField, EmailField, HiddenField, RadioField, SelectField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from portal import details_jobs  # noqa: F401 - registers the e-mail task and its after_commit hook
from portal.domain import details
from portal.domain.errors import DomainError, NotFound
from portal.domain.phones import format_msisdn
from portal.extensions import db
from portal.forms import IdempotentForm, PeriodForm
from portal.models import utcnow
from portal.numbers import bp
from portal.web import (
    account_in_focus,
    card_in_focus,
    current_actor,
    customer_required,
    is_htmx_partial,
    render,
    see_other,
    select_timezone,
)

KIND_CHOICES = [(key, label) for key, (label, _kinds) in details.GROUPS.items()]
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")


class OrderForm(IdempotentForm):
    """Details by e-mail: the page's period and kind (hidden), an address and a format."""

    start = HiddenField(validators=[InputRequired()])
    end = HiddenField(validators=[InputRequired()])
    kind = HiddenField()
    email = EmailField(_l("E-mail"), validators=[InputRequired(_l("Enter an e-mail address.")), Length(max=254),
                                                 Regexp(EMAIL, message=_l("This does not look like an e-mail "
                                                                          "address. Example: name@example.com."))],
                       render_kw={"autocomplete": "email", "maxlength": 254, "placeholder": "name@example.com"})
    format = RadioField(_l("Format"), choices=[("csv", "CSV"), ("pdf", "PDF")], default="csv",
                        validators=[InputRequired(_l("Choose CSV or PDF."))])


class PeriodFields(PeriodForm):
    """The order form's hidden period, parsed and checked like the filter's."""

    start = DateField(validators=[InputRequired()])
    end = DateField(validators=[InputRequired()])
    kind = SelectField(choices=[], validate_choice=True, default="", validators=[Optional()])


def today():
    return to_user_timezone(utcnow()).date()


def _filter():
    """The filter from the query string (default: this month so far); the Period, or None with the form's errors."""
    form = PeriodForm(request.args, kinds=KIND_CHOICES)
    first, last = details.default_period(today())
    form.start.data = form.start.data or first
    form.end.data = form.end.data or last
    period = None
    if form.validate():
        try:
            period = details.check_period(form.start.data, form.end.data, today=today(),
                                          tz=select_timezone())
        except DomainError as err:
            form.add_domain_error(err)
    return form, period, form.kind.data or None


def _page(form, period, group, order_form, *, status=None):
    card = card_in_focus()  # the page needs the account's id and number only: no ORM object
    records, cursor, before, total = [], None, None, None
    if period is not None:
        before = details.decode_cursor(request.args.get("before"))
        kinds = details.kinds_of(group)
        records, cursor = details.records_page(db.session, card.id, period, kinds, before=before)
        total = details.totals(db.session, card.id, period, kinds) if not before else None
    partial = "numbers/_details_rows.html" if before and is_htmx_partial() else None
    if order_form.errors and is_htmx_partial():
        partial = "numbers/_details_order_form.html"
    locale = str(get_locale())
    return render("numbers/details.html", partial, status=status or form.status, form=form,
                  records=records, rows=details.shown_records(records, locale=locale, tz=select_timezone()),
                  next_before=details.encode_cursor(cursor), before=before, totals=total,
                  order_form=order_form, d=details, shown=period is not None, locale=locale,
                  number=format_msisdn(card.msisdn) if card.msisdn else card.contract_no,
                  earliest=details.earliest_start(today()))


@bp.get("/details")
@customer_required
def details_page():
    if card_in_focus().kind == "home":
        return see_other(".traffic")  # a home contract's "details" are its traffic and sessions
    form, period, group = _filter()
    order_form = OrderForm(formdata=None, start=form.start.data, end=form.end.data, kind=form.kind.data)
    return _page(form, period, group, order_form)


@bp.get("/details.csv")
@customer_required
def details_csv():
    form, period, group = _filter()
    if period is None:
        return _page(form, period, group, OrderForm(formdata=None))
    account = account_in_focus()
    lines = details.csv_lines(db.session, account.id, period, details.kinds_of(group), tz=period.tz)
    response = Response(stream_with_context(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename=details-{period.start}-{period.end}.csv"
    return response


@bp.get("/details.pdf")
@customer_required
def details_pdf():
    form, period, group = _filter()
    if period is None:
        return _page(form, period, group, OrderForm(formdata=None))
    account = account_in_focus()
    pdf = details.build_pdf(db.session, account, period, group, locale=str(get_locale()),
                            brand=current_app.config["BRAND"], now=utcnow())
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"attachment; filename=details-{period.start}-{period.end}.pdf"
    return response


@bp.post("/details/email")
@customer_required
def details_email():
    account = account_in_focus()
    order_form = OrderForm()
    valid = order_form.validate_on_submit()  # first: validating clears form_errors
    period_fields = PeriodFields(formdata=request.form, kinds=KIND_CHOICES)
    period, group = None, period_fields.kind.data or None
    if period_fields.validate():
        try:
            period = details.check_period(period_fields.start.data, period_fields.end.data, today=today(),
                                          tz=select_timezone())
        except DomainError as err:
            order_form.form_errors.append(err.message)
    else:
        order_form.form_errors.append(_l("The period is not valid. Choose it again above."))
    if valid and period is not None:
        try:
            order = details.order_details(
                db.session, account_id=account.id, login_id=current_user.id, period=period, group=group,
                fmt=order_form.format.data, email=order_form.email.data.strip(), locale=str(get_locale()),
                idempotency_key=order_form.idempotency_key.data, actor=current_actor(), now=utcnow(),
                per_day=current_app.config["DETAILS_ORDERS_PER_DAY"])
            return see_other(".detail_order", order_id=order.id)
        except NotFound:
            abort(404)
        except DomainError as err:
            order_form.add_domain_error(err)
    form = PeriodForm(formdata=None, kinds=KIND_CHOICES, start=period_fields.start.data,
                      end=period_fields.end.data, kind=period_fields.kind.data or "")
    return _page(form, period, group, order_form, status=422)


@bp.get("/details/orders/<int:order_id>")
@customer_required
def detail_order(order_id: int):
    """An order's status: the page without JS (a refresh link), the polled fragment with htmx."""
    try:
        order = details.order_of_login(db.session, order_id=order_id, login_id=current_user.id)
    except NotFound:
        abort(404)
    return render("numbers/details_order.html", "numbers/_details_order.html", order=order,
                  group_label=details.GROUPS[order.kind][0] if order.kind in details.GROUPS else None)
