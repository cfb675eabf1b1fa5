"""Support requests, staff side: the queue, a request's whole thread (internal notes marked), answers and notes,
assignment and state. Support and admin staff both work requests; each step is audited by the domain."""
from flask import abort, current_app, flash, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.admin import bp
from portal.domain.bounds import db_int
from portal.domain.errors import DomainError, NotFound
from portal.domain.support import STAFF_STATES, topics
from portal.domain.support import requests as support
from portal.extensions import db
from portal.forms import IdempotentForm, PortalForm
from portal.models import utcnow
from portal.support.forms import current_topics, strip, topic_names
from portal.support.views import live_thread_answer
from portal.web import current_actor, render, see_other, staff_required

VIEWS = {"open": _l("open"), "new": _l("new"), "mine": _l("mine"), "waiting": _l("waiting for the customer"),
         "overdue": _l("overdue"), "closed": _l("closed"), "all": _l("all")}


class QueueFilterForm(PortalForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    view = SelectField(_l("Show"), choices=list(VIEWS.items()), default="open")
    category = SelectField(_l("Topic"), choices=[], default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = topic_names()
        self.category.choices = [("", _l("all")), *((t.code, names[t.code]) for t in current_topics())]


class StaffReplyForm(IdempotentForm):
    text = TextAreaField(_l("Answer"), filters=[strip], validators=[DataRequired(_l("Type your message.")),
                                                   Length(max=support.MAX_TEXT)],
                         render_kw={"rows": 5, "maxlength": support.MAX_TEXT})
    internal = BooleanField(_l("Internal note (the customer does not see it, no SMS)"))
    # Only the Insert button reads it; Send ignores it (so it never blocks an answer).
    answer = SelectField(_l("Saved answer"), choices=[], validate_choice=False)


class StateForm(PortalForm):
    state = SelectField(_l("State"), choices=list(STAFF_STATES.items()))


def _hours() -> int:
    return current_app.config["SUPPORT_RESPONSE_HOURS"]


@bp.get("/support")
@staff_required
def support_queue():
    form = QueueFilterForm(request.args)
    valid = form.validate()
    now = utcnow()
    requests = support.queue(db.session, view=form.view.data if valid else "open",
                             category=(form.category.data or None) if valid else None, staff_id=current_user.id,
                             now=now, response_hours=_hours())
    return render("admin/support.html", status=form.status, form=form, requests=requests, now=now, hours=_hours(),
                  overdue=support.is_overdue, categories=topic_names(), states=STAFF_STATES,
                  counts=support.queue_counts(db.session))


def _request_or_404(request_id: int):
    try:
        return support.staff_request(db.session, request_id)
    except NotFound:
        abort(404)


def _page(req, *, status: int = 200, reply_form=None, state_form=None, partial=None):
    now = utcnow()
    reply_form = reply_form or StaffReplyForm(formdata=None)
    reply_form.answer.choices = [("", _l("Choose…")), *((str(id_), title) for id_, title
                                                         in topics.answer_choices(db.session, req.category))]
    return render("admin/support_request.html", partial, status=status, req=req, categories=topic_names(),
                  live_endpoint="admin.support_live_thread",
                  version=support.thread_version(db.session, req, with_notes=True),
                  states=STAFF_STATES, messages=support.thread(db.session, req.id, with_notes=True),
                  staff_view=True, is_overdue=support.is_overdue(req, now=now, response_hours=_hours()),
                  reply_form=reply_form, state_form=state_form or StateForm(formdata=None, state=req.state))


@bp.get("/support/<int:request_id>")
@staff_required
def support_request(request_id: int):
    return _page(_request_or_404(request_id))


@bp.get("/support/<int:request_id>/thread")
@staff_required
def support_live_thread(request_id: int):
    """The open request page asks every few seconds: the customer's reply shows without a reload."""
    return live_thread_answer(_request_or_404(request_id), with_notes=True, live_endpoint="admin.support_live_thread",
                              staff_view=True, page_endpoint="admin.support_request")


@bp.post("/support/<int:request_id>/reply")
@staff_required
def support_reply(request_id: int):
    """An answer (the customer gets an SMS) or an internal note."""
    req = _request_or_404(request_id)
    form = StaffReplyForm()
    if form.validate_on_submit():
        try:
            support.reply_as_staff(db.session, request_id=req.id, staff_id=current_user.id, text=form.text.data,
                                   internal=form.internal.data, idempotency_key=form.idempotency_key.data,
                                   actor=current_actor(), now=utcnow())
        except DomainError as err:
            db.session.rollback()
            form.add_domain_error(err)
        else:
            flash(_("The note is saved.") if form.internal.data else _("The answer is sent; the customer gets an SMS."))
            return see_other(".support_request", request_id=req.id)
    return _page(_request_or_404(request_id), status=form.status, reply_form=form)


@bp.post("/support/<int:request_id>/insert")
@staff_required
def support_insert_answer(request_id: int):
    """A saved answer's text, filled for this request, added to the answer box; nothing is sent. Without JS the
    page comes back with the box filled; htmx swaps only the box."""
    req = _request_or_404(request_id)
    form = StaffReplyForm()
    if not PortalForm().validate_on_submit():
        abort(400)
    status = 200
    try:
        text = topics.answer_for_request(db.session, answer_id=db_int(form.answer.data or 0), request_id=req.id)
    except (ValueError, NotFound):
        form.answer.errors = [_("Choose a saved answer.")]
        status = 422
    else:
        typed = (form.text.data or "").rstrip()
        form.text.data = f"{typed}\n\n{text}" if typed else text
        form.answer.data = ""
    return _page(req, status=status, reply_form=form, partial="admin/_reply_text.html")


@bp.post("/support/<int:request_id>/assign")
@staff_required
def support_assign(request_id: int):
    """Take the request, or give it back to the queue (``release``)."""
    req = _request_or_404(request_id)
    if not PortalForm().validate_on_submit():
        abort(400)
    support.assign(db.session, request_id=req.id, staff_id=None if request.form.get("release") else current_user.id,
                   actor=current_actor(), now=utcnow())
    return see_other(".support_request", request_id=req.id)


@bp.post("/support/<int:request_id>/state")
@staff_required
def support_state(request_id: int):
    req = _request_or_404(request_id)
    form = StateForm()
    if form.validate_on_submit():
        try:
            support.set_state(db.session, request_id=req.id, state=form.state.data, actor=current_actor(),
                              now=utcnow())
        except DomainError as err:
            db.session.rollback()
            form.add_domain_error(err)
        else:
            flash(_("The state is changed."))
            return see_other(".support_request", request_id=req.id)
    return _page(_request_or_404(request_id), status=form.status, state_form=form)
