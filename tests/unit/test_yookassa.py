"""The YooKassa provider: what the portal makes of YooKassa's answers, what it sends, its error answers and time
bound (against the fake on loopback), its settings, and that it leaves the SDK's global configuration alone."""
import json
import logging
import time

import pytest
import yookassa
from yookassa.domain.response import PaymentResponse

from portal import ConfigError, create_app
from portal.payment_gateway import (
    CANCELED,
    PENDING,
    SBP,
    SUCCEEDED,
    Confirmation,
    ProviderUnavailable,
    Receipt,
    provider_from_config,
    sender_allowed,
)
from portal.payment_gateway.yookassa import NETWORKS, PAGE_ORIGIN, Settings, YooKassaProvider, phone_digits, rubles
from portal.payment_gateway.yookassa import state_of as _state_of
from tests.fake_yookassa import SECRET_KEY, SHOP_ID, Fake

RECEIPT = Receipt(phone="+79161234567", item="Оплата услуг связи", amount=12345)


@pytest.fixture(autouse=True)
def provider_log(monkeypatch):
    """The provider's logger, as in production (the test database's migrations ran Alembic's fileConfig, which
    turns off the loggers that existed then)."""
    monkeypatch.setattr(logging.getLogger("portal.payment_gateway.yookassa"), "disabled", False)


def state_of(answer: dict):
    return _state_of(PaymentResponse({"amount": {"value": "1.00", "currency": "RUB"}, **answer}))


# ---- YooKassa's answers as PaymentState ------------------------------------------------------------------------

def test_a_pending_payment_has_its_page():
    state = state_of({"id": "p-1", "status": "pending", "confirmation": {
        "type": "redirect", "confirmation_url": "https://yoomoney.ru/checkout/payments/v2/contract?orderId=p-1"}})
    assert (state.reference, state.status, state.saved_token, state.cancel_reason) == ("p-1", PENDING, None, None)
    assert state.confirmation == Confirmation("redirect", url="https://yoomoney.ru/checkout/payments/v2/"
                                                              "contract?orderId=p-1")


@pytest.mark.parametrize("status", ["pending", "waiting_for_capture"])
def test_waiting_states_are_pending_and_say_when_they_expire(status):
    state = state_of({"id": "p-1", "status": status, "expires_at": "2026-12-07T08:30:00.000Z"})
    assert state.status == PENDING and state.expires_at.isoformat() == "2026-12-07T08:30:00"


def test_an_sbp_payment_has_the_qr_payload_and_the_bank_apps_link():
    state = state_of({"id": "p-2", "status": "pending", "payment_method": {"type": "sbp", "id": "p-2", "saved": False},
                      "confirmation": {"type": "qr", "confirmation_data": "https://qr.nspk.ru/AD10006M"}})
    assert state.confirmation == Confirmation("qr", url="https://qr.nspk.ru/AD10006M",
                                              qr_payload="https://qr.nspk.ru/AD10006M")
    assert state.method_title == "SBP" and state.card_last4 is None


def test_a_card_payment_that_succeeded_and_saved_its_method():
    state = state_of({"id": "p-3", "status": "succeeded", "paid": True, "payment_method": {
        "type": "bank_card", "id": "pm-3", "saved": True, "title": "Bank card *4444",
        "card": {"first6": "555555", "last4": "4444", "expiry_month": "07", "expiry_year": "2030",
                 "card_type": "MasterCard"}}})
    assert (state.status, state.method_title, state.card_last4, state.saved_token) == \
        (SUCCEEDED, "card *4444", "4444", "pm-3")
    assert state.confirmation is None and state.expires_at is None


def test_a_method_not_saved_gives_no_token_and_other_methods_keep_their_title():
    state = state_of({"id": "p-4", "status": "succeeded", "payment_method": {
        "type": "yoo_money", "id": "pm-4", "saved": False, "title": "YooMoney wallet 410011758831136"}})
    assert (state.saved_token, state.method_title) == (None, "YooMoney wallet 410011758831136")


def test_a_canceled_payment_says_why():
    state = state_of({"id": "p-5", "status": "canceled", "cancellation_details": {
        "party": "issuer", "reason": "insufficient_funds"}})
    assert (state.status, state.cancel_reason, state.confirmation) == (CANCELED, "insufficient_funds", None)


def test_amounts_and_phones_as_the_api_wants_them():
    assert rubles(12345) == {"value": "123.45", "currency": "RUB"} and rubles(1000)["value"] == "10.00"
    assert rubles(5)["value"] == "0.05"
    assert phone_digits("+79161234567") == "79161234567" and phone_digits(None) is None


