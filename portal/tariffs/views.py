from flask import abort, flash, request
from flask_babel import gettext as _
from flask_babel import to_user_timezone

from portal import formatting
from portal.domain import content, home_extras, services, tariffs
from portal.domain.errors import DomainError, NotFound
from portal.domain.overview import account_overview
from portal.extensions import db
from portal.forms import PortalForm
from portal.models import utcnow
from portal.tariffs import bp
from portal.tariffs.forms import CancelChangeForm, CompareForm, ServiceForm, SwitchTariffForm
from portal.web import account_in_focus, card_in_focus, current_actor, customer_required, render, see_other


def offered_or_404(account, tariff_id: int):
    try:
        return tariffs.offered_tariff(db.session, account, tariff_id)
    except NotFound:
        abort(404)


@bp.get("/tariffs/")
@customer_required
def catalog():
    account = account_in_focus()
    listed = tariffs.tariff_list(db.session, account)
    return render("tariffs/catalog.html", account=account, tariffs=listed, compare_form=_compare_form(listed))


def _compare_form(listed, formdata=None) -> CompareForm:
    form = CompareForm(formdata=formdata)
    form.a.choices = form.b.choices = [(t.id, t.title) for t in listed]
    if formdata is None and len(listed) > 1:
        form.a.data, form.b.data = listed[0].id, listed[1].id
    return form


@bp.get("/tariffs/compare")
@customer_required
def compare():
    """Any two tariffs of the list side by side."""
    account = account_in_focus()
    listed = tariffs.tariff_list(db.session, account)
    # Without a choice yet: the current tariff beside the next one of the list.
    form = _compare_form(listed, request.args if request.args else None)
    pair = None
    if len(listed) > 1 and form.validate():
        pair = tariffs.comparable_pair(db.session, account, form.a.data, form.b.data)
    return render("tariffs/compare.html", status=form.status, account=account, form=form, pair=pair)


@bp.route("/tariffs/<int:tariff_id>", methods=["GET", "POST"])
@customer_required
def switch(tariff_id: int):
    """The comparison with the current tariff and the confirmation of the switch, on one page."""
    account = account_in_focus()
    tariff = offered_or_404(account, tariff_id)
    form = SwitchTariffForm()
    today = to_user_timezone(utcnow()).date()
    if form.validate_on_submit():
        try:
            scheduled = tariffs.change_tariff(db.session, account_id=account.id, tariff_id=tariff.id,
                                              idempotency_key=form.idempotency_key.data, actor=current_actor(),
                                              now=utcnow(), today=today)
            if scheduled:
                flash(_("Your tariff changes to %(name)s on %(date)s.", name=tariff.title,
                        date=formatting.date_long(scheduled.effective_on)))
            else:
                flash(_("Your tariff is now %(name)s.", name=tariff.title))
            return see_other("account.dashboard")
        except DomainError as err:
            form.add_domain_error(err)
    quote = tariffs.quote_switch(db.session, account, tariff, now=utcnow(), today=today)
    return render("tariffs/switch.html", "tariffs/_confirm.html", status=form.status, form=form,
                  account=account, tariff=tariff, quote=quote)


@bp.post("/tariffs/scheduled/<int:change_id>/cancel")
@customer_required
def cancel_scheduled(change_id: int):
    """Cancel a home tariff change waiting for the next billing period."""
    account = account_in_focus()
    if not CancelChangeForm().validate_on_submit():
        abort(400)
    try:
        if tariffs.cancel_scheduled_change(db.session, account_id=account.id, change_id=change_id,
                                           actor=current_actor()):
            flash(_("The scheduled tariff change is cancelled."))
    except NotFound:
        abort(404)
    return see_other("account.dashboard")


@bp.get("/services/")
@customer_required
def services_catalog():
    account = account_in_focus()
    return render("tariffs/services.html", account=account, labels=services.CATEGORY_LABELS,
                  catalog=services.service_catalog(db.session, account, now=utcnow()))


@bp.route("/services/<int:service_id>", methods=["GET", "POST"])
@customer_required
def connect(service_id: int):
    """What connecting costs, and the confirmation."""
    account = account_in_focus()
    try:
        service = services.offered_service(db.session, account, service_id)
    except NotFound:
        abort(404)
    if home_extras.extra_kind(service):
        return see_other("home.extras")  # a mailbox, a licence or an address is set up there
    form = ServiceForm()
    if form.validate_on_submit():
        try:
            services.connect_service(db.session, account_id=account.id, service_id=service.id,
                                     idempotency_key=form.idempotency_key.data, actor=current_actor(), now=utcnow())
            flash(_("“%(name)s” is connected.", name=service.title))
            return see_other(".services_catalog")
        except DomainError as err:
            form.add_domain_error(err)
    offer = services.offer_for(db.session, account, service, now=utcnow())
    return render("tariffs/connect.html", "tariffs/_connect.html", status=form.status, form=form, offer=offer)


@bp.route("/services/subscriptions/<int:subscription_id>/disconnect", methods=["GET", "POST"])
@customer_required
def disconnect(subscription_id: int):
    account = account_in_focus()
    form = ServiceForm()
    if form.validate_on_submit():
        try:
            services.disconnect_service(db.session, account_id=account.id, subscription_id=subscription_id,
                                        idempotency_key=form.idempotency_key.data, actor=current_actor(),
                                        now=utcnow())
            flash(_("The service is disconnected."))
            return see_other(".subscriptions" if request.form.get("back") == "subscriptions" else ".services_catalog")
        except NotFound:
            abort(404)
    try:
        subscription = services.account_subscription(db.session, account, subscription_id)
    except NotFound:
        abort(404)
    return render("tariffs/disconnect.html", "tariffs/_disconnect.html", status=form.status, form=form,
                  subscription=subscription)


@bp.get("/services/subscriptions")
@customer_required
def subscriptions():
    """My paid content subscriptions, with cancel; the ban on providers' subscriptions and what it refused."""
    card = card_in_focus()
    return render("tariffs/subscriptions.html", ban_form=PortalForm(), mobile=bool(card.msisdn),
                  overview=account_overview(db.session, card, tariff_fee=card.tariff_fee or 0, now=utcnow()),
                  ban_since=content.is_banned(db.session, card.id) if card.msisdn else None,
                  refusals=content.refusals(db.session, card.id) if card.msisdn else [])


@bp.post("/services/subscriptions/content-ban")
@customer_required
def content_ban():
    """Switch the ban on paid subscriptions from content providers (a mobile line's; free)."""
    form = PortalForm()
    card = card_in_focus()
    if not form.validate_on_submit() or request.form.get("on") not in ("1", "0"):
        abort(400)
    if not card.msisdn:
        abort(404)
    on = request.form["on"] == "1"
    content.set_ban(db.session, account_id=card.id, on=on, actor=current_actor(), now=utcnow())
    flash(_("Content providers can no longer subscribe this number to anything paid.") if on else
          _("The ban is off: content providers may offer paid subscriptions again."))
    return see_other(".subscriptions", _anchor="content-ban")
