import hashlib
import hmac
import json
import re

import pytest
from sqlalchemy import func, select

from portal.models import Account, AuditEvent, CardPayment, CardToken, LedgerEntry, Login
from portal.payment_gateway.test_mode import DECLINED, NEEDS_3DS, SUCCEEDS
from tests import factories
from tests.helpers import key_of

SECRET = "webhook-secret"


@pytest.fixture


def config_overrides():
    return {"PAYMENT_WEBHOOK_SECRET": SECRET}


@pytest.fixture


def account(db_session):
    account = factories.make_line(db_session, "+79161234567", balance=10000)
    factories.make_login(db_session, account)
    db_session.commit()
    return account


@pytest.fixture


def signed_in(client, account):
    client.post_form("/auth/login", {"phone": "+79161234567", "password": factories.PASSWORD})
    return client



def pay(client, card=SUCCEEDS, amount="500", headers=None, **fields):
    page = client.get("/payments/topup")
    data = {"idempotency_key": key_of(page.text), "amount": amount, "card_number": card, "expiry": "08/40",
            "cvc": "123", **fields}
    return client.post_form("/payments/topup", data, headers=headers or {}), data


def balance(db_session, account):
    db_session.expire_all()
    return db_session.get(Account, account.id).balance


def entries_total(db_session, account):
    return db_session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.account_id == account.id))


def test_the_page_shows_the_balance_and_the_test_cards(signed_in):
    page = signed_in.get("/payments/topup").text
    assert "100.00" in page and "4242 4242 4242 4242" in page and 'autocomplete="cc-number"' in page


def test_the_expiry_field_gives_a_keyboard_with_a_slash_and_takes_four_digits(signed_in, db_session, account):
    page = signed_in.get("/payments/topup").text
    field = re.search(r'<input[^>]*name="expiry"[^>]*>', page).group(0)
    assert 'inputmode="text"' in field and 'inputmode="numeric"' not in field
    response, _ = pay(signed_in, expiry="1240")
    assert response.status_code == 303 and balance(db_session, account) == 60000


def test_a_good_card_tops_up_once_and_is_audited(signed_in, db_session, account):
    response, _ = pay(signed_in, card="4242 4242 4242 4242", amount="500,50")
    assert response.status_code == 303
    payment = db_session.scalars(select(CardPayment)).one()
    assert response.location == f"/payments/{payment.token}"
    assert payment.status == "confirmed" and payment.amount == 50050 and payment.card_last4 == "4242"
    assert balance(db_session, account) == 60050 == entries_total(db_session, account)
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "card_topup")).one()
    assert "600.50" in signed_in.get(response.location).text


def test_the_card_number_and_cvc_are_never_stored(signed_in, db_session, account):
    pay(signed_in, save_card="y")
    dump = " ".join(str(v) for table in (CardPayment, CardToken, AuditEvent, LedgerEntry)
                    for row in db_session.scalars(select(table)) for v in vars(row).values())
    assert SUCCEEDS not in dump and "4242 4242" not in dump
    token = db_session.scalars(select(CardToken)).one()
    assert token.last4 == "4242" and token.gateway_token.startswith("tok_")


def test_a_declined_card_moves_nothing(signed_in, db_session, account):
    response, _ = pay(signed_in, card=DECLINED)
    payment = db_session.scalars(select(CardPayment)).one()
    assert payment.status == "declined" and payment.decline_reason == "insufficient_funds"
    assert "declined" in signed_in.get(response.location).text
    assert balance(db_session, account) == 10000


def test_3ds_needs_the_code_and_then_credits_once(signed_in, db_session, account):
    response, _ = pay(signed_in, card=NEEDS_3DS)
    payment = db_session.scalars(select(CardPayment)).one()
    assert payment.status == "awaiting_3ds" and response.location == f"/payments/{payment.token}/3ds"
    assert balance(db_session, account) == 10000
    page = signed_in.get(response.location)
    assert page.status_code == 200 and 'name="code"' in page.text
    done = signed_in.post_form(response.location, {"code": "1234"})
    assert done.status_code == 303
    assert balance(db_session, account) == 60000
    again = signed_in.post_form(response.location, {"code": "1234"})
    assert again.status_code == 303 and balance(db_session, account) == 60000


