"""The customer's ways in on the staff customer page: remove a passkey, unlink an outside account, revoke a feed
key, or shut them all and end every web session (domain.ways_in). Both roles: support handles stolen phones."""
from flask import abort, flash
from flask_babel import gettext as _

from portal.admin import bp
from portal.admin.forms import ShutWaysInForm, WaysInForm
from portal.admin.views import show_customer
from portal.auth.social import provider_names as social_provider_names
from portal.domain import staff, ways_in
from portal.domain.errors import DomainError, NotFound
from portal.extensions import db
from portal.models import utcnow
from portal.web import current_actor, see_other, staff_required


def _change(customer_id: int, target: str, form, change, done: str):
    """Carry out one staff change on a submitted form; the page again with the refusal next to the form."""
    try:
        card = staff.customer_card(db.session, customer_id)
    except NotFound:
        abort(404)
    if form.validate_on_submit():
        try:
            carried_out = change(form)
        except NotFound:
            abort(404)
        except DomainError as err:
            form.add_domain_error(err)
        else:
            flash(done if carried_out else _("This was done already."))
            return see_other(".customer", customer_id=customer_id, _anchor="ways-in")
    forms = {"shut_form": form} if isinstance(form, ShutWaysInForm) else {"ways_in_form": form}
    return show_customer(card, status=form.status, ways_in_failed=target, **forms)


def _keyed(function, **ids):
    return lambda form: function(db.session, **ids, idempotency_key=form.idempotency_key.data,
                                 actor=current_actor(), now=utcnow())


@bp.post("/customers/<int:customer_id>/passkeys/<int:passkey_id>/remove")
@staff_required
def ways_in_remove_passkey(customer_id: int, passkey_id: int):
    return _change(customer_id, f"passkey-{passkey_id}", WaysInForm(),
                   _keyed(ways_in.remove_passkey, customer_id=customer_id, passkey_id=passkey_id),
                   _("The passkey is removed; the customer is told by SMS."))


@bp.post("/customers/<int:customer_id>/linked-accounts/<int:link_id>/unlink")
@staff_required
def ways_in_unlink(customer_id: int, link_id: int):
    return _change(customer_id, f"social-{link_id}", WaysInForm(),
                   _keyed(ways_in.unlink_account, customer_id=customer_id, link_id=link_id,
                          provider_names=social_provider_names()),
                   _("The account is unlinked; the customer is told by SMS."))


@bp.post("/customers/<int:customer_id>/feed-keys/<int:token_id>/revoke")
@staff_required
def ways_in_revoke_feed_key(customer_id: int, token_id: int):
    return _change(customer_id, f"feed-{token_id}", WaysInForm(),
                   _keyed(ways_in.revoke_feed_key, customer_id=customer_id, token_id=token_id),
                   _("The balance feed key is revoked; the customer is told by SMS."))


@bp.post("/customers/<int:customer_id>/logins/<int:login_id>/shut")
@staff_required
def ways_in_shut(customer_id: int, login_id: int):
    return _change(customer_id, f"shut-{login_id}", ShutWaysInForm(),
                   _keyed(ways_in.shut_every_way_in, customer_id=customer_id, login_id=login_id),
                   _("Every way in is shut and every web session ended; the customer is told by SMS."))
