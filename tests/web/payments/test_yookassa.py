"""Top-ups with PAYMENT_PROVIDER = "yookassa" against the fake of YooKassa's API on loopback (tests/fake_yookassa.py):
the form → YooKassa's page, the webhook (from its networks only) → a status request → one credit, saved methods,
auto-payments, reconciliation, and its error answers (401, 429, 5xx, slow) as "not answering"."""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.domain import ledger
from portal.domain.billing import AutopaySettings, run_billing
from portal.jobs import reconcile_unsettled_payments
from portal.models import Account, AuditEvent, AutoPayment, CardPayment, CardToken, LedgerEntry, Login, utcnow
from tests import factories
from tests.fake_yookassa import ALLOWED_SENDER, Fake
from tests.helpers import key_of, start_topup


@pytest.fixture
def fake():
    api = Fake().start()
    yield api
    api.stop()


@pytest.fixture
def extra_config() -> dict:
    return {}


@pytest.fixture
def config_overrides(fake, extra_config):
    return fake.config(**extra_config)


def balance(db_session, account):
    db_session.expire_all()
    return db_session.get(Account, account.id).balance


def topups(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "card_topup"))


def the_payment(db_session) -> CardPayment:
    db_session.expire_all()
    return db_session.scalars(select(CardPayment).order_by(CardPayment.id.desc())).first()


def notify(client, body: bytes, sender: str = ALLOWED_SENDER, **kwargs):
    return client.post("/payments/webhook", data=body, content_type="application/json",
                       environ_base={"REMOTE_ADDR": sender}, **kwargs)


def test_the_form_creates_the_payment_at_yookassa_and_sends_the_customer_to_its_page(signed_in, fake, db_session,
                                                                                    account):
    response, data = start_topup(signed_in, "500,50", save_card="y")
    at_yookassa = fake.only()
    assert response.status_code == 303 and response.location == f"{fake.url}/checkout/{at_yookassa['id']}"
    payment = the_payment(db_session)
    assert (payment.status, payment.provider, payment.gateway_ref) == ("pending", "yookassa", at_yookassa["id"])
    sent = fake.created()[0]
    assert sent["headers"]["Idempotence-Key"] == data["idempotency_key"]  # one key per attempt: the form's
    body = sent["body"]
    assert body["amount"] == {"value": "500.50", "currency": "RUB"} and body["capture"] is True
    assert body["confirmation"] == {"type": "redirect", "return_url": f"http://localhost/payments/{payment.token}"}
    assert body["save_payment_method"] is True and len(body["description"]) <= 128
    receipt = body["receipt"]
    assert receipt["customer"] == {"phone": "79161234567"}
    assert receipt["items"][0]["description"] == "Оплата услуг связи"
    assert receipt["items"][0]["amount"] == {"value": "500.50", "currency": "RUB"}
    assert (receipt["items"][0]["vat_code"], receipt["items"][0]["payment_subject"],
            receipt["items"][0]["payment_mode"]) == (1, "service", "full_payment")
    assert balance(db_session, account) == 10000
    # The same form again (a double click): the same payment, here and at YooKassa.
    again = signed_in.post_form("/payments/topup", data)
    assert again.location == response.location and len(fake.payments) == 1


def test_a_webhook_from_yookassa_is_checked_with_the_api_and_credits_once(signed_in, client, fake, db_session,
                                                                          account):
    start_topup(signed_in)
    reference = fake.only()["id"]
    forged = fake.notification(reference, "payment.succeeded").replace(b'"pending"', b'"succeeded"')
    assert notify(client, forged).status_code == 200  # the body says succeeded; the API, asked, says pending
    assert the_payment(db_session).status == "pending" and balance(db_session, account) == 10000
    fake.succeed(reference, last4="4444")
    body = fake.notification(reference)
    for _ in range(2):  # the same notification twice
        assert notify(client, body).status_code == 200
    payment = the_payment(db_session)
    assert (payment.status, payment.card_last4, payment.method_title) == ("confirmed", "4444", "card *4444")
    assert balance(db_session, account) == 60000 and topups(db_session) == 1 and ledger.verify(db_session) == []
    # The return page afterwards says so and credits nothing more.
    page = signed_in.get(f"/payments/{payment.token}")
    assert page.status_code == 200 and "600.00" in page.text and balance(db_session, account) == 60000


