from flask import Response, abort, current_app, flash, request
from flask_babel import gettext as _
from flask_login import current_user

from portal.admin import bp
from portal.admin.forms import (
    KIND_LABELS,
    AdjustmentForm,
    CodeWordCheckForm,
    CustomerSearchForm,
    IdentityCheckForm,
    PortOutForm,
    ShutWaysInForm,
    SimReissueForm,
    SmsOutboxFilterForm,
    StaffLoginForm,
    StaffUnblockForm,
    VoucherBatchForm,
    WaysInForm,
)
from portal.admin.labels import SMS_STATES
from portal.admin.passkeys import second_step_or_session
from portal.auth.social import provider_names as social_provider_names
from portal.domain import adjustments, blocking, codeword, locator, simlock, staff, vouchers, ways_in
from portal.domain.bounds import db_int
from portal.domain.documents import consent
from portal.domain.errors import DomainError, NotFound
from portal.domain.receipts import receipt
from portal.domain.support import STAFF_STATES
from portal.domain.support import requests as support
from portal.extensions import db, limiter
from portal.forms import PortalForm
from portal.models import Staff, utcnow
from portal.web import (
    admin_required,
    auth_policy,
    client_ip,
    current_actor,
    end_user_session,
    render,
    see_other,
    staff_required,
)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_STAFF_LOGIN"], exempt_when=lambda: request.method != "POST")
def login():
    if isinstance(current_user, Staff):
        return see_other(".home")
    form = StaffLoginForm()
    if form.validate_on_submit():
        try:
            member = staff.check_staff_password(db.session, email=form.email.data, password=form.password.data,
                                                ip=client_ip(), now=utcnow(), policy=auth_policy())
            return second_step_or_session(member)
        except DomainError as err:
            form.add_domain_error(err)
    return render("admin/login.html", status=form.status, form=form)


@bp.post("/logout")
def logout():
    if not PortalForm().validate_on_submit():
        abort(400)
    end_user_session()
    return see_other(".login")


@bp.get("/")
@staff_required
def home():
    form = CustomerSearchForm(request.args)
    customers, operation = [], None
    if form.q.data and form.validate():
        operation = receipt.find_for_staff(db.session, form.q.data)  # an operation code read out by a customer
        customers = staff.search_customers(db.session, form.q.data,
                                           region=current_app.config["PHONE_DEFAULT_REGION"])
    return render("admin/home.html", "admin/_results.html", form=form, customers=customers, operation=operation,
                  status=form.status)


@bp.get("/sms")
@staff_required
def sms_outbox():
    before = request.args.get("before", type=db_int)
    form = SmsOutboxFilterForm(request.args, states=SMS_STATES)
    valid = form.validate()
    messages = staff.sms_outbox(db.session, before_id=before, status=form.state.data if valid else None)
    return render("admin/sms.html", form=form, messages=messages, status=form.status)


@bp.get("/customers/<int:customer_id>")
@staff_required
def customer(customer_id: int):
    try:
        card = staff.customer_card(db.session, customer_id)
    except NotFound:
        abort(404)
    return show_customer(card)


def show_customer(card, *, status: int = 200, **forms):
    """The staff page of a customer: accounts, forms (one of them maybe re-shown with its errors), acceptances."""
    blank = {"code_word_form": CodeWordCheckForm, "adjust_form": AdjustmentForm, "unblock_form": StaffUnblockForm,
             "sim_form": SimReissueForm, "port_out_form": PortOutForm, "check_form": IdentityCheckForm,
             "ways_in_form": WaysInForm, "shut_form": ShutWaysInForm}
    for name, form_class in blank.items():
        forms.setdefault(name, form_class(formdata=None))
    return render("admin/customer.html", status=status, card=card, kinds=KIND_LABELS,
                  guards=simlock.guards(db.session, [item.account.id for item in card.accounts], now=utcnow()),
                  documents=simlock.DOCUMENT_TYPES,
                  acceptances=consent.acceptances_of_customer(db.session, card.customer.id),
                  support_requests=support.requests_of_customer(db.session, card.customer.id),
                  support_states=STAFF_STATES, locator_labels=locator.STATE_LABELS,
                  locator=locator.staff_summary(db.session, {item.account.id for item in card.accounts}),
                  ways_in=ways_in.of_customer(db.session, card.customer.id,
                                               provider_names=social_provider_names()), **forms)


