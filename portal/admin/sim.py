"""SIM reissue and port-out on the staff customer page, under the customer's SIM-swap and port-out lock.

Any staff member (support or admin) starts them and records identity checks: that is the front desk's work.
While the lock is on, a second staff member approves (domain.simlock). Finishing or cancelling a port-out ends
or keeps a contract: admins only, like ending a contract.
"""
from flask import abort, current_app, flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import to_user_timezone

from portal.admin import bp
from portal.admin.forms import IdentityCheckForm, PortOutForm, SimReissueForm
from portal.admin.views import show_customer
from portal.domain import simlock, staff
from portal.domain.errors import DomainError, NotFound
from portal.extensions import db
from portal.forms import PortalForm
from portal.models import utcnow
from portal.web import admin_required, current_actor, render, see_other, staff_required

DONE_MESSAGES = {
    simlock.SIM_REISSUE: _l("The SIM card is replaced; the old one stops once the network has applied it."),
    simlock.PORT_OUT: _l("The port-out is started."),
}
ACTION_KINDS = {simlock.SIM_REISSUE: _l("SIM reissue"), simlock.PORT_OUT: _l("Port-out")}
WAITING_MESSAGE = _l("The SIM-swap and port-out lock is on: the action waits until another staff member checks the "
                     "caller's identity document and approves it.")


def _wording() -> simlock.Wording:
    return simlock.Wording.from_config(current_app.config)


def _customer_of(account_id: int) -> int:
    customer_id = staff.customer_of_account(db.session, account_id)
    if customer_id is None:
        abort(404)
    return customer_id


def _back(customer_id: int, account_id: int):
    return see_other(".customer", customer_id=customer_id, _anchor=f"sim-{account_id}")


def _again(customer_id: int, account_id: int, form, name: str):
    """The customer page with the refused form (its errors next to its fields) under its account."""
    return show_customer(staff.customer_card(db.session, customer_id), status=form.status,
                         **{name: form, "sim_for": account_id})


def _started(action) -> None:
    if action is None:
        return  # a resubmission: the first one said it
    flash(WAITING_MESSAGE if action.state == simlock.AWAITING_CHECK else DONE_MESSAGES[action.kind])


@bp.get("/sim-actions")
@staff_required
def sim_actions():
    """The queue of SIM reissues and port-outs waiting for a second staff member's identity check."""
    return render("admin/sim_actions.html", waiting=simlock.awaiting_checks(db.session), kinds=ACTION_KINDS)


@bp.post("/accounts/<int:account_id>/sim-reissue")
@staff_required
def sim_reissue(account_id: int):
    customer_id = _customer_of(account_id)
    form = SimReissueForm()
    if form.validate_on_submit():
        try:
            _started(simlock.start_sim_reissue(db.session, account_id=account_id, iccid=form.iccid.data,
                                               idempotency_key=form.idempotency_key.data, actor=current_actor(),
                                               now=utcnow(), wording=_wording()))
            return _back(customer_id, account_id)
        except NotFound:
            abort(404)
        except DomainError as err:
            form.add_domain_error(err)
    return _again(customer_id, account_id, form, "sim_form")


@bp.post("/accounts/<int:account_id>/port-out")
@staff_required
def port_out(account_id: int):
    customer_id = _customer_of(account_id)
    form = PortOutForm()
    if form.validate_on_submit():
        try:
            _started(simlock.start_port_out(db.session, account_id=account_id, recipient=form.recipient.data,
                                            requested_on=form.requested_on.data,
                                            today=to_user_timezone(utcnow()).date(),
                                            idempotency_key=form.idempotency_key.data, actor=current_actor(),
                                            now=utcnow(), wording=_wording()))
            return _back(customer_id, account_id)
        except NotFound:
            abort(404)
        except DomainError as err:
            form.add_domain_error(err)
    return _again(customer_id, account_id, form, "port_out_form")


def _account_of_action(action_id: int) -> int:
    account_id = simlock.account_of_action(db.session, action_id)
    if account_id is None:
        abort(404)
    return account_id


@bp.post("/sim-actions/<int:action_id>/approve")
@staff_required
def approve_sim_action(action_id: int):
    """The second staff member records the identity check; the waiting action is carried out."""
    account_id = _account_of_action(action_id)
    customer_id = _customer_of(account_id)
    form = IdentityCheckForm()
    if form.validate_on_submit():
        try:
            action = simlock.approve(db.session, action_id=action_id, document_type=form.document_type.data,
                                     document_last4=form.document_last4.data, actor=current_actor(), now=utcnow(),
                                     wording=_wording())
            flash(DONE_MESSAGES[action.kind] if action.state == simlock.DONE else _("This action no longer waits."))
            return _back(customer_id, account_id)
        except NotFound:
            abort(404)
        except DomainError as err:
            form.add_domain_error(err)
    return show_customer(staff.customer_card(db.session, customer_id), status=form.status, check_form=form,
                         checking=action_id)


@bp.post("/sim-actions/<int:action_id>/cancel")
@staff_required
def cancel_sim_action(action_id: int):
    account_id = _account_of_action(action_id)
    customer_id = _customer_of(account_id)
    if not PortalForm().validate_on_submit():
        abort(400)
    if simlock.cancel_action(db.session, action_id=action_id, actor=current_actor(), now=utcnow()):
        flash(_("The waiting action is cancelled."))
    return _back(customer_id, account_id)


@bp.post("/port-outs/<int:port_out_id>/<any(done, cancel):outcome>")
@admin_required
def finish_port_out(port_out_id: int, outcome: str):
    """The recipient operator took the number (the contract ends), or the port-out will not happen."""
    if not PortalForm().validate_on_submit():
        abort(400)
    account_id = simlock.account_of_port_out(db.session, port_out_id)
    if account_id is None:
        abort(404)
    customer_id = _customer_of(account_id)
    try:
        if outcome == "done":
            if simlock.finish_port_out(db.session, port_out_id=port_out_id, actor=current_actor(), now=utcnow()):
                flash(_("The number is ported out and the contract is ended."))
        elif simlock.cancel_port_out(db.session, port_out_id=port_out_id, actor=current_actor(), now=utcnow(),
                                     wording=_wording()):
            flash(_("The port-out is cancelled; the owner is told by SMS."))
    except DomainError as err:
        flash(err.message)
    return _back(customer_id, account_id)