def test_a_notification_from_outside_yookassas_networks_is_refused_and_recorded(signed_in, client, fake,
                                                                                  db_session, account):
    start_topup(signed_in)
    reference = fake.only()["id"]
    fake.succeed(reference)
    asked = len(fake.requests)
    response = notify(client, fake.notification(reference), sender="203.0.113.9")
    assert response.status_code == 403
    assert len(fake.requests) == asked  # not even asked about
    assert the_payment(db_session).status == "pending" and balance(db_session, account) == 10000
    refused = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "payment_webhook_refused")).one()
    assert refused.ip == "203.0.113.9" and "203.0.113.9" in refused.detail
    assert notify(client, fake.notification(reference), sender="2a02:5180:0:1509::12").status_code == 200
    assert balance(db_session, account) == 60000


@pytest.mark.parametrize("extra_config", [{"PROXY_COUNT": 1}])
def test_behind_a_proxy_the_sender_is_the_forwarded_address(signed_in, client, fake, db_session, account):
    start_topup(signed_in)
    reference = fake.only()["id"]
    fake.succeed(reference)
    body = fake.notification(reference)
    # The proxy's own address is in the list, the client it forwards for is not: refused.
    spoofed = notify(client, body, sender=ALLOWED_SENDER, headers={"X-Forwarded-For": "203.0.113.9"})
    assert spoofed.status_code == 403
    real = notify(client, body, sender="10.0.0.2", headers={"X-Forwarded-For": ALLOWED_SENDER})
    assert real.status_code == 200 and balance(db_session, account) == 60000


def test_the_return_page_before_the_webhook_credits_once(signed_in, client, fake, db_session, account):
    start_topup(signed_in)
    reference = fake.only()["id"]
    token = the_payment(db_session).token
    assert "Continue to payment" in signed_in.get(f"/payments/{token}").text  # still on YooKassa's page
    fake.succeed(reference)
    assert "600.00" in signed_in.get(f"/payments/{token}").text
    assert notify(client, fake.notification(reference)).status_code == 200
    assert balance(db_session, account) == 60000 and topups(db_session) == 1


def test_a_canceled_payment_moves_nothing_however_often_it_is_told(signed_in, client, fake, db_session, account):
    start_topup(signed_in)
    reference = fake.only()["id"]
    fake.cancel(reference, "insufficient_funds")
    for _ in range(2):
        assert notify(client, fake.notification(reference)).status_code == 200
    payment = the_payment(db_session)
    assert (payment.status, payment.decline_reason) == ("declined", "insufficient_funds")
    assert "declined" in signed_in.get(f"/payments/{payment.token}").text
    assert balance(db_session, account) == 10000
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "card_payment_declined")).one()


def test_a_notification_of_a_refund_or_of_nothing_is_not_applied(client, fake, account):
    assert notify(client, b'{"event": "refund.succeeded", "object": {"id": "abc"}}').status_code == 400
    assert notify(client, b"not json").status_code == 400
    assert notify(client, b'{"event": "payment.succeeded", "object": {"id": "unknown"}}').status_code == 404


def test_yookassa_down_on_the_webhook_answers_503_so_it_notifies_again(signed_in, client, fake, db_session,
                                                                         account):
    start_topup(signed_in)
    reference = fake.only()["id"]
    fake.succeed(reference)
    fake.fail(500)
    response = notify(client, fake.notification(reference))
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert balance(db_session, account) == 10000
    assert notify(client, fake.notification(reference)).status_code == 200 and balance(db_session, account) == 60000


