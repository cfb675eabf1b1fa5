"""Home extras: a mailbox at the operator's domain, antivirus licences, a static IP address."""
from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _

from portal.domain import home_extras, services
from portal.domain.errors import DomainError, NotFound
from portal.extensions import db
from portal.home import bp
from portal.home.forms import ConfirmForm, MailboxForm
from portal.home.views import connect_page, disconnect, home_account
from portal.models import utcnow
from portal.web import current_actor, customer_required, render, see_other


def extras_page(account, *, mailbox_form=None, status: int = 200):
    offers = [o for group in services.service_catalog(db.session, account, now=utcnow()).values() for o in group
              if home_extras.extra_kind(o.service)]
    return render("home/extras.html", status=status, account=account, offers=offers,
                  kinds={o.service.id: home_extras.extra_kind(o.service) for o in offers},
                  records=home_extras.extras_records(db.session, account.id),
                  mailbox_form=mailbox_form or MailboxForm(formdata=None),
                  domain=current_app.config["MAILBOX_DOMAIN"])


@bp.get("/extras")
@customer_required
def extras():
    """The extras with their fees; what each connected one holds (address, masked licence, IP)."""
    return extras_page(home_account())


@bp.route("/extras/<int:service_id>/connect", methods=["GET", "POST"])
@customer_required
def extra_connect(service_id: int):
    """An extra's price and first charge, then the confirmation connects it (the mailbox's form is on the list)."""
    account = home_account()
    try:
        service = services.offered_service(db.session, account, service_id)
    except NotFound:
        abort(404)
    kind = home_extras.extra_kind(service)
    if kind is None:
        abort(404)
    if kind == "mailbox" and request.method == "GET":
        return see_other(".extras")  # its name and password are asked beside its fees there
    form = MailboxForm() if kind == "mailbox" else ConfirmForm()
    if form.validate_on_submit():
        key = form.idempotency_key.data
        setup = home_extras.ExtraSetup(
            mailbox_name=form.mailbox_name.data if kind == "mailbox" else None,
            mailbox_password=form.mailbox_password.data if kind == "mailbox" else None,
            licence_key=home_extras.licence_key(current_app.secret_key, key) if kind == "antivirus" else None,
            ip_pool=current_app.config["STATIC_IP_POOL"])
        try:
            services.connect_service(db.session, account_id=account.id, service_id=service.id, idempotency_key=key,
                                     actor=current_actor(), now=utcnow(), setup=setup)
            flash(_("“%(name)s” is connected.", name=service.title))
            if kind == "antivirus":
                flash(_("Your licence key: %(key)s. Write it down now: it is shown only once.", key=setup.licence_key))
            return see_other(".extras")
        except DomainError as err:
            form.add_domain_error(err)
    if kind == "mailbox":
        return extras_page(account, mailbox_form=form, status=form.status)
    return connect_page(account, service, form, action=url_for(".extra_connect", service_id=service.id),
                        back=".extras", back_label=_("Home extras"), status=form.status)


@bp.route("/extras/subscriptions/<int:subscription_id>/disconnect", methods=["GET", "POST"])
@customer_required
def extra_disconnect(subscription_id: int):
    return disconnect(subscription_id, kind="home", back=".extras")