@bp.post("/customers/<int:customer_id>/code-word")
@staff_required
def check_code_word(customer_id: int):
    """The caller's answer checked against the customer's code word: staff learn only whether it matches."""
    try:
        card = staff.customer_card(db.session, customer_id)
    except NotFound:
        abort(404)
    form = CodeWordCheckForm()
    if form.validate_on_submit():
        try:
            matches = codeword.check_answer(db.session, customer_id=customer_id, answer=form.answer.data,
                                            actor=current_actor(), now=utcnow())
        except DomainError as err:
            form.add_domain_error(err)
        else:
            flash(_("The answer matches the code word.") if matches else
                  _("The answer does NOT match the code word: change nothing for this caller."))
            return see_other(".customer", customer_id=customer_id, _anchor="code-word")
    return show_customer(card, status=form.status, code_word_form=form)


@bp.post("/accounts/<int:account_id>/adjust")
@admin_required
def adjust(account_id: int):
    """A balance correction with a reason (admins only)."""
    customer_id = staff.customer_of_account(db.session, account_id)
    if customer_id is None:
        abort(404)
    form = AdjustmentForm()
    if form.validate_on_submit():
        sign = 1 if form.direction.data == "credit" else -1
        try:
            adjustments.adjust_balance(db.session, account_id=account_id, amount=sign * form.amount.data,
                                       reason=form.reason.data, idempotency_key=form.idempotency_key.data,
                                       actor=current_actor(), now=utcnow())
            flash(_("The balance is corrected."))
            return see_other(".customer", customer_id=customer_id, _anchor=f"account-{account_id}")
        except DomainError as err:
            form.add_domain_error(err)
    card = staff.customer_card(db.session, customer_id)
    return show_customer(card, status=form.status, adjust_form=form, adjusting=account_id)


@bp.post("/accounts/<int:account_id>/unblock")
@admin_required
def unblock(account_id: int):
    """Lift the customer's own block (lost or voluntary), with a reason; suspension for debt stays."""
    customer_id = staff.customer_of_account(db.session, account_id)
    if customer_id is None:
        abort(404)
    form = StaffUnblockForm()
    if form.validate_on_submit():
        cfg = current_app.config
        try:
            if blocking.staff_unblock(db.session, account_id=account_id, reason=form.reason.data,
                                      actor=current_actor(), now=utcnow(),
                                      wording=blocking.NoticeText(cfg["BABEL_DEFAULT_LOCALE"], cfg["BRAND"])):
                flash(_("The number is unblocked."))
            return see_other(".customer", customer_id=customer_id, _anchor=f"account-{account_id}")
        except DomainError as err:
            form.add_domain_error(err)
    card = staff.customer_card(db.session, customer_id)
    return show_customer(card, status=form.status, unblock_form=form, unblocking=account_id)


@bp.route("/vouchers", methods=["GET", "POST"])
@admin_required
def voucher_batch():
    """Issue prepaid cards; the answer is the CSV for the printer, the only time codes and PINs exist in clear."""
    form = VoucherBatchForm()
    if form.validate_on_submit():
        cfg = current_app.config
        try:
            issued = vouchers.issue_vouchers(db.session, count=form.count.data, amount=form.amount.data,
                                             key=cfg["VOUCHER_KEY"] or cfg["SECRET_KEY"], actor=current_actor(),
                                             now=utcnow())
        except DomainError as err:
            form.add_domain_error(err)
        else:
            body = "code;pin;amount_rub\n" + "".join(f"{v.code};{v.pin};{v.amount // 100}\n" for v in issued)
            response = Response(body, mimetype="text/csv")
            response.headers["Content-Disposition"] = f"attachment; filename=vouchers-{utcnow():%Y%m%d-%H%M%S}.csv"
            return response
    return render("admin/vouchers.html", status=form.status, form=form)