@pytest.mark.parametrize("failure", ["401", "403", "429", "500", "503", "slow", "lost"])
def test_yookassa_failing_on_create_says_not_answering_and_a_retry_is_the_same_payment(signed_in, fake, db_session,
                                                                                       account, failure):
    if failure == "slow":
        fake.slow = 3  # more than YOOKASSA_TIMEOUT (2 s)
    elif failure == "lost":
        fake.lose_answers = 1  # made at YooKassa, the answer lost on the way
    elif failure == "429":
        fake.fail(429, retry_after="30")  # longer than a worker may wait
    else:
        fake.fail(int(failure))
    started = datetime.now()
    response, data = start_topup(signed_in)
    assert (datetime.now() - started).total_seconds() < 5
    assert response.status_code == 422 and "not answering" in response.text
    assert key_of(response.text) == data["idempotency_key"]
    assert the_payment(db_session).status == "created" and balance(db_session, account) == 10000
    fake.slow = 0
    again = signed_in.post_form("/payments/topup", data)
    assert again.status_code == 303 and again.location.startswith(f"{fake.url}/checkout/")
    assert len(fake.payments) == 1  # a lost answer is found again by its key, not made twice
    assert db_session.scalar(select(func.count()).select_from(CardPayment)) == 1


def test_a_short_429_is_waited_for_once(signed_in, fake, db_session, account):
    fake.fail(429, retry_after="0.3")
    response, _ = start_topup(signed_in)
    assert response.status_code == 303 and len(fake.created()) == 2 and len(fake.payments) == 1
    assert fake.created()[0]["headers"]["Idempotence-Key"] == fake.created()[1]["headers"]["Idempotence-Key"]


def test_yookassa_failing_on_the_return_page_leaves_the_payment_for_later(signed_in, fake, db_session, account):
    start_topup(signed_in)
    fake.succeed(fake.only()["id"])
    fake.fail(401)
    page = signed_in.get(f"/payments/{the_payment(db_session).token}")
    assert page.status_code == 200 and balance(db_session, account) == 10000
    assert the_payment(db_session).status == "pending"


def test_reconciliation_asks_yookassa_and_credits_once(app, signed_in, fake, db_session, account):
    start_topup(signed_in)
    start_topup(signed_in, "100")
    first, second = list(fake.payments)  # in the order made: 500, then 100
    fake.succeed(first)
    fake.cancel(second, "expired_on_confirmation")
    later = utcnow() + timedelta(minutes=6)
    fake.fail(500)  # the first answer only
    report = reconcile_unsettled_payments(now=later)
    assert (report.asked, report.unreachable, report.declined) == (2, 1, 1)
    report = reconcile_unsettled_payments(now=later)
    assert (report.asked, report.confirmed) == (1, 1)
    assert balance(db_session, account) == 60000
    assert reconcile_unsettled_payments(now=later).asked == 0
    assert topups(db_session) == 1 and ledger.verify(db_session) == []


# ---- saved methods ------------------------------------------------------------------------------------------------

