"""Top-ups through the provider's hosted page: the portal's routes (form, return page, webhook, saved cards) and
the development provider's page under /dev."""
import json
import re

import pytest
from sqlalchemy import func, select

from portal.models import Account, AuditEvent, CardPayment, CardToken, DevMethod, DevPayment, LedgerEntry, Login
from portal.payment_gateway import ProviderUnavailable
from portal.payment_gateway.dev import DECLINED, FAILS_LATER, NEEDS_3DS, SUCCEEDS, DevProvider
from tests import factories
from tests.helpers import pay_on_provider_page, saved_dev_card, start_topup, top_up


def pay(client, card=SUCCEEDS, amount="500", headers=None, **fields):
    """Kept for the other money tests: a whole top-up with ``card`` on the provider's page."""
    return top_up(client, card, amount, **fields)


def balance(db_session, account):
    db_session.expire_all()
    return db_session.get(Account, account.id).balance


def entries_total(db_session, account):
    return db_session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.account_id == account.id))


def the_payment(db_session) -> CardPayment:
    db_session.expire_all()
    return db_session.scalars(select(CardPayment)).one()


def test_the_page_asks_only_the_amount_never_the_card(signed_in):
    page = signed_in.get("/payments/topup").text
    assert "100.00" in page and 'name="amount"' in page and 'name="save_card"' in page
    for field in ("card_number", "expiry", "cvc", "cc-number"):
        assert field not in page
    assert "we never see the card number" in page


def test_the_form_creates_a_pending_payment_and_sends_the_customer_to_the_providers_page(signed_in, db_session,
                                                                                        account):
    response, _ = start_topup(signed_in, "500,50")
    payment = the_payment(db_session)
    assert response.status_code == 303 and response.location == f"/dev/pay/{payment.gateway_ref}"
    assert (payment.status, payment.amount, payment.provider) == ("pending", 50050, "dev")
    assert payment.confirmation_url == response.location and payment.card_last4 is None
    at_provider = db_session.scalars(select(DevPayment)).one()
    assert at_provider.idempotence_key == payment.idempotency_key and at_provider.amount == 50050
    assert at_provider.return_url == f"http://localhost/payments/{payment.token}"
    assert balance(db_session, account) == 10000
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "card_payment_started")).one()


def test_a_good_card_on_the_providers_page_tops_up_once_and_returns(signed_in, db_session, account):
    response, _ = top_up(signed_in, "4242 4242 4242 4242", "500,50")
    payment = the_payment(db_session)
    assert response.status_code == 303 and response.location == f"http://localhost/payments/{payment.token}"
    # The provider's webhook (in-process in development) decided it before the customer is back.
    assert payment.status == "confirmed" and payment.card_last4 == "4242" and payment.method_title == "card *4242"
    assert payment.confirmation_url is None
    assert balance(db_session, account) == 60050 == entries_total(db_session, account)
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "card_topup")).one()
    page = signed_in.get(response.location).text
    assert "600.50" in page and "card *4242" in page


def test_the_card_number_and_cvc_are_never_stored(signed_in, db_session, account):
    top_up(signed_in, save_card="y")
    dump = " ".join(str(v) for table in (CardPayment, CardToken, AuditEvent, LedgerEntry, DevPayment, DevMethod)
                    for row in db_session.scalars(select(table)) for v in vars(row).values())
    assert SUCCEEDS not in dump and "4242 4242" not in dump and "123" not in dump.split()
    token = db_session.scalars(select(CardToken)).one()
    assert token.last4 == "4242" and token.gateway_token.startswith("dev_tok_")


def test_a_declined_card_moves_nothing(signed_in, db_session, account):
    response, _ = top_up(signed_in, DECLINED)
    payment = the_payment(db_session)
    assert payment.status == "declined" and payment.decline_reason == "insufficient_funds"
    assert "declined" in signed_in.get(response.location).text
    assert balance(db_session, account) == 10000
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "card_payment_declined")).one()