@pytest.mark.parametrize("body, reference", [
    (b'{"type": "notification", "event": "payment.succeeded", "object": {"id": "p-1", "status": "succeeded"}}',
     "p-1"),
    (b'{"object": {"id": "p-1"}}', "p-1"),
    (b'{"event": "refund.succeeded", "object": {"id": "r-1"}}', None),
    (b'{"event": "payment.succeeded", "object": {"id": 5}}', None),
    (b'{"event": "payment.succeeded", "object": {"id": "' + b"x" * 81 + b'"}}', None),
    (b'{"event": "payment.succeeded"}', None),
    (b"[1]", None),
    (b"not json", None),
])
def test_only_the_payments_id_is_taken_from_a_notification(body, reference):
    assert YooKassaProvider(Settings(SHOP_ID, SECRET_KEY)).notified_reference(body) == reference


@pytest.mark.parametrize("address, allowed", [
    ("185.71.76.1", True), ("185.71.77.31", True), ("77.75.153.127", True), ("77.75.156.11", True),
    ("77.75.156.35", True), ("77.75.154.200", True), ("2a02:5180:0:2655::1", True),
    ("185.71.76.32", False), ("77.75.156.12", False), ("127.0.0.1", False), ("2a02:5181::1", False),
    ("not an address", False), (None, False),
])
def test_yookassas_networks(address, allowed):
    assert sender_allowed(address, NETWORKS) is allowed


def test_no_networks_means_no_check():
    assert sender_allowed("203.0.113.9", ()) and sender_allowed(None, None)


# ---- against the fake API --------------------------------------------------------------------------------------

@pytest.fixture
def fake():
    api = Fake().start()
    yield api
    api.stop()


@pytest.fixture
def provider(fake):
    return YooKassaProvider(Settings(SHOP_ID, SECRET_KEY, api_url=fake.api_url, timeout=1.5, retry_wait_max=0.5,
                                     tax_system=2, vat_code=6))


def create(provider, key="key-" + "a" * 20, method="card", save=False, receipt=RECEIPT):
    return provider.create_payment(amount=12345, description="Top-up " + "x" * 200, idempotence_key=key,
                                   return_url="https://portal.example/payments/t1", receipt=receipt,
                                   save_method=save, method=method)


def test_create_sends_what_yookassa_expects(provider, fake):
    state = create(provider, save=True)
    sent = fake.created()[0]
    assert sent["headers"]["Idempotence-Key"] == "key-" + "a" * 20
    assert sent["headers"]["Authorization"].startswith("Basic ")
    body = sent["body"]
    assert body["amount"] == {"value": "123.45", "currency": "RUB"} and body["capture"] is True
    assert len(body["description"]) == 128 and body["save_payment_method"] is True
    assert body["confirmation"] == {"type": "redirect", "return_url": "https://portal.example/payments/t1"}
    assert "payment_method_data" not in body
    assert body["receipt"]["tax_system_code"] == 2
    assert body["receipt"]["customer"] == {"phone": "79161234567"}
    item = body["receipt"]["items"][0]
    assert (item["description"], item["vat_code"], item["amount"]["value"]) == ("Оплата услуг связи", 6, "123.45")
    assert float(item["quantity"]) == 1
    assert state.status == PENDING and state.confirmation.url == f"{fake.url}/checkout/{state.reference}"


def test_sbp_asks_for_a_qr_and_never_saves_the_method(provider, fake):
    state = create(provider, method=SBP, save=True)
    body = fake.created()[0]["body"]
    assert body["payment_method_data"] == {"type": "sbp"} and body["confirmation"]["type"] == "qr"
    assert "save_payment_method" not in body
    assert state.confirmation.kind == "qr" and state.confirmation.qr_payload.startswith("https://qr.nspk.ru/")
    assert state.confirmation.url == state.confirmation.qr_payload


def test_without_receipts_or_a_phone_no_receipt_is_sent(fake):
    fake.require_receipt = False
    quiet = YooKassaProvider(Settings(SHOP_ID, SECRET_KEY, api_url=fake.api_url, receipts=False))
    create(quiet, key="key-" + "b" * 20)
    assert "receipt" not in fake.created()[-1]["body"]
    loud = YooKassaProvider(Settings(SHOP_ID, SECRET_KEY, api_url=fake.api_url))
    create(loud, key="key-" + "c" * 20, receipt=Receipt(phone=None, item="x", amount=12345))
    assert "receipt" not in fake.created()[-1]["body"]