def test_a_saved_method_pays_in_one_tap_and_by_auto_payment(app, signed_in, client, fake, db_session, account):
    start_topup(signed_in, save_card="y")
    reference = fake.only()["id"]
    fake.succeed(reference, last4="1111")
    assert notify(client, fake.notification(reference)).status_code == 200
    card = db_session.scalars(select(CardToken)).one()
    assert (card.gateway_token, card.last4) == (reference, "1111")
    # One tap: a payment with the method's id, no page.
    key = key_from_saved_form(signed_in.get("/payments/topup").text)
    response = signed_in.post("/payments/topup/saved", data={
        "saved-csrf_token": signed_in.csrf_token(), "saved-idempotency_key": key, "saved-amount": "300",
        "saved-card": str(card.id)})
    assert response.status_code == 303
    charged = fake.created()[-1]["body"]
    assert charged["payment_method_id"] == reference and charged["capture"] is True
    assert charged["receipt"]["customer"] == {"phone": "79161234567"}
    assert charged["receipt"]["items"][0]["description"] == "Оплата услуг связи"
    payment = the_payment(db_session)
    assert payment.status == "confirmed" and payment.card_token_id == card.id
    assert balance(db_session, account) == 10000 + 50000 + 30000
    # An auto-payment charges the same method.
    login_id = db_session.scalar(select(Login.id))
    db_session.add(AutoPayment(account_id=account.id, login_id=login_id, card_token_id=card.id, kind="monthly",
                               day=10, amount=20000))
    db_session.commit()
    report = run_billing(db_session, day=date(2026, 12, 10), now=datetime(2026, 12, 10, 0, 5),
                         autopay=AutopaySettings.from_config(app.config))
    assert report.autopaid == 1
    assert fake.created()[-1]["headers"]["Idempotence-Key"].startswith("auto:")
    assert ledger.verify(db_session) == []


def key_from_saved_form(page: str) -> str:
    import re

    return re.search(r'<input[^>]*name="saved-idempotency_key"[^>]*value="([^"]+)"', page).group(1)


def test_a_saved_method_charge_left_pending_is_decided_by_the_webhook(signed_in, client, fake, db_session,
                                                                      account):
    fake.save_method("pm-slow-bank", last4="7777")
    fake.saved_pending = True
    login_id = db_session.scalar(select(Login.id))
    card = CardToken(login_id=login_id, gateway_token="pm-slow-bank", last4="7777", expiry="")
    db_session.add(card)
    db_session.commit()
    response = signed_in.post("/payments/topup/saved", data={
        "saved-csrf_token": signed_in.csrf_token(),
        "saved-idempotency_key": key_from_saved_form(signed_in.get("/payments/topup").text),
        "saved-amount": "300", "saved-card": str(card.id)})
    assert response.status_code == 303
    payment = the_payment(db_session)
    assert payment.status == "pending" and payment.gateway_ref == fake.only()["id"]
    assert "being processed" in signed_in.get(response.location).text and balance(db_session, account) == 10000
    fake.succeed(payment.gateway_ref)
    for _ in range(2):
        assert notify(client, fake.notification(payment.gateway_ref)).status_code == 200
    assert the_payment(db_session).status == "confirmed" and balance(db_session, account) == 40000
    assert topups(db_session) == 1


def test_a_saved_method_yookassa_refuses_is_declined(signed_in, fake, db_session, account):
    fake.save_method("pm-revoked", last4="0005", declines=True)
    login_id = db_session.scalar(select(Login.id))
    card = CardToken(login_id=login_id, gateway_token="pm-revoked", last4="0005", expiry="")
    gone = CardToken(login_id=login_id, gateway_token="pm-unknown", last4="0006", expiry="")
    db_session.add_all([card, gone])
    db_session.commit()
    for saved, reason in ((card, "permission_revoked"), (gone, "invalid_request")):
        page = signed_in.get("/payments/topup").text
        response = signed_in.post("/payments/topup/saved", data={
            "saved-csrf_token": signed_in.csrf_token(), "saved-idempotency_key": key_from_saved_form(page),
            "saved-amount": "300", "saved-card": str(saved.id)})
        assert response.status_code == 303
        payment = the_payment(db_session)
        assert (payment.status, payment.decline_reason) == ("declined", reason)
    assert balance(db_session, account) == 10000


def test_a_home_contract_receipt_goes_to_its_contact_phone(client, fake, db_session):
    home = factories.make_home_contract(db_session, contact_phone="+79035550011")
    factories.make_login(db_session, home)
    db_session.commit()
    client.post_form("/auth/login", {"phone": "HC-100200", "password": factories.PASSWORD})
    response, _ = start_topup(client)
    assert response.status_code == 303
    assert fake.created()[0]["body"]["receipt"]["customer"] == {"phone": "79035550011"}
