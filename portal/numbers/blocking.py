"""A line's page and the owner's block: lost or stolen, or voluntary; unblocking with the password."""
from flask import abort, current_app, flash, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, HiddenField, PasswordField
from wtforms.validators import AnyOf, InputRequired, Length

from portal.domain import blocking, home_pause, provisioning, simlock
from portal.domain.accounts import account_of_login
from portal.domain.errors import DomainError, NotFound
from portal.extensions import db, limiter
from portal.forms import IdempotentForm, PortalForm
from portal.models import utcnow
from portal.numbers import bp
from portal.web import auth_policy, current_actor, customer_required, focused_account_id, render, see_other

# What each status means for the owner, shown under it on the line's page.
STATUS_MEANINGS = {
    "active": _l("Calls, SMS and internet work."),
    "blocked_by_owner": _l("Blocked at your request: calls, SMS and internet are stopped. The balance is kept."),
    "blocked_lost": _l("Blocked as lost or stolen: calls, SMS and internet are stopped, nobody can use the SIM card. "
                       "The balance is kept."),
    "suspended": _l("Suspended for debt: calls, SMS and internet are stopped. Top up the balance to restore the "
                    "line; it cannot be unblocked here."),
    "terminated": _l("The contract for this number is terminated."),
}

# The same for a home contract: internet and TV, not calls and SMS.
HOME_STATUS_MEANINGS = {
    "active": _l("Internet and TV work."),
    "blocked_by_owner": _l("Paused at your request: internet and TV are off. The balance is kept."),
    "suspended": _l("Suspended for debt: internet and TV are off. Top up the balance and they come back."),
    "terminated": _l("This contract is terminated."),
}


class BlockForm(PortalForm):
    reason = HiddenField(validators=[AnyOf(list(blocking.REASONS), message=_l("Choose why the number is blocked."))])


class UnblockForm(PortalForm):
    password = PasswordField(_l("Your password"), validators=[InputRequired(_l("Enter your password.")),
                                                              Length(max=128)],
                             render_kw={"autocomplete": "current-password", "maxlength": 128})
    confirm = BooleanField(_l("Yes, unblock the number: calls, SMS and internet start working again"),
                           validators=[InputRequired(_l("Tick the box to confirm."))])


def own_account_or_404(account_id: int):
    try:
        return account_of_login(db.session, login_id=current_user.id, account_id=account_id)
    except NotFound:
        abort(404)


def notice_wording() -> blocking.NoticeText:
    cfg = current_app.config
    return blocking.NoticeText(sms_locale=cfg["BABEL_DEFAULT_LOCALE"], brand=cfg["BRAND"])


@bp.get("/<int:account_id>/")
@customer_required
def line(account_id: int):
    return line_page(own_account_or_404(account_id))


def line_page(account, *, status: int = 200, sim_lock_form=None):
    """The line's page; a refused switch of the SIM lock comes back on it with its error (``status``)."""
    meanings = HOME_STATUS_MEANINGS if account.home_contract else STATUS_MEANINGS
    return render("numbers/line.html", status=status, account=account, meaning=meanings.get(account.status, ""),
                  paused_until=home_pause.paused_until(db.session, [account.id]).get(account.id),
                  block_refusal=blocking.block_refusal(account), owner_blocks=blocking.OWNER_BLOCKS,
                  in_focus=account.id == focused_account_id(),
                  switch=provisioning.latest(db.session, account.id, [blocking.SWITCH_SUBJECT]).get(
                      blocking.SWITCH_SUBJECT),
                  sim_lock=simlock.lock_state(db.session, account.id, now=utcnow()) if account.line else None,
                  sim_lock_form=sim_lock_form or IdempotentForm(formdata=None))


@bp.route("/<int:account_id>/block", methods=["GET", "POST"])
@customer_required
def block(account_id: int):
    """What blocking does, and the confirmation; the block is immediate."""
    account = own_account_or_404(account_id)
    form = BlockForm(data={"reason": request.args.get("reason")} if request.method == "GET" else None)
    if form.reason.data not in blocking.REASONS:
        abort(404)
    if form.validate_on_submit():
        try:
            if blocking.block_number(db.session, account_id=account.id, reason=form.reason.data,
                                     actor=current_actor(), now=utcnow(), wording=notice_wording()):
                flash(_("The number is blocked."))
            return see_other(".line", account_id=account.id)
        except DomainError as err:
            form.add_domain_error(err)
    return render("numbers/block.html", status=form.status, form=form, account=account,
                  refusal=blocking.block_refusal(account), owner_blocks=blocking.OWNER_BLOCKS)


@bp.route("/<int:account_id>/unblock", methods=["GET", "POST"])
@customer_required
@limiter.limit("30 per 10 minutes", exempt_when=lambda: request.method != "POST")
def unblock(account_id: int):
    """The owner's block is lifted with the login's password, typed again."""
    account = own_account_or_404(account_id)
    form = UnblockForm()
    if form.validate_on_submit():
        try:
            if blocking.unblock_number(db.session, account_id=account.id, login_id=current_user.id,
                                       password=form.password.data, actor=current_actor(), now=utcnow(),
                                       policy=auth_policy(), wording=notice_wording()):
                flash(_("The number is unblocked."))
            return see_other(".line", account_id=account.id)
        except DomainError as err:
            form.add_domain_error(err)
    form.password.data = ""  # never sent back to the browser
    return render("numbers/unblock.html", status=form.status, form=form, account=account,
                  refusal=blocking.unblock_refusal(account), owner_blocks=blocking.OWNER_BLOCKS)
