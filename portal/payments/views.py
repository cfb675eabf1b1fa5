import secrets
from datetime import timedelta

from flask import Response, abort, current_app, flash, g, make_response, request, stream_with_context, url_for
from flask_babel import get_locale, get_timezone
from flask_babel import gettext as _
from flask_login import current_user

from portal.domain import autopay, bonus, history, payments, promised, transfers, vouchers
from portal.domain.bounds import db_int
from portal.domain.errors import DomainError, NotFound
from portal.domain.money import BadAmount, parse_rubles
from portal.domain.receipts import codes, receipt
from portal.domain.receipts.pdf import build_pdf as receipt_pdf
from portal.extensions import csrf, db, limiter
from portal.forms import PortalForm, period_filter
from portal.models import utcnow
from portal.payment_gateway import SBP, ProviderUnavailable, provider_from_config, sender_allowed
from portal.payments import bp
from portal.payments.forms import (
    AutoPaymentForm,
    CodeForm,
    FindOperationForm,
    PointsTransferForm,
    PromisedForm,
    RewardForm,
    SavedCardTopupForm,
    TopupForm,
    TransferForm,
    VoucherForm,
)
from portal.qr import qr_svg
from portal.web import (
    account_in_focus,
    body_limit,
    card_in_focus,
    client_ip,
    current_actor,
    customer_required,
    is_htmx_partial,
    managed_accounts,
    money,
    render,
    see_other,
    see_other_url,
)


def provider():
    """The configured payment provider; ProviderNotConfigured when card payments are off."""
    if "payment_provider" not in g:
        g.payment_provider = provider_from_config(current_app.config, db.session)
    return g.payment_provider


def card_payments_on() -> bool:
    return bool(current_app.config["PAYMENT_PROVIDER"])


def own_payment_or_404(token: str):
    try:
        return payments.payment_of_login(db.session, token=token, account_ids=[card_in_focus().id])
    except NotFound:
        abort(404)


@bp.get("/")
@customer_required
def index():
    """Every way to pay and what was paid, in one list."""
    return render("payments/index.html", account=account_in_focus(), find_form=FindOperationForm(formdata=None))


def topup_limits() -> payments.TopupLimits:
    return payments.TopupLimits(current_app.config["TOPUP_MIN"], current_app.config["TOPUP_MAX"])


def _saved_card_form(cards, *, blank: bool = False) -> SavedCardTopupForm:
    """The saved-card form, from the request or ``blank`` (beside the other form when that one is posted)."""
    # Its own prefix: the page carries the new-card form too, and ids must not repeat.
    form = SavedCardTopupForm(formdata=None, prefix="saved") if blank else SavedCardTopupForm(prefix="saved")
    form.card.choices = [(c.id, f"•••• {c.last4}") for c in cards]
    if form.card.data is None and cards:
        form.card.data = cards[0].id
    return form


def _return_url(token: str) -> str:
    return url_for("payments.status", token=token, _external=True)


def _to_provider_page(payment):
    """The provider's page while the payment waits for the customer there (СБП with a QR code: our own waiting
    page), else the payment's own page."""
    if payment.status == "pending" and payment.qr_payload:
        return see_other(".sbp", token=payment.token)
    if payment.status == "pending" and payment.confirmation_url:
        return see_other_url(payment.confirmation_url)
    return see_other(".status", token=payment.token)


@bp.route("/topup", methods=["GET", "POST"])
@customer_required
@limiter.limit("20 per hour", exempt_when=lambda: request.method != "POST")
def topup():
    """The amount and the method here; the card on the provider's page, where the customer is sent next (СБП: our
    page with the QR code and the bank app's button)."""
    account = account_in_focus()
    limits = topup_limits()
    cards = autopay.saved_cards(db.session, current_user.id)
    form = TopupForm()
    if not form.is_submitted():  # "Try again" after an expired СБП payment: the same amount and method
        form.method.data = SBP if request.args.get("method") == SBP else form.method.data
        form.amount.data = request.args.get("amount", "")[:20] or None
    if not card_payments_on():
        return render("payments/topup.html", status=503 if form.is_submitted() else 200, form=form,
                      account=account, limits=limits, cards=[], saved_form=None, unavailable=True)
    if form.validate_on_submit():
        try:
            payment = payments.start_topup(
                db.session, provider(), account_id=account.id, login_id=current_user.id,
                amount=parse_rubles(form.amount.data), save_method=form.save_card.data,
                idempotency_key=form.idempotency_key.data, limits=limits, return_url=_return_url,
                actor=current_actor(), now=utcnow(), receipt_item=current_app.config["PAYMENT_RECEIPT_ITEM"],
                method=form.method.data)
            return _to_provider_page(payment)
        except DomainError as err:
            form.add_domain_error(err)
    return render("payments/topup.html", "payments/_topup_form.html", status=form.status, form=form,
                  account=account, limits=limits, cards=cards, saved_form=_saved_card_form(cards, blank=True))


