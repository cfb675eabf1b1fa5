"""The customer's support requests: the list and a new request, a request's thread, reply, close, rate."""
from flask import abort, current_app, flash
from flask_babel import gettext as _
from flask_login import current_user

from portal.domain import notices
from portal.domain.errors import DomainError, NotFound
from portal.domain.support import STATES
from portal.domain.support import requests as support
from portal.extensions import db
from portal.forms import PortalForm
from portal.models import utcnow
from portal.support import bp
from portal.support.forms import NewRequestForm, RateForm, ReplyForm, topic_names
from portal.web import account_in_focus, current_actor, customer_required, render, see_other


def _list_page(form: NewRequestForm):
    """The requests and the new-request form; an outage or works on the service in focus shows above the form
    (the answer may already be there)."""
    account = account_in_focus()
    return render("support/index.html", status=form.status, form=form, account=account,
                  requests=support.requests_of_login(db.session, current_user.id), categories=topic_names(),
                  states=STATES, notices=notices.notices_for(db.session, account, now=utcnow()))


@bp.get("/")
@customer_required
def index():
    return _list_page(NewRequestForm(formdata=None))


@bp.post("/")
@customer_required
def open_request():
    """A new request about the number or contract in focus."""
    form = NewRequestForm()
    if form.validate_on_submit():
        try:
            outcome = support.open_request(
                db.session, login_id=current_user.id, account_id=account_in_focus().id,
                category=form.category.data, text=form.text.data, idempotency_key=form.idempotency_key.data,
                actor=current_actor(), now=utcnow(), per_day=current_app.config["SUPPORT_REQUESTS_PER_DAY"])
        except DomainError as err:
            form.add_domain_error(err)
        else:
            if not outcome.done:  # the same form twice: its request is the newest one
                return see_other(".index")
            flash(_("Request #%(number)s is sent. We will answer here and by SMS.", number=outcome.request_id))
            return see_other(".show", request_id=outcome.request_id)
    return _list_page(form)


def _own(request_id: int):
    try:
        return support.request_of_login(db.session, request_id, current_user.id)
    except NotFound:
        abort(404)


def _thread_page(request, *, status: int = 200, reply_form=None, rate_form=None):
    return render("support/request.html", status=status, req=request, categories=topic_names(), states=STATES,
                  messages=support.thread(db.session, request.id, with_notes=False),
                  reply_form=reply_form or ReplyForm(formdata=None), rate_form=rate_form or RateForm(formdata=None))


@bp.get("/<int:request_id>")
@customer_required
def show(request_id: int):
    return _thread_page(_own(request_id))


@bp.post("/<int:request_id>/reply")
@customer_required
def reply(request_id: int):
    request = _own(request_id)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            support.reply_as_customer(db.session, request_id=request.id, login_id=current_user.id,
                                      text=form.text.data, idempotency_key=form.idempotency_key.data,
                                      actor=current_actor(), now=utcnow())
        except DomainError as err:
            db.session.rollback()
            form.add_domain_error(err)
        else:
            return see_other(".show", request_id=request.id, _anchor="reply")
    return _thread_page(_own(request_id), status=form.status, reply_form=form)


@bp.post("/<int:request_id>/close")
@customer_required
def close(request_id: int):
    request = _own(request_id)
    if not PortalForm().validate_on_submit():
        abort(400)
    support.close_by_customer(db.session, request_id=request.id, login_id=current_user.id, actor=current_actor(),
                              now=utcnow())
    flash(_("The request is closed. Please rate the answer."))
    return see_other(".show", request_id=request.id, _anchor="rate")


@bp.post("/<int:request_id>/rate")
@customer_required
def rate(request_id: int):
    request = _own(request_id)
    form = RateForm()
    if form.validate_on_submit():
        try:
            support.rate(db.session, request_id=request.id, login_id=current_user.id, rating=int(form.rating.data),
                         comment=form.comment.data, actor=current_actor(), now=utcnow())
        except DomainError as err:
            db.session.rollback()
            form.add_domain_error(err)
        else:
            flash(_("Thank you for the rating."))
            return see_other(".show", request_id=request.id)
    return _thread_page(_own(request_id), status=form.status, rate_form=form)
