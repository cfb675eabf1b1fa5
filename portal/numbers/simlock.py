"""The SIM-swap and port-out lock on the line's page: on at once; off a day later, told to every number."""
from datetime import timedelta

from flask import abort, current_app, flash
from flask_babel import gettext as _
from flask_login import current_user

from portal import formatting
from portal.domain import simlock
from portal.domain.errors import DomainError, NotFound
from portal.extensions import db
from portal.forms import IdempotentForm, PortalForm
from portal.models import utcnow
from portal.numbers import bp
from portal.numbers.blocking import line_page, own_account_or_404
from portal.web import current_actor, customer_required, see_other


def _line_or_404(account_id: int):
    account = own_account_or_404(account_id)
    if account.line is None:
        abort(404)
    return account


def _back(account_id: int):
    return see_other(".line", account_id=account_id, _anchor="sim-lock")


@bp.post("/<int:account_id>/sim-lock/on")
@customer_required
def sim_lock_on(account_id: int):
    account = _line_or_404(account_id)
    form = IdempotentForm()
    if form.validate_on_submit():
        try:
            if simlock.turn_on(db.session, account_id=account.id, idempotency_key=form.idempotency_key.data,
                               actor=current_actor(), now=utcnow()):
                flash(_("The SIM-swap and port-out lock is on."))
            return _back(account.id)
        except NotFound:
            abort(404)
        except DomainError as err:
            form.add_domain_error(err)
    return line_page(account, status=form.status, sim_lock_form=form)


@bp.post("/<int:account_id>/sim-lock/off")
@customer_required
def sim_lock_off(account_id: int):
    account = _line_or_404(account_id)
    form = IdempotentForm()
    if form.validate_on_submit():
        try:
            release_at = simlock.request_release(
                db.session, account_id=account.id, login_id=current_user.id, idempotency_key=form.idempotency_key.data,
                delay=timedelta(seconds=current_app.config["SIM_LOCK_RELEASE_DELAY_S"]), actor=current_actor(),
                now=utcnow(), wording=simlock.Wording.from_config(current_app.config))
            if release_at:
                flash(_("The lock switches off at %(time)s. Until then you can cancel this.",
                        time=formatting.datetime_short(release_at)))
            return _back(account.id)
        except NotFound:
            abort(404)
        except DomainError as err:
            form.add_domain_error(err)
    return line_page(account, status=form.status, sim_lock_form=form)


@bp.post("/<int:account_id>/sim-lock/keep")
@customer_required
def sim_lock_keep(account_id: int):
    """Cancel a waiting release: the lock stays on."""
    account = _line_or_404(account_id)
    if not PortalForm().validate_on_submit():
        abort(400)
    if simlock.cancel_release(db.session, account_id=account.id, actor=current_actor(), now=utcnow()):
        flash(_("The lock stays on."))
    return _back(account.id)