def test_3ds_needs_the_code_on_the_banks_page_and_then_credits_once(signed_in, db_session, account):
    started, _ = start_topup(signed_in)
    asked = pay_on_provider_page(signed_in, started.location, NEEDS_3DS)
    assert asked.status_code == 303 and asked.location == started.location + "/3ds"
    assert the_payment(db_session).status == "pending" and balance(db_session, account) == 10000
    # Back on the portal meanwhile: the provider says pending, the page offers its page again.
    waiting = signed_in.get(f"/payments/{the_payment(db_session).token}").text
    assert "Continue to payment" in waiting and started.location in waiting
    page = signed_in.get(asked.location)
    assert page.status_code == 200 and 'name="code"' in page.text and "*3220" in page.text
    done = signed_in.post_form(asked.location, {"code": "1234"})
    assert done.status_code == 303 and the_payment(db_session).status == "confirmed"
    assert balance(db_session, account) == 60000
    again = signed_in.post_form(asked.location, {"code": "1234"})
    assert again.status_code == 303 and balance(db_session, account) == 60000


def test_three_wrong_3ds_codes_decline(signed_in, db_session, account):
    started, _ = start_topup(signed_in)
    asked = pay_on_provider_page(signed_in, started.location, NEEDS_3DS)
    for left in ("2 tries left", "1 try left"):
        wrong = signed_in.post_form(asked.location, {"code": "0000"})
        assert wrong.status_code == 422 and left in wrong.text and 'id="code-error"' in wrong.text
        assert the_payment(db_session).status == "pending"
    last = signed_in.post_form(asked.location, {"code": "0000"})
    assert last.status_code == 303 and last.location.startswith("http://localhost/payments/")
    payment = the_payment(db_session)
    assert payment.status == "declined" and payment.decline_reason == "3ds_failed"
    assert balance(db_session, account) == 10000


def test_a_right_3ds_code_after_a_wrong_one_pays(signed_in, db_session, account):
    started, _ = start_topup(signed_in)
    asked = pay_on_provider_page(signed_in, started.location, NEEDS_3DS)
    assert signed_in.post_form(asked.location, {"code": "0000"}).status_code == 422
    assert signed_in.post_form(asked.location, {"code": "1234"}).status_code == 303
    assert balance(db_session, account) == 60000


def test_the_same_form_twice_is_one_payment_here_and_at_the_provider(signed_in, db_session, account):
    first, data = start_topup(signed_in)
    again = signed_in.post_form("/payments/topup", data)
    assert again.status_code == 303 and again.location == first.location
    assert db_session.scalar(select(func.count()).select_from(CardPayment)) == 1
    assert db_session.scalar(select(func.count()).select_from(DevPayment)) == 1
    pay_on_provider_page(signed_in, first.location, SUCCEEDS)
    # After it is paid, the same form again lands on the payment's page, not on a new payment.
    after = signed_in.post_form("/payments/topup", data)
    assert after.status_code == 303 and after.location == f"/payments/{the_payment(db_session).token}"
    assert balance(db_session, account) == 60000


def decide_at_provider(db_session, status="succeeded", last4="4242"):
    """The provider decided (its webhook not arrived yet)."""
    at_provider = db_session.scalars(select(DevPayment)).one()
    at_provider.status, at_provider.card_last4 = status, last4
    db_session.commit()
    return at_provider.reference


def notify(client, reference, status="succeeded"):
    body = json.dumps({"event": f"payment.{status}", "object": {"id": reference, "status": status}})
    return client.post("/payments/webhook", data=body, content_type="application/json")


def test_the_webhook_twice_credits_once(signed_in, client, db_session, account):
    start_topup(signed_in)
    reference = decide_at_provider(db_session)
    for _ in range(2):
        assert notify(client, reference).status_code == 200  # no CSRF token: the provider calls it
    assert the_payment(db_session).status == "confirmed"
    assert balance(db_session, account) == 60000 == entries_total(db_session, account)


def test_the_webhook_body_is_not_believed(signed_in, client, db_session, account):
    start_topup(signed_in)
    reference = db_session.scalars(select(DevPayment.reference)).one()
    # "succeeded" says the body; the provider, asked, says pending: nothing moves.
    assert notify(client, reference, "succeeded").status_code == 200
    assert the_payment(db_session).status == "pending" and balance(db_session, account) == 10000
    assert notify(client, "dev_nonsense").status_code == 404
    assert client.post("/payments/webhook", data=b"[1]", content_type="application/json").status_code == 400
    assert client.post("/payments/webhook", data=b"not json").status_code == 400


