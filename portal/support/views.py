"""The customer's support requests: the list and a new request, a request's thread, reply, close, rate, and the
pictures on it."""
from flask import abort, current_app, flash, send_file
from flask import request as http_request
from flask_babel import gettext as _
from flask_login import current_user

from portal.domain import notices
from portal.domain.errors import DomainError, NotFound
from portal.domain.support import STATES, attachments
from portal.domain.support import requests as support
from portal.extensions import db
from portal.forms import PortalForm
from portal.models import utcnow
from portal.support import bp
from portal.support.forms import NewRequestForm, RateForm, ReplyForm, topic_names
from portal.web import (
    account_in_focus,
    body_limit,
    current_actor,
    customer_required,
    is_htmx_partial,
    render,
    see_other,
)


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
@body_limit("SUPPORT_UPLOAD_MAX_BODY")
@customer_required
def open_request():
    """A new request about the number or contract in focus."""
    form = NewRequestForm()
    if form.validate_on_submit():
        try:
            outcome = support.open_request(
                db.session, login_id=current_user.id, account_id=account_in_focus().id,
                category=form.category.data, text=form.text.data, idempotency_key=form.idempotency_key.data,
                actor=current_actor(), now=utcnow(), per_day=current_app.config["SUPPORT_REQUESTS_PER_DAY"],
                picture=form.picture, files_dir=current_app.config["SUPPORT_ATTACHMENTS_DIR"])
        except DomainError as err:
            form.add_domain_error(err)
        else:
            if not outcome.done:  # the same form twice: its request is the newest one
                return see_other(".index")
            flash(_("Request #%(number)s is sent. We will answer here and by SMS.", number=outcome.request_id))
            return see_other(".show", request_id=outcome.request_id)
    return _list_page(form)


def live_thread_answer(req, *, with_notes: bool, live_endpoint: str, staff_view: bool, page_endpoint: str):
    """204 while the thread is as the page shows it; the thread when messages came; a reload of the whole page
    when the state changed (its forms change with it). Opened as a page (no htmx), it is the request's page."""
    if not is_htmx_partial():
        return see_other(page_endpoint, request_id=req.id)
    version = support.thread_version(db.session, req, with_notes=with_notes)
    seen = http_request.args.get("seen", "")
    if seen == version:
        return "", 204
    if seen.partition(".")[0] != req.state:
        return "", 204, {"HX-Refresh": "true"}
    return render("support/_live_thread.html", req=req, version=version, live_endpoint=live_endpoint,
                  staff_view=staff_view, messages=support.thread(db.session, req.id, with_notes=with_notes))


def _own(request_id: int):
    try:
        return support.request_of_login(db.session, request_id, current_user.id)
    except NotFound:
        abort(404)


def _thread_page(request, *, status: int = 200, reply_form=None, rate_form=None):
    return render("support/request.html", status=status, req=request, live_endpoint="support.live_thread",
                  version=support.thread_version(db.session, request, with_notes=False), categories=topic_names(),
                  states=STATES,
                  messages=support.thread(db.session, request.id, with_notes=False),
                  reply_form=reply_form or ReplyForm(formdata=None), rate_form=rate_form or RateForm(formdata=None))


@bp.get("/<int:request_id>")
@customer_required
def show(request_id: int):
    return _thread_page(_own(request_id))


@bp.get("/<int:request_id>/thread")
@customer_required
def live_thread(request_id: int):
    """What the open thread asks every few seconds (htmx): see ``live_thread_answer``."""
    request = _own(request_id)
    return live_thread_answer(request, with_notes=False, live_endpoint="support.live_thread", staff_view=False,
                              page_endpoint="support.show")


@bp.post("/<int:request_id>/reply")
@body_limit("SUPPORT_UPLOAD_MAX_BODY")
@customer_required
def reply(request_id: int):
    request = _own(request_id)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            support.reply_as_customer(db.session, request_id=request.id, login_id=current_user.id,
                                      text=form.text.data, idempotency_key=form.idempotency_key.data,
                                      actor=current_actor(), now=utcnow(), picture=form.picture,
                                      files_dir=current_app.config["SUPPORT_ATTACHMENTS_DIR"])
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


def send_picture(attachment, *, thumb: bool):
    """The picture (or its preview) to someone allowed to see it: never cached by a shared cache, never
    sniffed as anything but its stored type, shown rather than downloaded."""
    path = attachments.path_of(current_app.config["SUPPORT_ATTACHMENTS_DIR"], attachment, thumb=thumb)
    if not path.is_file():  # the row committed but its file was lost (a disk restored without it)
        abort(404)
    response = send_file(path, mimetype="image/jpeg" if thumb else attachment.content_type, conditional=True,
                         etag=True, max_age=3600)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.get("/pictures/<int:attachment_id>")
@bp.get("/pictures/<int:attachment_id>/preview", endpoint="picture_preview", defaults={"thumb": True})
@customer_required
def picture(attachment_id: int, thumb: bool = False):
    """A picture on the customer's own request; anyone else's is not found."""
    try:
        attachment = support.attachment_of_login(db.session, attachment_id, current_user.id)
    except NotFound:
        abort(404)
    return send_picture(attachment, thumb=thumb)
