from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import to_user_timezone
from flask_login import current_user
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from portal import formatting
from portal.domain import home_pause, links
from portal.domain.accounts import account_of_login
from portal.domain.bounds import db_int
from portal.domain.errors import DomainError, NotFound
from portal.domain.phones import EXAMPLE_CONTRACT, format_msisdn
from portal.domain.workdays import parse_holidays
from portal.extensions import db, limiter
from portal.forms import PortalForm
from portal.models import utcnow
from portal.numbers import bp
from portal.web import (
    account_cards,
    account_in_focus,
    auth_policy,
    current_actor,
    customer_required,
    render,
    safe_next,
    see_other,
)


class LinkForm(PortalForm):
    numbers = TextAreaField(_l("Numbers to add"), validators=[
        InputRequired(_l("Type at least one number.")), Length(max=1000, message=_l("That is too long."))],
        render_kw={"rows": 3, "inputmode": "tel", "autocomplete": "off", "maxlength": 1000})


class HomeContractForm(PortalForm):
    contract = StringField(_l("Contract number"), validators=[
        InputRequired(_l("Type the contract number.")), Length(max=40)],
        render_kw={"placeholder": EXAMPLE_CONTRACT, "maxlength": 40, "autocomplete": "off"})


class HomeCodeForm(PortalForm):
    code = StringField(_l("Code from the SMS"), validators=[InputRequired(_l("Type the code from the SMS.")),
                                                            Length(max=12)],
                       render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 12})


class ConfirmForm(PortalForm):
    confirm = BooleanField(_l("Yes, remove this number from my list"),
                           validators=[InputRequired(_l("Tick the box to confirm."))])


def account_label(account) -> str:
    return format_msisdn(account.line.msisdn) if account.line else account.home_contract.contract_no


def link_policy() -> links.LinkPolicy:
    cfg = current_app.config
    return links.LinkPolicy(review_working_days=cfg["LINK_REVIEW_WORKING_DAYS"],
                            holidays=parse_holidays(cfg["HOLIDAYS"]), max_numbers=cfg["LINK_MAX_NUMBERS"])


@bp.get("/")
@customer_required
def index():
    accounts = account_cards()
    return render("numbers/index.html", accounts=accounts, focused=account_in_focus(),
                  paused_until=home_pause.paused_until(db.session, [a.id for a in accounts if a.contract_no]),
                  requests=links.requests_of_login(db.session, current_user.id), link_status=links.STATUS_LABELS.get)


@bp.post("/focus")
@customer_required
def focus():
    """The header's switcher: the chosen number becomes the one every page acts on."""
    account_id = request.form.get("account", type=db_int)
    try:
        account = account_of_login(db.session, login_id=current_user.id, account_id=account_id or 0)
    except NotFound:
        abort(404)
    session["focus"] = account.id
    return redirect(safe_next(request.form.get("next")) or url_for("account.dashboard"), 303)


@bp.route("/link", methods=["GET", "POST"])
@customer_required
def link():
    """Ask to manage more numbers of the same owner; staff review it."""
    form = LinkForm()
    if form.validate_on_submit():
        try:
            created = links.request_link(db.session, login_id=current_user.id, numbers_text=form.numbers.data,
                                         actor=current_actor(), now=utcnow(),
                                         today=to_user_timezone(utcnow()).date(), policy=link_policy())
            flash(_("Your request is sent. We will review it by %(date)s.",
                    date=formatting.date_long(created.due_on)))
            return see_other(".index")
        except DomainError as err:
            form.add_domain_error(err)
    primary = current_user.primary_account
    service = links.number_management_service(db.session)
    own_has_service = bool(links.has_number_management(db.session, [primary.id]))
    return render("numbers/link.html", "numbers/_link_form.html", status=form.status, form=form,
                  service=service, own_has_service=own_has_service, ussd=links.USSD_CONNECT)


@bp.post("/requests/<int:request_id>/withdraw")
@customer_required
def withdraw(request_id: int):
    try:
        links.withdraw(db.session, login_id=current_user.id, request_id=request_id, actor=current_actor(),
                       now=utcnow())
        flash(_("The request is withdrawn."))
    except NotFound:
        abort(404)
    except DomainError as err:
        flash(err.message)
    return see_other(".index")


@bp.route("/<int:account_id>/unlink", methods=["GET", "POST"])
@customer_required
def unlink(account_id: int):
    try:
        account = account_of_login(db.session, login_id=current_user.id, account_id=account_id)
    except NotFound:
        abort(404)
    if account.id == current_user.primary_account_id:
        abort(404)  # your own number is not "linked"; there is nothing to remove
    form = ConfirmForm()
    if form.validate_on_submit():
        links.unlink(db.session, login_id=current_user.id, account_id=account.id, actor=current_actor(),
                     now=utcnow())
        flash(_("%(number)s is no longer in your list.", number=account_label(account)))
        return see_other(".index")
    return render("numbers/unlink.html", status=form.status, form=form, account=account)


@bp.route("/home", methods=["GET", "POST"])
@customer_required
@limiter.limit("5 per hour", exempt_when=lambda: request.method != "POST")
def home_link():
    """Add a home internet/TV contract of the same owner: a code to its contact phone, no review."""
    form = HomeContractForm()
    if form.validate_on_submit():
        try:
            token, account_id = links.start_home_link(db.session, login_id=current_user.id,
                                                      contract_text=form.contract.data, actor=current_actor(),
                                                      now=utcnow(), policy=auth_policy())
            session["home_link"] = {"token": token, "account": account_id}
            return see_other(".home_link_confirm")
        except DomainError as err:
            form.add_domain_error(err)
    return render("numbers/home_link.html", status=form.status, form=form)


@bp.route("/home/confirm", methods=["GET", "POST"])
@customer_required
def home_link_confirm():
    pending = session.get("home_link")
    if not pending:
        return redirect(url_for(".home_link"), 303)
    form = HomeCodeForm()
    if form.validate_on_submit():
        try:
            links.confirm_home_link(db.session, login_id=current_user.id, token=pending["token"],
                                    account_id=pending["account"], code=form.code.data, actor=current_actor(),
                                    now=utcnow(), policy=auth_policy())
            session.pop("home_link", None)
            session["focus"] = pending["account"]
            flash(_("The home contract is added. Switch between your numbers and contracts at the top."))
            return see_other("account.dashboard")
        except DomainError as err:
            form.add_domain_error(err)
    return render("numbers/home_link_confirm.html", status=form.status, form=form)
