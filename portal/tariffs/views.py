from flask import abort, flash
from flask_babel import gettext as _

from portal.domain import tariffs
from portal.domain.errors import DomainError, NotFound
from portal.extensions import db
from portal.models import utcnow
from portal.tariffs import bp
from portal.tariffs.forms import SwitchTariffForm
from portal.web import account_in_focus, current_actor, customer_required, render, see_other


def offered_or_404(account, tariff_id: int):
    try:
        return tariffs.offered_tariff(db.session, account, tariff_id)
    except NotFound:
        abort(404)


@bp.get("/")
@customer_required
def catalog():
    account = account_in_focus()
    return render("tariffs/catalog.html", account=account, tariffs=tariffs.available_tariffs(db.session, account))


@bp.route("/<int:tariff_id>", methods=["GET", "POST"])
@customer_required
def switch(tariff_id: int):
    """The comparison with the current tariff and the confirmation of the switch, on one page."""
    account = account_in_focus()
    tariff = offered_or_404(account, tariff_id)
    form = SwitchTariffForm()
    if form.validate_on_submit():
        try:
            tariffs.change_tariff(db.session, account_id=account.id, tariff_id=tariff.id,
                                  idempotency_key=form.idempotency_key.data, actor=current_actor(), now=utcnow())
            flash(_("Your tariff is now %(name)s.", name=tariff.name))
            return see_other("account.dashboard")
        except DomainError as err:
            form.add_domain_error(err)
    quote = tariffs.quote_switch(db.session, account, tariff, now=utcnow())
    return render("tariffs/switch.html", "tariffs/_confirm.html", status=form.status, form=form,
                  account=account, tariff=tariff, quote=quote)