def test_a_webhook_before_the_return_and_a_return_before_the_webhook_credit_once(signed_in, client, db_session,
                                                                                 account):
    start_topup(signed_in)
    reference = decide_at_provider(db_session)
    token = the_payment(db_session).token
    assert notify(client, reference).status_code == 200
    assert "600.00" in signed_in.get(f"/payments/{token}").text
    assert balance(db_session, account) == 60000
    # The other order, on a second payment: the return page asks the provider itself.
    second, _ = start_topup(signed_in, "100")
    second_payment = db_session.scalars(select(CardPayment).order_by(CardPayment.id.desc())).first()
    at_provider = db_session.scalars(select(DevPayment).where(DevPayment.reference == second_payment.gateway_ref)).one()
    at_provider.status, at_provider.card_last4 = "succeeded", "4242"
    db_session.commit()
    page = signed_in.get(f"/payments/{second_payment.token}")
    assert page.status_code == 200 and "700.00" in page.text
    assert notify(client, second_payment.gateway_ref).status_code == 200
    assert balance(db_session, account) == 70000 == entries_total(db_session, account)
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "card_topup")) == 2


def test_the_provider_down_on_the_return_page_and_on_the_webhook(signed_in, client, db_session, account,
                                                                  monkeypatch):
    start_topup(signed_in)
    reference = decide_at_provider(db_session)

    def down(self, reference):
        raise ProviderUnavailable("timed out")

    monkeypatch.setattr(DevProvider, "status", down)
    page = signed_in.get(f"/payments/{the_payment(db_session).token}")
    assert page.status_code == 200 and "Continue to payment" in page.text and 'http-equiv="refresh"' not in page.text
    assert notify(client, reference).status_code == 503  # the provider sends it again later
    assert balance(db_session, account) == 10000
    monkeypatch.undo()
    assert notify(client, reference).status_code == 200 and balance(db_session, account) == 60000


def test_the_provider_down_on_create_says_so_and_the_same_form_later_is_the_same_payment(signed_in, db_session,
                                                                                          account, monkeypatch):
    real = DevProvider.create_payment

    def down(self, **kwargs):
        raise ProviderUnavailable("timed out")

    monkeypatch.setattr(DevProvider, "create_payment", down)
    response, data = start_topup(signed_in)
    assert response.status_code == 422 and "not answering" in response.text
    assert key_in(response.text) == data["idempotency_key"]  # the form keeps its key: a retry is the same payment
    assert the_payment(db_session).status == "created"
    waiting = signed_in.get(f"/payments/{the_payment(db_session).token}").text
    assert "being processed" in waiting and '<meta http-equiv="refresh" content="10">' in waiting  # without JS too
    monkeypatch.setattr(DevProvider, "create_payment", real)
    again = signed_in.post_form("/payments/topup", data)
    assert again.status_code == 303 and "/dev/pay/" in again.location
    assert db_session.scalar(select(func.count()).select_from(CardPayment)) == 1
    assert the_payment(db_session).status == "pending"


def key_in(html: str) -> str:
    return re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', html).group(1)


@pytest.mark.parametrize("value, message", [
    ("0", "From ₽10 to ₽15,000"),
    ("-5", "cannot be negative"),
    ("9.99", "From ₽10 to ₽15,000"),
    ("15000.01", "From ₽10 to ₽15,000"),
    ("12.345", "Enter an amount"),
    ("1e3", "Enter an amount"),
    ("x" * 10_000, "Field cannot be longer"),
])
def test_a_bad_amount_is_refused_next_to_the_field(signed_in, db_session, account, value, message):
    response, _ = start_topup(signed_in, value)
    assert response.status_code == 422
    assert message in response.text and 'id="amount-error"' in response.text
    assert db_session.scalar(select(func.count()).select_from(CardPayment)) == 0
    assert db_session.scalar(select(func.count()).select_from(DevPayment)) == 0


