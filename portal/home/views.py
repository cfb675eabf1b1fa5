from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.domain import home_extras, home_tv, services
from portal.domain.errors import DomainError, NotFound
from portal.domain.phones import mask_msisdn
from portal.extensions import db, limiter
from portal.home import bp
from portal.home.forms import ConfirmForm, PinForm, PinResetForm
from portal.models import utcnow
from portal.web import account_in_focus, current_actor, customer_required, render, see_other


def home_account():
    """The home contract in focus; a mobile line gets a 404 page that says where these pages are."""
    account = account_in_focus()
    try:
        home_tv.require_home(account)
    except NotFound:
        abort(render("home/not_home.html", status=404))
    return account


def subscription_or_404(account, subscription_id: int, kind: str):
    try:
        subscription = services.account_subscription(db.session, account, subscription_id)
    except NotFound:
        abort(404)
    if subscription.service.kind != kind:
        abort(404)
    return subscription


def tv_page(account, *, status: int = 200):
    return render("home/tv.html", status=status, account=account,
                  packages=home_tv.tv_packages(db.session, account, now=utcnow()),
                  has_pin=home_tv.has_parental_pin(db.session, account.id))


@bp.get("/tv")
@customer_required
def tv():
    """TV packages with prices and channel lists, connect and disconnect, the parental PIN's state."""
    return tv_page(home_account())


def connect_page(account, service, form, *, action: str, back: str, back_label, status: int = 200):
    """The confirmation before a TV package or an extra is connected: its fees and what is charged now."""
    return render("home/connect.html", "tariffs/_connect.html", status=status, form=form,
                  offer=services.offer_for(db.session, account, service, now=utcnow()), action=action,
                  cancel=url_for(back), back_label=back_label)


@bp.route("/tv/<int:service_id>/connect", methods=["GET", "POST"])
@customer_required
def tv_connect(service_id: int):
    """A TV package's price and first charge, then the confirmation connects it."""
    account = home_account()
    try:
        service = services.offered_service(db.session, account, service_id)
    except NotFound:
        abort(404)
    if service.kind != "tv":
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.connect_service(db.session, account_id=account.id, service_id=service.id,
                                     idempotency_key=form.idempotency_key.data, actor=current_actor(), now=utcnow())
            flash(_("“%(name)s” is connected.", name=service.title))
            return see_other(".tv")
        except DomainError as err:
            form.add_domain_error(err)
    return connect_page(account, service, form, action=url_for(".tv_connect", service_id=service.id), back=".tv",
                        back_label=_("TV packages"), status=form.status)


def disconnect_page(subscription, form, *, back: str, status: int = 200):
    return render("home/disconnect.html", status=status, subscription=subscription, form=form, back=back,
                  kind=home_extras.extra_kind(subscription.service))


def disconnect(subscription_id: int, *, kind: str, back: str):
    """What disconnecting a TV package or an extra means (what it frees), and the confirmation."""
    account = home_account()
    subscription = subscription_or_404(account, subscription_id, kind)
    form = ConfirmForm()
    if not form.is_submitted():
        return disconnect_page(subscription, form, back=back)
    if form.validate_on_submit():
        try:
            services.disconnect_service(db.session, account_id=account.id, subscription_id=subscription.id,
                                        idempotency_key=form.idempotency_key.data, actor=current_actor(),
                                        now=utcnow())
            flash(_("“%(name)s” is disconnected.", name=subscription.service.title))
            return see_other(back)
        except NotFound:
            abort(404)
        except DomainError as err:
            form.add_domain_error(err)
    return disconnect_page(subscription, form, back=back, status=422)


@bp.route("/tv/subscriptions/<int:subscription_id>/disconnect", methods=["GET", "POST"])
@customer_required
def tv_disconnect(subscription_id: int):
    return disconnect(subscription_id, kind="tv", back=".tv")


def pin_page(account, form, reset_form, *, status: int = 200):
    phone = account.home_contract.contact_phone
    return render("home/pin.html", status=status, account=account, form=form, reset_form=reset_form,
                  has_pin=home_tv.has_parental_pin(db.session, account.id),
                  phone=mask_msisdn(phone) if phone else None)


def _per_login() -> str:
    return f"parental-pin:{current_user.id}"  # the login, not its session: a new sign-in must not reset it


@bp.route("/tv/pin", methods=["GET", "POST"])
@customer_required
# Guessing the old PIN (10 000 of them) from a signed-in browser, a child's say, takes years at this pace.
@limiter.limit(lambda: current_app.config["RATELIMIT_PARENTAL_PIN"], key_func=_per_login,
               exempt_when=lambda: request.method != "POST")
def pin():
    """Set the parental PIN, or change it with the old one."""
    account = home_account()
    form = PinForm()
    if form.validate_on_submit():
        try:
            home_tv.set_parental_pin(db.session, account_id=account.id, pin=form.pin.data, old_pin=form.old_pin.data,
                                     actor=current_actor(), now=utcnow(),
                                     failures_per_day=current_app.config["PARENTAL_PIN_FAILURES_PER_DAY"])
            flash(_("The parental PIN is saved."))
            return see_other(".tv")
        except DomainError as err:
            form.add_domain_error(err)
    return pin_page(account, form, PinResetForm(formdata=None), status=form.status)


@bp.post("/tv/pin/reset")
@customer_required
def pin_reset():
    """A new random PIN by SMS to the contract's contact phone."""
    account = home_account()
    form = PinResetForm()
    if form.validate_on_submit():
        try:
            home_tv.reset_parental_pin(db.session, account_id=account.id, actor=current_actor(), now=utcnow(),
                                       per_day=current_app.config["PARENTAL_PIN_RESETS_PER_DAY"],
                                       sms_locale=current_app.config["BABEL_DEFAULT_LOCALE"])
            flash(_("A new PIN is sent by SMS to %(phone)s.",
                    phone=mask_msisdn(account.home_contract.contact_phone)))
            return see_other(".tv")
        except DomainError as err:
            form.add_domain_error(err)
    return pin_page(account, PinForm(formdata=None), form, status=form.status)
