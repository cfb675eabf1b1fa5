"""Pay without a password: the page a signed link in an SMS opens (portal.domain.paylink). Anyone holding the link
sees the masked number and the amount due and pays through the payment provider; nothing else is shown, and a
changed or old link gets a page that says so."""
from flask import abort, current_app, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.domain import paylink, payments
from portal.domain.audit import Actor
from portal.domain.errors import DomainError, NotFound
from portal.domain.money import parse_rubles
from portal.extensions import db, limiter
from portal.models import utcnow
from portal.pay import bp
from portal.payment_gateway import ProviderUnavailable
from portal.payments.forms import TopupForm
from portal.payments.views import card_payments_on, provider, topup_limits
from portal.qr import qr_svg
from portal.web import client_ip, render, see_other_url

PROBLEMS = {
    "damaged": (400, _l("This link is damaged"),
                _l("Part of the link is missing or changed. Open it again from the SMS, or top up in the personal "
                   "account.")),
    "expired": (410, _l("This link has expired"),
                _l("Pay links work for a few days. Top up in the personal account or at any payment point; a new "
                   "link comes with the next reminder.")),
}


def _problem(kind: str):
    status, title, text = PROBLEMS[kind]
    return render("pay/problem.html", status=status, title=title, text=text)


def _due(token: str):
    """The link's account and what is due, or the page saying what is wrong with the link."""
    try:
        account_id = paylink.account_of(token, secret=current_app.config["SECRET_KEY"],
                                        max_age_s=current_app.config["PAY_LINK_MAX_AGE_S"])
        return paylink.due_of(db.session, account_id), None
    except paylink.LinkExpired:
        return None, _problem("expired")
    except (paylink.LinkDamaged, NotFound):
        return None, _problem("damaged")


def _outcome(due, payment, token: str):
    """The bank's page for a card payment waiting there; our page otherwise (the outcome, or СБП's QR code and
    the bank app's button)."""
    if payment.status == "pending" and payment.confirmation_url and not payment.qr_payload:
        return see_other_url(payment.confirmation_url)
    return _done_page(due, payment, token)


def _done_page(due, payment, token: str):
    waiting_qr = payment.status == "pending" and payment.qr_payload
    return render("pay/done.html", due=due, payment=payment, token=token,
                  qr=qr_svg(payment.qr_payload, _("The payment's QR code")) if waiting_qr else None)


def _actor(due) -> Actor:
    return Actor(account_id=due.account_id, ip=client_ip())  # nobody signed in: the payer is anyone with the link


@bp.route("/<token>", methods=["GET", "POST"])
@limiter.limit("30 per hour", exempt_when=lambda: request.method != "POST")
def pay(token: str):
    due, problem = _due(token)
    if problem:
        return problem
    form = TopupForm()
    form.save_card.data = False  # a card is never remembered for whoever holds a link
    if not form.is_submitted() and due.due:
        form.amount.data = f"{due.due // 100}"
    unavailable = not card_payments_on()
    if not unavailable and form.validate_on_submit():
        try:
            payment = payments.start_topup(
                db.session, provider(), account_id=due.account_id, login_id=None,
                amount=parse_rubles(form.amount.data), save_method=False, idempotency_key=form.idempotency_key.data,
                limits=topup_limits(), return_url=lambda t: url_for("pay.done", token=token, payment=t,
                                                                     _external=True),
                actor=_actor(due), now=utcnow(), receipt_item=current_app.config["PAYMENT_RECEIPT_ITEM"],
                method=form.method.data)
            return _outcome(due, payment, token)
        except DomainError as err:
            form.add_domain_error(err)
    return render("pay/index.html", status=503 if unavailable and form.is_submitted() else form.status,
                  due=due, form=form, unavailable=unavailable, limits=topup_limits())


@bp.get("/<token>/<payment>")
def done(token: str, payment: str):
    """Where the provider sends the payer back: the outcome of one payment of the link's line (its token is
    random: no other payment can be named)."""
    due, problem = _due(token)
    if problem:
        return problem
    try:
        found = payments.payment_of_login(db.session, token=payment, account_ids=[due.account_id])
    except NotFound:
        abort(404)
    if found.status not in payments.DECIDED and found.gateway_ref and card_payments_on():
        try:
            found = payments.refresh(db.session, provider(), payment_id=found.id, actor=_actor(due), now=utcnow())
        except ProviderUnavailable:
            pass
    return _done_page(due, found, token)