def test_three_wrong_3ds_codes_decline(signed_in, db_session, account):
    response, _ = pay(signed_in, card=NEEDS_3DS)
    for left in ("2 tries left", "1 try left"):
        wrong = signed_in.post_form(response.location, {"code": "0000"})
        assert wrong.status_code == 422 and left in wrong.text and 'id="code-error"' in wrong.text
        assert db_session.scalars(select(CardPayment)).one().status == "awaiting_3ds"
    last = signed_in.post_form(response.location, {"code": "0000"})
    assert last.status_code == 303
    db_session.expire_all()
    payment = db_session.scalars(select(CardPayment)).one()
    assert payment.status == "declined" and payment.three_ds_failures == 3
    assert balance(db_session, account) == 10000
    actions = db_session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("card_%"))).all()
    assert actions.count("card_3ds_wrong_code") == 2 and "card_payment_declined" in actions
    assert "Wrong code on the bank" in signed_in.get("/archive").text


def test_a_right_3ds_code_after_a_wrong_one_pays(signed_in, db_session, account):
    response, _ = pay(signed_in, card=NEEDS_3DS)
    assert signed_in.post_form(response.location, {"code": "0000"}).status_code == 422
    assert signed_in.post_form(response.location, {"code": "1234"}).status_code == 303
    assert balance(db_session, account) == 60000


def test_the_same_form_twice_charges_once(signed_in, db_session, account):
    _, data = pay(signed_in)
    again = signed_in.post_form("/payments/topup", data)
    assert again.status_code == 303
    assert db_session.scalar(select(func.count()).select_from(CardPayment)) == 1
    assert balance(db_session, account) == 60000


def signed_post(client, payload, secret=SECRET):
    body = json.dumps(payload).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post("/payments/callback", data=body, content_type="application/json",
                       headers={"X-Signature": signature})


def test_the_gateway_callback_twice_credits_once(signed_in, client, db_session, account):
    pay(signed_in, card=NEEDS_3DS)
    payment = db_session.scalars(select(CardPayment)).one()
    for _ in range(2):
        assert signed_post(client, {"reference": payment.gateway_ref, "status": "succeeded"}).status_code == 200
    assert balance(db_session, account) == 60000 == entries_total(db_session, account)
    # A late decline after the confirmation changes nothing either.
    signed_post(client, {"reference": payment.gateway_ref, "status": "declined"})
    assert db_session.scalars(select(CardPayment)).one().status == "confirmed"


def test_a_callback_after_the_synchronous_confirmation_changes_nothing(signed_in, client, db_session, account):
    pay(signed_in)
    payment = db_session.scalars(select(CardPayment)).one()
    signed_post(client, {"reference": payment.gateway_ref, "status": "succeeded"})
    assert balance(db_session, account) == 60000


def test_an_unsigned_or_forged_callback_is_refused(client, signed_in, db_session, account):
    pay(signed_in, card=NEEDS_3DS)
    payment = db_session.scalars(select(CardPayment)).one()
    assert signed_post(client, {"reference": payment.gateway_ref, "status": "succeeded"},
                       secret="guess").status_code == 403
    assert client.post("/payments/callback", data=b"{}", content_type="application/json").status_code == 403
    assert signed_post(client, {"reference": "nope", "status": "succeeded"}).status_code == 404
    assert signed_post(client, ["not", "an", "object"]).status_code == 400
    assert balance(db_session, account) == 10000


@pytest.mark.parametrize("config_overrides", [{}])


def test_the_callback_is_off_without_a_secret(client, config_overrides):
    assert client.post("/payments/callback", data=b"{}").status_code == 404


@pytest.mark.parametrize("field, value, message", [
    ("amount", "0", "From ₽10 to ₽15,000"),
    ("amount", "-5", "cannot be negative"),
    ("amount", "9.99", "From ₽10 to ₽15,000"),
    ("amount", "15000.01", "From ₽10 to ₽15,000"),
    ("amount", "12.345", "Enter an amount"),
    ("amount", "1e3", "Enter an amount"),
    ("amount", "x" * 10_000, "Field cannot be longer"),
    ("card_number", "4242 4242 4242 4241", "Check the card number"),
    ("card_number", "abcd", "Check the card number"),
    ("expiry", "13/30", "MM/YY"),
    ("expiry", "01/20", "expired"),
    ("cvc", "12", "CVC"),
])


