"""Ending a contract: admins only, with a reason, audited (domain.contracts)."""
from flask import abort, flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, TextAreaField
from wtforms.validators import InputRequired, Length

from portal.admin import bp
from portal.domain import contracts, staff
from portal.domain.errors import DomainError, NotFound
from portal.extensions import db
from portal.forms import PortalForm
from portal.models import Account, utcnow
from portal.web import admin_required, current_actor, render, see_other


class TerminateForm(PortalForm):
    reason = TextAreaField(_l("Reason"), validators=[InputRequired(_l("Give the reason.")), Length(max=500)],
                           render_kw={"rows": 2, "maxlength": 500})
    confirm = BooleanField(_l("Yes, end this contract"), validators=[InputRequired(_l("Tick the box to confirm."))])


@bp.route("/accounts/<int:account_id>/terminate", methods=["GET", "POST"])
@admin_required
def terminate(account_id: int):
    account = db.session.get(Account, account_id)
    if account is None:
        abort(404)
    customer_id = staff.customer_of_account(db.session, account_id)
    form = TerminateForm()
    if form.validate_on_submit():
        try:
            contracts.terminate(db.session, account_id=account_id, reason=form.reason.data, actor=current_actor(),
                                now=utcnow())
            flash(_("The contract is ended."))
            return see_other(".customer", customer_id=customer_id, _anchor=f"account-{account_id}")
        except NotFound:
            abort(404)
        except DomainError as err:
            form.add_domain_error(err)
    return render("admin/terminate.html", status=form.status, form=form, account=account, customer_id=customer_id)