@pytest.mark.parametrize("field, value, message", [
    ("card_number", "4242 4242 4242 4241", "Check the card number"),
    ("card_number", "abcd", "Check the card number"),
    ("expiry", "13/30", "MM/YY"),
    ("expiry", "01/20", "expired"),
    ("cvc", "12", "CVC"),
])
def test_bad_card_details_on_the_providers_page_are_refused_next_to_the_field(signed_in, db_session, account,
                                                                               field, value, message):
    started, _ = start_topup(signed_in)
    data = {"card_number": SUCCEEDS, "expiry": "08/40", "cvc": "123", field: value}
    response = signed_in.post_form(started.location, data)
    assert response.status_code == 422
    assert message in response.text and f'id="{field}-error"' in response.text
    assert 'name="cvc"' in response.text and 'value="123"' not in response.text  # the CVC is not sent back
    assert the_payment(db_session).status == "pending"


def test_the_providers_page_needs_its_csrf_token_and_a_known_payment(signed_in, client, db_session, account):
    started, _ = start_topup(signed_in)
    forged = signed_in.post(started.location, data={"card_number": SUCCEEDS, "expiry": "08/40", "cvc": "123"})
    assert forged.status_code == 400 and the_payment(db_session).status == "pending"
    assert signed_in.get("/dev/pay/dev_nonsense").status_code == 404
    page = signed_in.get(started.location).text
    assert "TestBank" in page and "4000 0000 0000 3220" in page and "500.00" in page


def test_cancel_on_the_providers_page_declines_and_returns(signed_in, db_session, account):
    started, _ = start_topup(signed_in)
    back = signed_in.post_form(started.location + "/cancel")
    payment = the_payment(db_session)
    assert back.status_code == 303 and back.location.endswith(f"/payments/{payment.token}")
    assert (payment.status, payment.decline_reason) == ("declined", "canceled_by_customer")
    # A decided payment's page says so instead of taking a card.
    assert "was not made" in signed_in.get(started.location).text


def test_someone_elses_payment_is_404_and_never_refreshed(signed_in, client, db_session, app, account):
    start_topup(signed_in)
    decide_at_provider(db_session)
    token = the_payment(db_session).token
    other = app.test_client()
    factories.ensure_login(db_session, "+79031112233")
    other.post_form("/auth/login", {"phone": "+79031112233", "password": factories.PASSWORD})
    assert other.get(f"/payments/{token}").status_code == 404
    assert the_payment(db_session).status == "pending"  # their visit did not even ask the provider
    assert signed_in.get("/payments/nonsense").status_code == 404


def test_htmx_errors_swap_the_form_and_success_goes_to_the_providers_page(signed_in, db_session, account):
    response, _ = start_topup(signed_in, "0", headers={"HX-Request": "true"})
    assert response.status_code == 422 and response.text.lstrip().startswith('<form id="topup-form"')
    done, _ = start_topup(signed_in, headers={"HX-Request": "true"})
    assert done.status_code == 204 and done.headers["HX-Redirect"].startswith("/dev/pay/")


@pytest.mark.parametrize("config_overrides", [{"PAYMENT_PROVIDER": ""}])
def test_without_a_provider_the_top_up_says_it_is_unavailable(signed_in, client, db_session, account):
    page = signed_in.get("/payments/topup")
    assert page.status_code == 200 and "Card payments are not available" in page.text
    assert 'name="amount"' not in page.text
    response = signed_in.post_form("/payments/topup", {"idempotency_key": "k" * 24, "amount": "500"})
    assert response.status_code == 503 and "not available" in response.text
    assert client.post("/payments/webhook", data=b"{}").status_code == 404
    assert db_session.scalar(select(func.count()).select_from(CardPayment)) == 0


def test_billing_verify(app, db_session, account):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["billing", "verify"])
    assert ok.exit_code == 0 and "Every balance" in ok.output
    account.balance += 1
    db_session.commit()
    broken = runner.invoke(args=["billing", "verify"])
    assert broken.exit_code == 1 and f"account {account.id}" in broken.output


# ---- saved cards ------------------------------------------------------------------------------------------------

@pytest.fixture
def saved_card(db_session, account):
    login_id = db_session.scalar(select(Login.id).where(Login.primary_account_id == account.id))
    return saved_dev_card(db_session, login_id)


