"""Development helpers, registered only in debug mode and tests: where the "SMS" arrives, and the development
payment provider's hosted page (the bank's side of a card payment) and "bank app" (the payer's side of СБП)."""
import secrets

from flask import Blueprint, abort, current_app, redirect, request
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from portal.domain.audit import SYSTEM
from portal.domain.errors import DomainError
from portal.extensions import db
from portal.models import SmsMessage, utcnow
from portal.payment_gateway import SBP
from portal.payment_gateway import dev as provider
from portal.web import render

bp = Blueprint("dev", __name__, url_prefix="/dev")


@bp.route("/ussd", methods=["GET", "POST"])
def ussd():
    """A phone dialling USSD codes, answered exactly as the USSD centre's requests are (portal.gateway)."""
    from portal.dev.forms import DevUssdForm
    from portal.domain.phones import InvalidPhone, parse_msisdn
    from portal.gateway.views import ussd_answer

    form = DevUssdForm()
    answer = None
    if form.validate_on_submit():
        try:
            answer = ussd_answer(msisdn=parse_msisdn(form.msisdn.data), code=form.code.data,
                                 session_id=secrets.token_urlsafe(12))
        except InvalidPhone as err:
            form.add_domain_error(err)
        else:
            if answer is None:
                form.msisdn.errors.append(_("Not a number of ours."))
    return render("dev/ussd.html", status=form.status, form=form, answer=answer)


@bp.get("/sms")
def sms():
    messages = db.session.scalars(select(SmsMessage).order_by(SmsMessage.id.desc()).limit(50)).all()
    return render("dev/sms.html", messages=messages)


def _payment_or_404(reference: str):
    payment = provider.payment_on_page(db.session, reference)
    if payment is None:
        abort(404)
    provider.expire(db.session, payment, now=utcnow())
    return payment


def _finish(payment):
    """Decided: notify the portal's webhook as a provider would (in-process, the same handler), then send the
    customer back to the shop's return URL."""
    from portal.payments.views import receive_notification

    reference, return_url = payment.reference, payment.return_url
    try:
        receive_notification(provider.webhook_body(payment), actor=SYSTEM)
    except HTTPException:
        pass  # a provider does not care what the shop answers; it would send the notification again later
    except Exception:  # the shop's failure (a lock wait cut short, a crash) is not the customer's: back they go
        db.session.rollback()
        current_app.logger.exception("The portal's webhook failed for %s; reconciliation will ask again", reference)
    return redirect(return_url or "/", 303)


@bp.route("/pay/<reference>", methods=["GET", "POST"])
def pay(reference: str):
    """The provider's card page: the test cards decide the outcome."""
    from portal.dev.forms import DevCardForm

    payment = _payment_or_404(reference)
    if payment.method == SBP:
        return redirect(provider.SBP_PAGE + payment.reference, 303)
    if payment.status == provider.WAITING_3DS:
        return redirect(f"{provider.PAGE}{payment.reference}/3ds", 303)
    if payment.status != provider.PENDING:
        return render("dev/pay_done.html", payment=payment)
    form = DevCardForm()
    if form.validate_on_submit():
        try:
            payment = provider.pay_with_card(db.session, payment, number=form.card_number.data,
                                             expiry=form.expiry.data, cvc=form.cvc.data, now=utcnow())
            if payment.status == provider.WAITING_3DS:
                return redirect(f"{provider.PAGE}{payment.reference}/3ds", 303)
            return _finish(payment)
        except DomainError as err:
            form.add_domain_error(err)
    form.cvc.data = ""  # never sent back to the browser
    return render("dev/pay.html", status=form.status, form=form, payment=payment, cards=TEST_CARDS)


@bp.route("/pay/<reference>/3ds", methods=["GET", "POST"])
def three_ds(reference: str):
    """The card's bank asks for its code (1234 for the test card)."""
    from portal.dev.forms import DevCodeForm

    payment = _payment_or_404(reference)
    if payment.status != provider.WAITING_3DS:
        return redirect(provider.PAGE + payment.reference, 303)
    form = DevCodeForm()
    if form.validate_on_submit():
        try:
            payment = provider.confirm_3ds(db.session, payment, code=form.code.data, now=utcnow())
            return _finish(payment)
        except DomainError as err:
            form.add_domain_error(err)
    form.code.data = ""
    return render("dev/three_ds.html", status=form.status, form=form, payment=payment)


@bp.post("/pay/<reference>/cancel")
def cancel(reference: str):
    """"Back to the shop" without paying."""
    from portal.forms import PortalForm

    payment = _payment_or_404(reference)
    if not PortalForm().validate_on_submit():
        abort(400)
    return _finish(provider.cancel(db.session, payment, now=utcnow()))


@bp.route("/sbp/<reference>", methods=["GET", "POST"])
def sbp(reference: str):
    """The payer's bank app, opened by the QR code or the portal's button (СБП): approve or decline."""
    from portal.forms import PortalForm

    payment = _payment_or_404(reference)
    if payment.method != SBP:
        return redirect(provider.PAGE + payment.reference, 303)
    if payment.status != provider.PENDING:
        return render("dev/pay_done.html", payment=payment)
    form = PortalForm()
    if form.is_submitted():
        if not form.validate_on_submit() or request.form.get("answer") not in ("approve", "decline"):
            abort(400)
        return _finish(provider.answer_in_bank_app(db.session, payment, approve=request.form["answer"] == "approve",
                                                   now=utcnow()))
    return render("dev/sbp.html", form=form, payment=payment)


TEST_CARDS = (("4242 4242 4242 4242", "paid"), ("4000 0000 0000 0002", "declined"),
              ("4000 0000 0000 3220", "3ds"), ("4000 0000 0000 0341", "saved_fails"))
