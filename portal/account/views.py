from datetime import timezone
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, flash, request, session, stream_with_context
from flask_babel import gettext as _
from flask_babel import to_user_timezone
from flask_login import current_user

from portal.account import bp
from portal.account.forms import AcceptDocumentForm, DocumentCodeForm
from portal.domain import archive, documents, notices, sms_codes
from portal.domain.bounds import db_int
from portal.domain.documents import consent
from portal.domain.documents import pdf as document_pdf
from portal.domain.errors import DomainError, NotFound
from portal.domain.home import home_overview
from portal.domain.overview import account_overview
from portal.extensions import db, limiter
from portal.forms import period_filter
from portal.models import utcnow
from portal.web import (
    account_in_focus,
    auth_policy,
    card_in_focus,
    client_ip,
    current_actor,
    customer_required,
    is_htmx_partial,
    render,
    see_other,
    select_locale,
    select_timezone,
)

# Dashboard blocks htmx can refresh alone: /?block=<name> renders account/_<name>.html.
BLOCKS = ("summary", "allowances", "services", "subscriptions")


@bp.get("/")
@customer_required
def dashboard():
    card = card_in_focus()  # the mobile dashboard shows the card's columns: no ORM objects
    if card.kind == "home":
        account = account_in_focus()
        return render("account/home_dashboard.html", account=account,
                      notices=notices.notices_for(db.session, account, now=utcnow()),
                      home=home_overview(db.session, account, today=to_user_timezone(utcnow()).date(), now=utcnow(),
                                         tz=select_timezone()))
    block = request.args.get("block")
    return render("account/dashboard.html", f"account/_{block}.html" if block in BLOCKS else None,
                  account=card, notices=notices.notices_for(db.session, card, now=utcnow()),
                  overview=account_overview(db.session, card, tariff_fee=card.tariff_fee or 0, now=utcnow(),
                                            today=to_user_timezone(utcnow()).date()))


def _archive_filter():
    form, period, groups, _ = period_filter([(key, str(label)) for key, (label, _) in archive.GROUPS.items()])
    return form, period, groups[0] if groups else None


@bp.get("/archive")
@customer_required
def archive_page():
    """The transactions archive: what this login did, and what happened to its accounts."""
    form, period, group = _archive_filter()
    before = request.args.get("before", type=db_int)
    events, next_before = archive.events_page(db.session, current_user.id, period, group, before_id=before)
    partial = "account/_archive_rows.html" if before and is_htmx_partial() else None
    return render("account/archive.html", partial, status=form.status, form=form, events=events,
                  next_before=next_before, before=before, labels=archive.LABELS)


@bp.get("/archive.csv")
@customer_required
def archive_csv():
    form, period, group = _archive_filter()
    if form.errors:
        return render("account/archive.html", status=422, form=form, events=[], next_before=None, before=None,
                      labels=archive.LABELS)
    response = Response(stream_with_context(archive.csv_lines(db.session, current_user.id, period, group)),
                        mimetype="text/csv")
    response.headers["Content-Disposition"] = f"attachment; filename=archive-{period.start}-{period.end}.csv"
    return response


def _operator_now():
    """Documents follow the operator's calendar (the same month for every reader), not the reader's time zone."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return utcnow().replace(tzinfo=timezone.utc).astimezone(zone)


@bp.get("/documents")
@customer_required
def documents_page():
    """The account's monthly documents (a line's statements, a home contract's invoices and acts) and the
    agreements the login accepts."""
    account = account_in_focus()
    tz, today = current_app.config["BABEL_DEFAULT_TIMEZONE"], _operator_now().date()
    months = [documents.build(db.session, account, documents.kinds_for(account)[0], month, today=today, tz=tz)
              for month in documents.months_available(db.session, account, today=today, tz=tz)]
    return render("account/documents.html", account=account, months=months, kinds=documents.kinds_for(account),
                  titles=documents.TITLES, agreements=consent.current_documents(db.session),
                  accepted=consent.acceptances_of(db.session, current_user.id))


def _form_id(form) -> int:
    """The document version the form was made for (0, which is no document, for anything else)."""
    try:
        return db_int(form.document_id.data)
    except (TypeError, ValueError):
        return 0


def _agreement_or_404(slug: str):
    try:
        return consent.current(db.session, slug)
    except NotFound:
        abort(404)


def _agreement_page(document, form: AcceptDocumentForm, *, status: int = 200):
    accepted = consent.acceptances_of(db.session, current_user.id).get(document.id)
    if form.document_id.data is None:
        form.document_id.data = document.id
    return render("account/agreement.html", status=status, document=document, form=form, accepted=accepted,
                  code_form=DocumentCodeForm(formdata=None, data={"document_id": document.id}),
                  code_sent=session.get("agreement_code") == document.id,
                  code_phone=sms_codes.code_phone(current_user))


@bp.route("/documents/agreements/<slug>", methods=["GET", "POST"])
@customer_required
def agreement(slug: str):
    """Read a document and accept it with a code sent by SMS."""
    document = _agreement_or_404(slug)
    form = AcceptDocumentForm()
    if form.validate_on_submit():
        try:
            consent.accept(db.session, login_id=current_user.id, document_id=_form_id(form),
                           code=form.code.data, ip=client_ip(), actor=current_actor(), now=utcnow(),
                           policy=auth_policy())
        except NotFound:
            abort(404)
        except DomainError as err:
            form.add_domain_error(err)
        else:
            session.pop("agreement_code", None)
            flash(_("Accepted: «%(title)s», version %(version)s.", title=document.title, version=document.version))
            return see_other(".agreement", slug=document.slug)
    return _agreement_page(document, form, status=form.status)


@bp.post("/documents/agreements/<slug>/code")
@customer_required
@limiter.limit("5 per hour")
def agreement_code(slug: str):
    document = _agreement_or_404(slug)
    form = DocumentCodeForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        consent.send_code(db.session, login_id=current_user.id, document_id=_form_id(form),
                          actor=current_actor(), now=utcnow(), policy=auth_policy())
    except NotFound:
        abort(404)
    except DomainError as err:
        flash(err.message)
    else:
        session["agreement_code"] = document.id
        flash(_("The code is sent by SMS to your number."))
    return see_other(".agreement", slug=document.slug)


@bp.get("/documents/<any(statement, invoice, act):kind>-<month>.pdf")
@customer_required
def document_pdf_file(kind: str, month: str):
    account = account_in_focus()
    try:
        document = documents.build(db.session, account, kind, documents.parse_month(month),
                                   today=_operator_now().date(), tz=current_app.config["BABEL_DEFAULT_TIMEZONE"])
    except NotFound:
        abort(404)
    body = document_pdf.render(document, brand=current_app.config["BRAND"], locale=str(select_locale()),
                               now=_operator_now())
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"attachment; filename={document.number}.pdf"
    response.headers["Cache-Control"] = "private, no-store"
    return response