def pay_saved(client, card_id, amount="300", key=None):
    if key is None:
        page = client.get("/payments/topup").text
        key = re.search(r'<input[^>]*name="saved-idempotency_key"[^>]*value="([^"]+)"', page).group(1)
    data = {"saved-idempotency_key": key, "saved-amount": amount, "saved-card": str(card_id)}
    return client.post("/payments/topup/saved", data={"saved-csrf_token": client.csrf_token(), **data}), key


def test_remember_this_card_saves_the_providers_token(signed_in, db_session, account):
    top_up(signed_in, save_card="y")
    card = db_session.scalars(select(CardToken)).one()
    at_provider = db_session.scalars(select(DevMethod)).one()
    assert card.gateway_token == at_provider.token and card.last4 == "4242"
    assert "•••• 4242" in signed_in.get("/payments/topup").text
    top_up(signed_in)  # not asked: nothing more saved
    assert db_session.scalar(select(func.count()).select_from(CardToken)) == 1


def test_a_saved_card_pays_in_one_tap_through_the_token(signed_in, db_session, account, saved_card):
    page = signed_in.get("/payments/topup").text
    assert "Pay with a saved card" in page and "•••• 4417" in page
    response, key = pay_saved(signed_in, saved_card.id)
    payment = the_payment(db_session)
    assert response.status_code == 303 and response.location == f"/payments/{payment.token}"
    assert payment.status == "confirmed" and payment.card_last4 == "4417" and payment.gateway_ref
    assert payment.card_token_id == saved_card.id
    assert balance(db_session, account) == 40000
    again, _ = pay_saved(signed_in, saved_card.id, key=key)  # the same form twice charges once
    assert again.status_code == 303 and balance(db_session, account) == 40000
    assert db_session.scalar(select(func.count()).select_from(DevPayment)) == 1
    assert "card_topup" in db_session.scalars(select(AuditEvent.action)).all()


def test_a_saved_card_that_fails_later_is_declined_in_one_tap(signed_in, db_session, account):
    top_up(signed_in, FAILS_LATER, save_card="y")
    card = db_session.scalars(select(CardToken)).one()
    assert card.last4 == "0341" and balance(db_session, account) == 60000
    response, _ = pay_saved(signed_in, card.id)
    payment = db_session.scalars(select(CardPayment).order_by(CardPayment.id.desc())).first()
    assert payment.status == "declined" and payment.decline_reason == "card_declined"
    assert "declined" in signed_in.get(response.location).text and balance(db_session, account) == 60000


def test_someone_elses_saved_card_cannot_be_used(signed_in, db_session, account):
    other = factories.make_login(db_session, factories.make_line(db_session, "+79031112233"))
    card = saved_dev_card(db_session, other.id, token="dev_tok_other", last4="9021")
    assert "•••• 9021" not in signed_in.get("/payments/topup").text
    response, _ = pay_saved(signed_in, card.id, key="k" * 24)
    assert response.status_code == 422
    assert db_session.scalar(select(func.count()).select_from(CardPayment)) == 0


def test_a_bad_amount_for_a_saved_card_is_shown_next_to_it(signed_in, db_session, account, saved_card):
    response, _ = pay_saved(signed_in, saved_card.id, amount="5")
    assert response.status_code == 422 and 'id="saved-amount-error"' in response.text
    assert db_session.scalar(select(func.count()).select_from(CardPayment)) == 0


def test_no_saved_card_no_saved_card_form(signed_in):
    assert "Pay with a saved card" not in signed_in.get("/payments/topup").text


def test_the_top_up_forms_need_their_csrf_token(signed_in, db_session, account, saved_card):
    page = signed_in.get("/payments/topup").text
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1)
    assert signed_in.post("/payments/topup", data={"idempotency_key": key, "amount": "500"}).status_code == 400
    saved = signed_in.post("/payments/topup/saved", data={"saved-idempotency_key": "k" * 24, "saved-amount": "300",
                                                          "saved-card": str(saved_card.id)})
    assert saved.status_code == 400
    assert db_session.scalar(select(func.count()).select_from(CardPayment)) == 0
    assert db_session.scalar(select(func.count()).select_from(DevPayment)) == 0