@bp.post("/topup/saved")
@customer_required
@limiter.limit("20 per hour")
def topup_saved():
    """One tap: a saved card pays through the provider's token, no card details anywhere."""
    account = account_in_focus()
    limits = topup_limits()
    if not card_payments_on():
        abort(503)
    cards = autopay.saved_cards(db.session, current_user.id)
    saved_form = _saved_card_form(cards)
    if saved_form.validate_on_submit():
        try:
            payment = payments.top_up_with_saved_card(
                db.session, provider(), account_id=account.id, login_id=current_user.id,
                card_token_id=saved_form.card.data, amount=parse_rubles(saved_form.amount.data),
                idempotency_key=saved_form.idempotency_key.data, limits=limits, actor=current_actor(), now=utcnow())
            return see_other(".status", token=payment.token)
        except DomainError as err:
            saved_form.add_domain_error(err)
    new_card = TopupForm(formdata=None)
    new_card.idempotency_key.data = secrets.token_urlsafe(24)
    return render("payments/topup.html", "payments/_saved_card_form.html", status=saved_form.status, form=new_card,
                  account=account, limits=limits, cards=cards, saved_form=saved_form)


@bp.get("/<token>")
@customer_required
def status(token: str):
    """The payment's outcome; also the provider's return URL. Still undecided: the provider is asked now."""
    payment = own_payment_or_404(token)
    if payment.status not in payments.DECIDED and payment.gateway_ref and card_payments_on():
        try:
            payment = payments.refresh(db.session, provider(), payment_id=payment.id, actor=current_actor(),
                                       now=utcnow())
        except ProviderUnavailable:
            pass  # the page says it is being processed; the webhook or reconciliation decides it
    if payment.status == "pending" and payment.qr_payload:  # СБП: back from the bank app before it is decided
        return see_other(".sbp", token=payment.token)
    return render("payments/status.html", payment=payment, account=account_in_focus(),
                  repaid=payments.repaid_by(db.session, payment), code=_receipt_code(payment))


def _receipt_code(payment) -> str | None:
    """The operation code of a confirmed payment (its receipt's number)."""
    return receipt.code_of(db.session, f"card:{payment.id}") if payment.status == "confirmed" else None


@bp.get("/<token>/sbp")
@customer_required
def sbp(token: str):
    """СБП: the bank app's button (first on a phone) and the QR code (first on a wide screen) while the payment
    waits, then its outcome. htmx polls the small waiting line every 3 s (without JS the page refreshes itself);
    the provider is asked at most every PAYMENT_ASK_EVERY seconds, in between the webhook's word is shown."""
    payment = own_payment_or_404(token)
    now = utcnow()
    if payment.status not in payments.DECIDED and payment.gateway_ref and card_payments_on():
        try:
            payment = payments.refresh_if_due(
                db.session, provider(), payment_id=payment.id, actor=current_actor(), now=now,
                every=timedelta(seconds=current_app.config["PAYMENT_ASK_EVERY"]))
        except ProviderUnavailable:
            pass  # the page keeps waiting; the webhook or reconciliation decides it
    expired = payments.ran_out(payment, now)
    waiting = payment.status == "pending" and payment.qr_payload and not expired
    if payment.method != SBP or (payment.status not in payments.DECIDED and not waiting and not expired):
        return see_other(".status", token=payment.token)  # a card, or the provider's page instead of a QR code
    if is_htmx_partial() and waiting:  # the poll: nothing changed, nothing to send
        response = make_response("", 204)
        response.vary.add("HX-Request")
        return response
    response = render("payments/sbp.html", "payments/_sbp.html", payment=payment, account=account_in_focus(),
                      waiting=waiting, expired=expired, repaid=payments.repaid_by(db.session, payment), qr_svg=qr_svg,
                      code=_receipt_code(payment))
    if is_htmx_partial():  # the poll's answer when it ended: the outcome replaces the whole block
        response.headers["HX-Retarget"], response.headers["HX-Reswap"] = "#sbp-payment", "outerHTML"
    return response