def test_a_refused_receipt_is_not_answering_for_the_customer_and_logged(fake, caplog):
    provider = YooKassaProvider(Settings(SHOP_ID, SECRET_KEY, api_url=fake.api_url, receipts=False))
    with pytest.raises(ProviderUnavailable):
        create(provider)  # the shop needs receipts: 400
    assert "parameter receipt" in caplog.text and fake.payments == {}


def test_the_same_key_is_the_same_payment(provider, fake):
    assert create(provider).reference == create(provider).reference and len(fake.payments) == 1


def test_status_follows_the_payment(provider, fake):
    reference = create(provider, save=True).reference
    assert provider.status(reference).status == PENDING
    fake.succeed(reference, last4="1234")
    state = provider.status(reference)
    assert (state.status, state.method_title, state.saved_token) == (SUCCEEDED, "card *1234", reference)
    assert provider.status("no-such-payment") == provider.status("no-such-payment")
    assert provider.status("no-such-payment").cancel_reason == "not_found"


def test_charge_saved_uses_the_methods_id_and_the_configured_receipt_item(provider, fake):
    fake.save_method("pm-1", last4="4417")
    state = provider.charge_saved(amount=30000, token="pm-1", description="Auto t1", idempotence_key="auto:1:d",
                                  receipt=Receipt(phone="+79161234567", item="", amount=30000))
    body = fake.created()[0]["body"]
    assert body["payment_method_id"] == "pm-1" and "confirmation" not in body and body["capture"] is True
    assert body["receipt"]["items"][0]["description"] == "Оплата услуг связи"
    assert (state.status, state.card_last4) == (SUCCEEDED, "4417")
    again = provider.charge_saved(amount=30000, token="pm-1", description="Auto t1", idempotence_key="auto:1:d")
    assert again.reference == state.reference and len(fake.payments) == 1


def test_charge_saved_of_an_unknown_method_is_a_decline(provider, fake):
    state = provider.charge_saved(amount=30000, token="pm-gone", description="Auto", idempotence_key="auto:2:d",
                                  receipt=RECEIPT)
    assert (state.status, state.cancel_reason) == (CANCELED, "invalid_request")


@pytest.mark.parametrize("status", [401, 403])
def test_bad_credentials_are_logged_as_a_configuration_error(provider, fake, caplog, status):
    fake.fail(status)
    with caplog.at_level(logging.ERROR), pytest.raises(ProviderUnavailable):
        create(provider)
    assert "YOOKASSA_SECRET_KEY" in caplog.text


def test_wrong_credentials_against_the_fake(fake):
    wrong = YooKassaProvider(Settings(SHOP_ID, "test_wrong", api_url=fake.api_url))
    with pytest.raises(ProviderUnavailable):
        wrong.status("p-1")


def test_a_429_with_a_short_retry_after_is_asked_again_once(provider, fake):
    fake.fail(429, retry_after="0.2")
    assert create(provider).status == PENDING
    assert len(fake.created()) == 2 and len(fake.payments) == 1


def test_a_429_twice_or_with_a_long_retry_after_is_unavailable_with_the_wait(provider, fake):
    fake.fail(429, times=2, retry_after="0.2")
    with pytest.raises(ProviderUnavailable) as twice:
        create(provider)
    assert twice.value.retry_after == pytest.approx(0.2)
    fake.fail(429, retry_after="120")
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable) as long:
        provider.status("p-1")
    assert long.value.retry_after == 120 and time.monotonic() - started < 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_unavailable(provider, fake, status):
    fake.fail(status)
    with pytest.raises(ProviderUnavailable):
        create(provider)


def test_a_slow_api_is_given_up_on_within_the_timeout(provider, fake):
    fake.slow = 3
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable):
        create(provider)
    assert time.monotonic() - started < 2.5


def test_a_short_429_does_not_stretch_the_time_bound(fake):
    provider = YooKassaProvider(Settings(SHOP_ID, SECRET_KEY, api_url=fake.api_url, timeout=1.2, retry_wait_max=1))
    fake.fail(429, retry_after="1")  # waiting would leave too little for the second request: not waited
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable):
        create(provider)
    assert time.monotonic() - started < 0.5


def test_nothing_listening_is_unavailable():
    provider = YooKassaProvider(Settings(SHOP_ID, SECRET_KEY, api_url="http://127.0.0.1:9/v3", timeout=1))
    with pytest.raises(ProviderUnavailable):
        provider.status("p-1")


