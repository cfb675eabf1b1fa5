"""SMS from the web: the number in focus sends a message, paid by its tariff."""
from flask import current_app, flash, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import InputRequired

from portal.domain import websms
from portal.domain.errors import DomainError
from portal.domain.overview import current_allowance
from portal.domain.phones import format_msisdn
from portal.extensions import db, limiter
from portal.forms import IdempotentForm, phone_field
from portal.models import utcnow
from portal.numbers import bp
from portal.web import account_in_focus, current_actor, customer_required, money, render, see_other

ENCODINGS = {"gsm7": _l("GSM-7, Latin letters"), "ucs2": _l("UCS-2, Unicode")}
DELIVERY_STATES = {"queued": _l("queued"), "sent": _l("sent"), "delivered": _l("delivered"),
                   "failed": _l("not delivered"), "expired": _l("not delivered")}


class WebSmsForm(IdempotentForm):
    to = phone_field(_l("Recipient"))
    text = TextAreaField(_l("Message"), validators=[InputRequired(_l("Write the message."))], id="sms-text",
                         render_kw={"rows": 5, "spellcheck": "true"})


def _sent_message(sms) -> str:
    if sms.cost:
        return _("Sent to %(number)s. Parts: %(parts)s, cost: %(cost)s.", number=format_msisdn(sms.to),
                 parts=sms.parts, cost=money(sms.cost))
    return _("Sent to %(number)s. Parts: %(parts)s, from your tariff’s package.", number=format_msisdn(sms.to),
             parts=sms.parts)


@bp.route("/sms", methods=["GET", "POST"])
@customer_required
@limiter.limit("60 per hour", exempt_when=lambda: request.method != "POST")
def sms():
    account = account_in_focus()
    rules = websms.WebSmsRules.from_config(current_app.config)
    form = WebSmsForm()
    if form.validate_on_submit():
        try:
            sent = websms.send_web_sms(db.session, account_id=account.id, to=form.to.msisdn, text=form.text.data,
                                       idempotency_key=form.idempotency_key.data, rules=rules,
                                       actor=current_actor(), now=utcnow())
            flash(_sent_message(sent))
            return see_other(".sms")
        except DomainError as err:
            form.add_domain_error(err)
    estimate = websms.estimate(form.text.data) if form.text.data else None
    allowance = current_allowance(db.session, account.id, utcnow())
    price = account.tariff.sms_price if account.tariff and account.tariff.sms_price is not None else rules.price
    return render("numbers/sms.html", status=form.status, form=form, account=account, rules=rules, price=price,
                  refusal=websms.status_refusal(account.status), estimate=estimate, encodings=ENCODINGS,
                  sms_left=allowance.sms_left if allowance else 0, states=DELIVERY_STATES,
                  recent=websms.recent_web_sms(db.session, account.id))