@bp.post("/webhook")
@csrf.exempt  # the provider calls it; nothing in the body is believed (the payment is re-read from the provider)
@body_limit("PAYMENT_CALLBACK_MAX_BYTES")
@limiter.limit("600 per minute")
def webhook():
    """The provider's notification that a payment changed: the provider is asked what became of it."""
    if not card_payments_on():
        abort(404)
    if not sender_allowed(client_ip(), current_app.config["PAYMENT_WEBHOOK_ALLOWED_NETS"]):
        # Not from the provider's networks (PAYMENT_WEBHOOK_ALLOWED_NETS): not even its reference is looked at.
        current_app.logger.warning("Payment notification from %s refused: not a provider's address", client_ip())
        payments.refuse_notification(db.session, actor=current_actor(), detail=f"sender {client_ip()}")
        abort(403)
    return receive_notification(request.get_data(), actor=current_actor())


def receive_notification(body: bytes, *, actor):
    """The webhook's work, also called in-process by the development provider's page."""
    try:
        payments.provider_notification(db.session, provider(), body=body, actor=actor, now=utcnow())
    except payments.BadNotification:
        abort(400)
    except NotFound:
        abort(404)
    except ProviderUnavailable as down:
        # The provider sends its notification again later.
        return {"ok": False}, 503, {"Retry-After": str(max(1, round(down.retry_after or 60)))}
    return {"ok": True}


def _history_filter():
    return period_filter([(k, str(label)) for k, label in history.KIND_LABELS.items()])


@bp.get("/history")
@customer_required
def history_page():
    """Income and expenses of the account for a period; "more" pages with htmx or plain links."""
    account = account_in_focus()
    form, period, kinds, today = _history_filter()
    before = request.args.get("before", type=db_int)
    entries, next_before = history.entries_page(db.session, account.id, period, kinds, before_id=before)
    context = dict(form=form, account=account, entries=entries, next_before=next_before, before=before,
                   labels=history.KIND_LABELS, find_form=FindOperationForm(formdata=None))
    if before and is_htmx_partial():  # the "more" button: only the next rows
        return render("payments/history.html", "payments/_history_rows.html", status=form.status, **context)
    income, expenses = history.totals(db.session, account.id, period, kinds)
    months = history.monthly_spending(db.session, account.id, months=6, today=today, tz=period.tz)
    return render("payments/history.html", "payments/_history_results.html", status=form.status, income=income,
                  expenses=expenses, months=months, spending_labels=history.SPENDING_LABELS, **context)