def test_bad_input_is_refused_next_to_the_field(signed_in, db_session, account, field, value, message):
    response, _ = pay(signed_in, **{field: value})
    assert response.status_code == 422
    assert message in response.text and f'id="{field}-error"' in response.text
    assert db_session.scalar(select(func.count()).select_from(CardPayment)) == 0
    assert 'name="cvc"' in response.text and 'value="123"' not in response.text  # the CVC is not sent back


def test_someone_elses_payment_is_404(signed_in, client, db_session, app, account):
    pay(signed_in)
    token = db_session.scalars(select(CardPayment)).one().token
    other = app.test_client()
    factories.ensure_login(db_session, "+79031112233")
    other.post_form("/auth/login", {"phone": "+79031112233", "password": factories.PASSWORD})
    assert other.get(f"/payments/{token}").status_code == 404
    assert other.get(f"/payments/{token}/3ds").status_code == 404
    assert signed_in.get("/payments/nonsense").status_code == 404


def test_htmx_errors_swap_the_form_and_success_redirects(signed_in, db_session, account):
    response, _ = pay(signed_in, amount="0", headers={"HX-Request": "true"})
    assert response.status_code == 422 and response.text.lstrip().startswith('<form id="topup-form"')
    done, _ = pay(signed_in, headers={"HX-Request": "true"})
    assert done.status_code == 204 and done.headers["HX-Redirect"].startswith("/payments/")


def test_billing_verify(app, db_session, account):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["billing", "verify"])
    assert ok.exit_code == 0 and "Every balance" in ok.output
    account.balance += 1
    db_session.commit()
    broken = runner.invoke(args=["billing", "verify"])
    assert broken.exit_code == 1 and f"account {account.id}" in broken.output


def test_a_3ds_payment_declined_and_then_confirmed_by_the_gateway_is_credited_once(signed_in, client, db_session,
                                                                                   account):
    response, _ = pay(signed_in, card=NEEDS_3DS)
    for _ in range(3):  # three wrong codes: the bank's first answer is a decline
        signed_in.post_form(response.location, {"code": "0000"})
    payment = db_session.scalars(select(CardPayment)).one()
    assert payment.status == "declined"
    for _ in range(2):  # then its word that the money did leave the card, twice
        assert signed_post(client, {"reference": payment.gateway_ref, "status": "succeeded"}).status_code == 200
    db_session.expire_all()
    assert db_session.scalars(select(CardPayment)).one().status == "confirmed"
    assert balance(db_session, account) == 60000 == entries_total(db_session, account)


@pytest.fixture
def saved_card(db_session, account):
    login_id = db_session.scalar(select(Login.id).where(Login.primary_account_id == account.id))
    card = CardToken(login_id=login_id, gateway_token="tok_saved_4417", last4="4417", expiry="09/29")
    db_session.add(card)
    db_session.commit()
    return card


def pay_saved(client, card_id, amount="300", key=None):
    if key is None:
        page = client.get("/payments/topup").text
        key = re.search(r'<input[^>]*name="saved-idempotency_key"[^>]*value="([^"]+)"', page).group(1)
    data = {"saved-idempotency_key": key, "saved-amount": amount, "saved-card": str(card_id)}
    return client.post("/payments/topup/saved", data={"saved-csrf_token": client.csrf_token(), **data}), key


def test_a_saved_card_is_offered_and_pays_through_the_token(signed_in, db_session, account, saved_card):
    page = signed_in.get("/payments/topup").text
    assert "Pay with a saved card" in page and "•••• 4417" in page
    response, key = pay_saved(signed_in, saved_card.id)
    assert response.status_code == 303
    payment = db_session.scalars(select(CardPayment)).one()
    assert payment.status == "confirmed" and payment.card_last4 == "4417" and payment.gateway_ref
    assert balance(db_session, account) == 40000
    again, _ = pay_saved(signed_in, saved_card.id, key=key)  # the same form twice charges once
    assert again.status_code == 303 and balance(db_session, account) == 40000
    assert "card_topup" in db_session.scalars(select(AuditEvent.action)).all()


def test_someone_elses_saved_card_cannot_be_used(signed_in, db_session, account):
    other = factories.make_login(db_session, factories.make_line(db_session, "+79031112233"))
    card = CardToken(login_id=other.id, gateway_token="tok_other", last4="9021", expiry="09/29")
    db_session.add(card)
    db_session.commit()
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
