"""The holiday pause of a home contract: choose the days, see the fee and the end date, confirm; resume early."""
from datetime import timedelta

from flask import abort, flash
from flask_babel import gettext as _
from flask_babel import to_user_timezone

from portal import formatting
from portal.account import bp
from portal.account.forms import EndPauseForm, PauseForm
from portal.domain import home_pause
from portal.domain.errors import DomainError, NotFound
from portal.extensions import db
from portal.models import utcnow
from portal.web import account_in_focus, current_actor, customer_required, render, see_other


def _home_account():
    account = account_in_focus()
    if account.home_contract is None:
        abort(404)
    return account


def _today():
    return to_user_timezone(utcnow()).date()


@bp.route("/home/pause", methods=["GET", "POST"])
@customer_required
def pause():
    """Step one shows the end date and the fee of the days chosen; step two (confirm) pauses."""
    account = _home_account()
    form = PauseForm()
    offer = home_pause.pause_offer(db.session, account)
    preview = None
    if not form.is_submitted():
        form.start_on.data, form.days.data = _today(), 14
    if form.validate_on_submit():
        try:
            start_on, resume_on = home_pause.check_dates(form.start_on.data, form.days.data, today=_today())
            if form.confirm.data != "1" and offer.refusal:
                raise home_pause.PauseRefused(offer.refusal)
            if form.confirm.data == "1":  # the domain checks the rules again, after the double-click guard
                home_pause.request_pause(db.session, account_id=account.id, start_on=start_on,
                                         days=form.days.data, idempotency_key=form.idempotency_key.data,
                                         actor=current_actor(), today=_today(), now=utcnow())
                flash(_("The contract is paused from %(start)s; it works again on %(end)s.",
                        start=formatting.date_long(start_on), end=formatting.date_long(resume_on)))
                return see_other("account.dashboard")
            preview = (start_on, resume_on - timedelta(days=1), resume_on)
        except DomainError as err:
            form.add_domain_error(err)
    return render("account/pause.html", "account/_pause.html", status=form.status, form=form, account=account,
                  offer=offer, preview=preview, end_form=EndPauseForm())


@bp.post("/home/pause/<int:pause_id>/end")
@customer_required
def end_pause(pause_id: int):
    account = _home_account()
    if not EndPauseForm().validate_on_submit():
        abort(400)
    try:
        ended = home_pause.end_pause(db.session, account_id=account.id, pause_id=pause_id, actor=current_actor(),
                                     today=_today())
    except NotFound:
        abort(404)
    if ended:
        flash(_("The pause is over: internet and TV work again."))
    return see_other("account.dashboard")