@bp.get("/history.csv")
@customer_required
def history_csv():
    account = account_in_focus()
    form, period, kinds, _ = _history_filter()
    if form.errors:
        return render("payments/history.html", status=422, form=form, account=account, entries=[],
                      next_before=None, before=None, labels=history.KIND_LABELS, income=0, expenses=0, months=[],
                      spending_labels=history.SPENDING_LABELS, find_form=FindOperationForm(formdata=None))
    lines = history.csv_lines(db.session, account.id, period, kinds)
    response = Response(stream_with_context(lines), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=account-{account.id}-{period.start}-{period.end}.csv")
    return response


def _own_receipt_or_404(code: str) -> receipt.Receipt:
    try:
        return receipt.receipt(db.session, code=code, account_ids=[a.id for a in managed_accounts()])
    except NotFound:
        abort(404)


@bp.get("/receipts/<code>")
@customer_required
def receipt_page(code: str):
    """A money operation's receipt (any of the login's numbers): the page, and its PDF."""
    found = _own_receipt_or_404(code)
    return render("payments/receipt.html", receipt=found, facts=receipt.facts(found))


@bp.get("/receipts/<code>.pdf")
@customer_required
def receipt_download(code: str):
    found = _own_receipt_or_404(code)
    pdf = receipt_pdf(found, brand=current_app.config["BRAND"], locale=str(get_locale()), tz=str(get_timezone()),
                      now=utcnow())
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f"attachment; filename=receipt-{found.code}.pdf"
    return response


@bp.get("/find")
@customer_required
@limiter.limit(lambda: current_app.config["RATELIMIT_OPERATION_LOOKUP"], exempt_when=lambda: "code" not in request.args)
def find_operation():
    """"Did it go through?": an operation by its code, searched on the login's own numbers only."""
    form = FindOperationForm(request.args)
    found = None
    if "code" in request.args and form.validate():
        accounts = {a.id: a for a in managed_accounts()}
        try:
            entry = receipt.find(db.session, typed=form.code.data, account_ids=list(accounts))
            found = (entry, accounts[entry.account_id])
        except DomainError as err:
            form.add_domain_error(err)
    return render("payments/find.html", "payments/_find.html", status=form.status, find_form=form, found=found,
                  labels=history.KIND_LABELS)


@bp.route("/transfer", methods=["GET", "POST"])
@customer_required
@limiter.limit("30 per hour", exempt_when=lambda: request.method != "POST")
def transfer():
    """Send money to another of our numbers."""
    account = account_in_focus()
    rules = transfers.TransferRules.from_config(current_app.config)
    form = TransferForm()
    if form.validate_on_submit():
        try:
            sent = transfers.start_transfer(db.session, from_account_id=account.id, to_msisdn=form.recipient.msisdn,
                                            amount=parse_rubles(form.amount.data),
                                            idempotency_key=form.idempotency_key.data, rules=rules,
                                            actor=current_actor(), now=utcnow())
            return see_other(".transfer_status", token=sent.token)
        except DomainError as err:
            form.add_domain_error(err)
    if not form.is_submitted() and request.args.get("to"):
        form.recipient.data = request.args["to"][:40]
    own_lines = [a.line.msisdn for a in managed_accounts() if a.line and a.id != account.id]
    return render("payments/transfer.html", "payments/_transfer_form.html", status=form.status, form=form,
                  account=account, rules=rules, own_lines=own_lines)


@bp.route("/transfer/<token>", methods=["GET", "POST"])
@customer_required
@limiter.limit("10 per 10 minutes", exempt_when=lambda: request.method != "POST")
def transfer_status(token: str):
    """The transfer's outcome, or the SMS code it waits for."""
    account = account_in_focus()
    try:
        sent = transfers.transfer_of_account(db.session, token=token, account_id=account.id)
    except NotFound:
        abort(404)
    form = CodeForm()
    if sent.status == "pending_code" and form.validate_on_submit():
        try:
            transfers.confirm_transfer(db.session, transfer=sent, code=form.code.data,
                                       rules=transfers.TransferRules.from_config(current_app.config),
                                       actor=current_actor(), now=utcnow())
            return see_other(".transfer_status", token=sent.token)
        except DomainError as err:
            form.add_domain_error(err)
    code = receipt.code_of(db.session, f"transfer:{sent.token}:out") if sent.status == "done" else None
    return render("payments/transfer_status.html", status=form.status, form=form, transfer=sent, account=account,
                  code=code)


@bp.route("/voucher", methods=["GET", "POST"])
@customer_required
@limiter.limit("30 per hour", exempt_when=lambda: request.method != "POST")
def voucher():
    """Top up with a prepaid card."""
    account = account_in_focus()
    form = VoucherForm()
    if form.validate_on_submit():
        cfg = current_app.config
        try:
            used = vouchers.redeem_voucher(db.session, account_id=account.id, code=form.code.data, pin=form.pin.data,
                                           key=cfg["VOUCHER_KEY"] or cfg["SECRET_KEY"],
                                           max_failures=cfg["VOUCHER_FAILURES_PER_HOUR"], actor=current_actor(),
                                           now=utcnow())
            flash(_("%(amount)s from the prepaid card is on your balance. Operation %(code)s.",
                    amount=money(used.amount),
                    code=codes.grouped(receipt.code_of(db.session, f"voucher:{used.id}"))))
            return see_other("account.dashboard")
        except DomainError as err:
            form.add_domain_error(err)
    form.pin.data = ""
    return render("payments/voucher.html", "payments/_voucher_form.html", status=form.status, form=form,
                  account=account)


@bp.route("/promised", methods=["GET", "POST"])
@customer_required
def promised_payment():
    """Money now, repaid from the next top-ups."""
    account = account_in_focus()
    rules = promised.PromisedRules.from_config(current_app.config)
    form = PromisedForm()
    if form.validate_on_submit():
        try:
            promise = promised.take_promised_payment(
                db.session, account_id=account.id, amount=parse_rubles(form.amount.data),
                idempotency_key=form.idempotency_key.data, rules=rules, actor=current_actor(), now=utcnow())
            code = receipt.code_of(db.session, f"promised:{promise.idempotency_key}") if promise else None
            flash(_("The promised payment is on your balance. Operation %(code)s.", code=codes.grouped(code))
                  if code else _("The promised payment is on your balance."))
            return see_other(".promised_payment")
        except DomainError as err:
            form.add_domain_error(err)
    terms = promised.offer(db.session, account, rules, now=utcnow())
    code = receipt.code_of(db.session, f"promised:{terms.open.idempotency_key}") if terms.open else None
    return render("payments/promised.html", status=form.status, form=form, account=account, terms=terms,
                  now=utcnow(), code=code)


@bp.route("/auto", methods=["GET", "POST"])
@customer_required
def auto_payments():
    """Standing top-ups from a saved card."""
    account = account_in_focus()
    cards = autopay.saved_cards(db.session, current_user.id)
    form = AutoPaymentForm()
    form.card.choices = [(c.id, f"•••• {c.last4}") for c in cards]
    if form.validate_on_submit():
        try:
            autopay.create_rule(db.session, account_id=account.id, login_id=current_user.id,
                                card_token_id=form.card.data, kind=form.kind.data,
                                threshold=parse_rubles(form.threshold.data) if form.kind.data == "threshold" else None,
                                day=form.day.data, amount=parse_rubles(form.amount.data), actor=current_actor())
            flash(_("The auto-payment is set up."))
            return see_other(".auto_payments")
        except DomainError as err:
            if isinstance(err, BadAmount) and form.kind.data == "threshold" and not form.threshold.data:
                err.field = "threshold"
            form.add_domain_error(err)
    return render("payments/auto.html", status=form.status, form=form, cards=cards,
                  rules=autopay.rules_of(db.session, account.id), toggle=PortalForm())


@bp.post("/auto/<int:rule_id>")
@customer_required
def auto_payment_change(rule_id: int):
    """Turn a rule on or off, or delete it (the button's value says which)."""
    account = account_in_focus()
    if not PortalForm().validate_on_submit():
        abort(400)
    action = request.form.get("action")
    try:
        if action == "delete":
            autopay.delete_rule(db.session, account_id=account.id, rule_id=rule_id, actor=current_actor())
        elif action in ("on", "off"):
            autopay.set_enabled(db.session, account_id=account.id, rule_id=rule_id, enabled=action == "on",
                                actor=current_actor())
        else:
            abort(400)
    except NotFound:
        abort(404)
    return see_other(".auto_payments")


@bp.route("/bonus", methods=["GET", "POST"])
@customer_required
@limiter.limit("30 per hour", exempt_when=lambda: request.method != "POST")  # as money transfers: no number probing
def bonus_points():
    """Points: the balance, the rewards to spend them on, sending them, and their history."""
    account = account_in_focus()
    form = PointsTransferForm()
    if form.validate_on_submit():
        try:
            bonus.transfer_points(db.session, from_account_id=account.id, to_msisdn=form.recipient.msisdn,
                                  points=form.points.data, idempotency_key=form.idempotency_key.data,
                                  minimum=current_app.config["BONUS_TRANSFER_MIN"], actor=current_actor(),
                                  now=utcnow())
            flash(_("The points are sent."))
            return see_other(".bonus_points")
        except DomainError as err:
            form.add_domain_error(err)
    return _bonus_page(account, form)


def _bonus_page(account, form):
    from portal.domain.overview import bonus_points as points_of

    return render("payments/bonus.html", status=form.status, form=form,
                  points=points_of(db.session, account.id), rewards=bonus.rewards(db.session),
                  entries=bonus.history(db.session, account.id), entry_labels=bonus.ENTRY_LABELS)


@bp.route("/bonus/rewards/<int:reward_id>", methods=["GET", "POST"])
@customer_required
def redeem(reward_id: int):
    """What a reward costs in points and what is left after, then the confirmation spends them."""
    from portal.domain.overview import bonus_points as points_of

    account = account_in_focus()
    try:
        reward = bonus.offered_reward(db.session, reward_id)
    except NotFound:
        abort(404)
    reward_form = RewardForm()
    if reward_form.validate_on_submit():
        try:
            bonus.redeem_reward(db.session, account_id=account.id, reward_id=reward.id,
                                idempotency_key=reward_form.idempotency_key.data, actor=current_actor(), now=utcnow())
            flash(_("Done: the reward is yours."))
            return see_other(".bonus_points")
        except NotFound:
            abort(404)
        except DomainError as err:
            reward_form.add_domain_error(err)
    return render("payments/reward.html", status=reward_form.status, form=reward_form, reward=reward,
                  points=points_of(db.session, account.id))
