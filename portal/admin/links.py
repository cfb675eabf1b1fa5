"""Requests to manage several numbers under one login: the review queue for staff."""
from flask import abort, flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import to_user_timezone
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from portal.admin import bp
from portal.domain import links
from portal.domain.errors import DomainError, NotFound
from portal.extensions import db
from portal.forms import PortalForm
from portal.models import utcnow
from portal.web import auth_policy, current_actor, render, see_other, staff_required


class RejectForm(PortalForm):
    reason = TextAreaField(_l("Reason (the customer sees it)"), validators=[
        InputRequired(_l("Say why, so the customer knows what to do.")), Length(max=500)],
        render_kw={"rows": 2, "maxlength": 500})


def _today():
    return to_user_timezone(utcnow()).date()


@bp.get("/links")
@staff_required
def link_queue():
    return render("admin/links.html", requests=links.review_queue(db.session), today=_today(),
                  overdue=links.is_overdue)


def _decision_page(request_id: int, *, reject_form=None, approve_errors=(), status=200):
    try:
        link = links.request_for_staff(db.session, request_id)
    except NotFound:
        abort(404)
    return render("admin/link.html", status=status, link=link, requester=links.requester(db.session, link),
                  reject_form=reject_form or RejectForm(formdata=None), approve_errors=approve_errors,
                  today=_today(), overdue=links.is_overdue, link_status=links.STATUS_LABELS.get)


@bp.get("/links/<int:request_id>")
@staff_required
def link_request(request_id: int):
    return _decision_page(request_id)


@bp.post("/links/<int:request_id>/approve")
@staff_required
def approve_link(request_id: int):
    form = PortalForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        links.approve(db.session, request_id=request_id, actor=current_actor(), now=utcnow(), policy=auth_policy())
    except NotFound:
        abort(404)
    except DomainError as err:
        return _decision_page(request_id, approve_errors=[err.message], status=422)
    flash(_("Approved: the numbers are added and get new passwords by SMS."))
    return see_other(".link_queue")


@bp.post("/links/<int:request_id>/reject")
@staff_required
def reject_link(request_id: int):
    form = RejectForm()
    if form.validate_on_submit():
        try:
            links.reject(db.session, request_id=request_id, reason=form.reason.data, actor=current_actor(),
                         now=utcnow(), policy=auth_policy())
            flash(_("Declined; the customer sees the reason."))
            return see_other(".link_queue")
        except NotFound:
            abort(404)
        except DomainError as err:
            form.add_domain_error(err)
    return _decision_page(request_id, reject_form=form, status=form.status)