def test_a_lost_answer_asked_again_with_the_key_is_the_first_payment(provider, fake):
    fake.lose_answers = 1
    with pytest.raises(ProviderUnavailable):
        create(provider)
    assert len(fake.payments) == 1
    assert create(provider).reference == fake.only()["id"]


def test_the_sdks_global_configuration_is_left_alone(provider, fake):
    before = (yookassa.Configuration.account_id, yookassa.Configuration.secret_key, yookassa.Configuration.api_url)
    create(provider)
    assert (yookassa.Configuration.account_id, yookassa.Configuration.secret_key,
            yookassa.Configuration.api_url) == before
    # Two shops in one process do not share credentials.
    other = YooKassaProvider(Settings("999", "test_other", api_url=fake.api_url))
    with pytest.raises(ProviderUnavailable):
        other.status(fake.only()["id"])
    assert provider.status(fake.only()["id"]).status == PENDING


# ---- settings ------------------------------------------------------------------------------------------------

def app_with(database_url, **config):
    return create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": database_url, **config})


def test_yookassa_settings_and_their_defaults(database_url):
    app = app_with(database_url, PAYMENT_PROVIDER="yookassa", YOOKASSA_SHOP_ID=540011, YOOKASSA_SECRET_KEY="live_x")
    cfg = app.config
    assert cfg["PAYMENT_WEBHOOK_ALLOWED_NETS"] == NETWORKS and cfg["PAYMENT_PAGE_ORIGINS"] == (PAGE_ORIGIN,)
    provider = provider_from_config(cfg, None)
    assert provider.name == "yookassa" and provider.settings.shop_id == "540011"
    assert provider.settings.api_url == "https://api.yookassa.ru/v3" and provider.settings.vat_code == 1
    own = app_with(database_url, PAYMENT_PROVIDER="yookassa", YOOKASSA_SHOP_ID="1", YOOKASSA_SECRET_KEY="k",
                   PAYMENT_WEBHOOK_ALLOWED_NETS="185.71.76.0/27, 10.1.2.3", PAYMENT_TAX_SYSTEM=3)
    assert own.config["PAYMENT_WEBHOOK_ALLOWED_NETS"] == ("185.71.76.0/27", "10.1.2.3/32")
    assert provider_from_config(own.config, None).settings.tax_system == 3
    assert app_with(database_url, DEBUG=True).config["PAYMENT_WEBHOOK_ALLOWED_NETS"] == ()


@pytest.mark.parametrize("config, message", [
    ({"YOOKASSA_SECRET_KEY": None}, "YOOKASSA_SHOP_ID and YOOKASSA_SECRET_KEY"),
    ({"YOOKASSA_API_URL": "http://api.yookassa.ru/v3"}, "https://"),
    ({"PAYMENT_WEBHOOK_ALLOWED_NETS": ["185.71.76.0/27", "nonsense"]}, "PAYMENT_WEBHOOK_ALLOWED_NETS"),
    ({"PAYMENT_TAX_SYSTEM": 7}, "PAYMENT_TAX_SYSTEM"),
    ({"PAYMENT_VAT_CODE": 0}, "PAYMENT_VAT_CODE"),
    ({"YOOKASSA_TIMEOUT": 120}, "YOOKASSA_TIMEOUT"),
])
def test_bad_yookassa_settings_stop_the_start(database_url, config, message):
    settings = {"PAYMENT_PROVIDER": "yookassa", "YOOKASSA_SHOP_ID": "1", "YOOKASSA_SECRET_KEY": "k", **config}
    with pytest.raises(ConfigError, match=message):
        app_with(database_url, **settings)


def test_the_settings_from_the_environment(database_url, monkeypatch):
    monkeypatch.setenv("PORTAL_PAYMENT_PROVIDER", "yookassa")
    monkeypatch.setenv("PORTAL_YOOKASSA_SHOP_ID", "540011")
    monkeypatch.setenv("PORTAL_YOOKASSA_SECRET_KEY", "live_secret")
    monkeypatch.setenv("PORTAL_PAYMENT_WEBHOOK_ALLOWED_NETS", json.dumps(["185.71.76.0/27"]))
    monkeypatch.setenv("PORTAL_PAYMENT_TAX_SYSTEM", "2")
    cfg = create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": database_url}).config
    assert cfg["PAYMENT_WEBHOOK_ALLOWED_NETS"] == ("185.71.76.0/27",) and cfg["PAYMENT_TAX_SYSTEM"] == 2
    assert provider_from_config(cfg, None).settings.shop_id == "540011"
