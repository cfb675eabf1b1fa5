from flask import abort, current_app, request
from flask_login import current_user, logout_user

from portal.admin import bp
from portal.admin.forms import KIND_LABELS, CustomerSearchForm, StaffLoginForm
from portal.domain import staff
from portal.domain.errors import DomainError, NotFound
from portal.extensions import db, limiter
from portal.forms import PortalForm
from portal.models import Staff, utcnow
from portal.web import (
    auth_policy,
    client_ip,
    current_actor,
    render,
    see_other,
    staff_required,
    start_user_session,
)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_STAFF_LOGIN"], exempt_when=lambda: request.method != "POST")
def login():
    if isinstance(current_user, Staff):
        return see_other(".home")
    form = StaffLoginForm()
    if form.validate_on_submit():
        try:
            web_session = staff.sign_in_staff(db.session, email=form.email.data, password=form.password.data,
                                              ip=client_ip(), now=utcnow(), policy=auth_policy())
            web_session.staff.web_session = web_session
            start_user_session(web_session.staff)
            return see_other(".home")
        except DomainError as err:
            form.add_domain_error(err)
    return render("admin/login.html", status=form.status, form=form)


@bp.post("/logout")
def logout():
    if not PortalForm().validate_on_submit():
        abort(400)
    if isinstance(current_user, Staff):
        staff.close_staff_session(db.session, token=current_user.web_session.token, actor=current_actor(),
                                  now=utcnow())
    logout_user()
    return see_other(".login")


@bp.get("/")
@staff_required
def home():
    form = CustomerSearchForm(request.args)
    customers = []
    if form.q.data and form.validate():
        customers = staff.search_customers(db.session, form.q.data,
                                           region=current_app.config["PHONE_DEFAULT_REGION"])
    return render("admin/home.html", "admin/_results.html", form=form, customers=customers)


@bp.get("/sms")
@staff_required
def sms_outbox():
    before = request.args.get("before", type=int)
    messages = staff.sms_outbox(db.session, before_id=before)
    return render("admin/sms.html", messages=messages)


@bp.get("/customers/<int:customer_id>")
@staff_required
def customer(customer_id: int):
    try:
        card = staff.customer_card(db.session, customer_id)
    except NotFound:
        abort(404)
    return render("admin/customer.html", card=card, kinds=KIND_LABELS)
