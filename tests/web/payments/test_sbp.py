"""Top-ups by СБП through the portal's routes: the choice on the top-up form, the waiting page (the QR code as
inline SVG and the bank app's button), its poll, the outcome, the expiry, and the development provider's "bank app"
under /dev/sbp."""
import gzip
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.models import Account, AuditEvent, CardPayment, DevPayment, LedgerEntry, utcnow
from portal.payment_gateway import Confirmation, PaymentState, ProviderUnavailable
from portal.payment_gateway.dev import DevProvider
from tests import factories
from tests.helpers import key_of, start_topup

HX = {"HX-Request": "true"}
SBP_PAGE = re.compile(r"^/payments/([\w-]{24})/sbp$")


def the_payment(db_session) -> CardPayment:
    db_session.expire_all()
    return db_session.scalars(select(CardPayment)).one()


def at_provider(db_session) -> DevPayment:
    db_session.expire_all()
    return db_session.scalars(select(DevPayment)).one()


def balance(db_session, account):
    db_session.expire_all()
    return db_session.get(Account, account.id).balance


def start_sbp(client, amount="500", **kwargs):
    """The top-up form with СБП chosen: answers a 303 to the portal's waiting page."""
    return start_topup(client, amount, method="sbp", **kwargs)


def approve_in_bank_app(client, reference, answer="approve"):
    return client.post_form(f"/dev/sbp/{reference}", {"answer": answer})


def test_the_top_up_form_offers_a_card_or_sbp(signed_in):
    page = signed_in.get("/payments/topup").text
    assert re.search(r'<input checked[^>]*name="method"[^>]*value="card"', page)
    assert re.search(r'<input[^>]*name="method"[^>]*value="sbp"', page) and "<legend>How to pay</legend>" in page
    assert "SBP, the Faster Payments System" in page


def test_choosing_sbp_opens_the_waiting_page_with_the_qr_code_and_the_bank_app_button(signed_in, db_session,
                                                                                       account):
    response, _ = start_sbp(signed_in, "500,50", save_card="y")
    payment = the_payment(db_session)
    assert response.status_code == 303 and response.location == f"/payments/{payment.token}/sbp"
    reference = payment.gateway_ref
    assert (payment.method, payment.status, payment.amount, payment.save_card) == ("sbp", "pending", 50050, False)
    assert payment.confirmation_url == f"/dev/sbp/{reference}"
    assert payment.qr_payload == f"http://localhost/dev/sbp/{reference}?type=02&sum=50050&cur=RUB"
    assert payment.expires_at == at_provider(db_session).expires_at
    page = signed_in.get(response.location)
    html = page.text
    assert page.status_code == 200 and "Payment of ₽500.50 through SBP" in html
    svg = re.search(r'<svg [^>]*class="qr"[^>]*>.*?</svg>', html, re.S).group(0)
    assert 'role="img"' in svg and 'aria-label="QR code of the payment"' in svg and 'class="qr"' in svg
    assert "style" not in svg and "<script" not in svg and 'viewBox="0 0' in svg
    assert f'<a class="button primary" href="/dev/sbp/{reference}" hx-boost="false">Open the bank app</a>' in html
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in html  # without JS it reloads itself
    assert 'hx-trigger="every 3s"' in html and "The code is valid until" in html
    assert len(gzip.compress(page.data)) <= 14 * 1024
    assert balance(db_session, account) == 10000


def test_with_htmx_the_form_sends_the_browser_to_the_waiting_page(signed_in, db_session, account):
    done, _ = start_sbp(signed_in, headers=HX)
    assert done.status_code == 204 and SBP_PAGE.match(done.headers["HX-Redirect"])


def test_the_poll_answers_204_while_waiting_then_the_outcome(signed_in, db_session, account):
    start_sbp(signed_in)
    payment = the_payment(db_session)
    url = f"/payments/{payment.token}/sbp"
    waiting = signed_in.get(url, headers=HX)
    assert waiting.status_code == 204 and waiting.data == b"" and "HX-Request" in waiting.headers["Vary"]
    paid = approve_in_bank_app(signed_in, payment.gateway_ref)
    assert paid.status_code == 303 and paid.location == f"http://localhost/payments/{payment.token}"
    assert the_payment(db_session).status == "confirmed" and balance(db_session, account) == 60000
    outcome = signed_in.get(url, headers=HX)
    assert outcome.status_code == 200 and outcome.headers["HX-Retarget"] == "#sbp-payment"
    assert outcome.headers["HX-Reswap"] == "outerHTML"
    assert outcome.text.lstrip().startswith('<section id="sbp-payment"') and "<h1>" not in outcome.text
    assert "Paid through SBP" in outcome.text and "₽600.00" in outcome.text
    assert "<svg" not in outcome.text and "hx-trigger" not in outcome.text
    assert len(gzip.compress(outcome.data)) <= 3 * 1024


def test_a_decided_payment_shows_the_result_and_stops_waiting(signed_in, db_session, account):
    start_sbp(signed_in)
    payment = the_payment(db_session)
    approve_in_bank_app(signed_in, payment.gateway_ref)
    for url in (f"/payments/{payment.token}/sbp", f"/payments/{payment.token}"):
        page = signed_in.get(url).text
        assert "Paid through SBP. The money is on your balance." in page and "Balance now: ₽600.00" in page
        assert 'http-equiv="refresh"' not in page and "every 3s" not in page and 'class="qr"' not in page
    entry = db_session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "card_topup")).one()
    assert entry.params == {"kind": "sbp_payment"}
    assert "Paid through SBP" in signed_in.get("/payments/history").text


def test_declined_in_the_bank_app(signed_in, db_session, account):
    start_sbp(signed_in)
    payment = the_payment(db_session)
    assert approve_in_bank_app(signed_in, payment.gateway_ref, "decline").status_code == 303
    assert (the_payment(db_session).status, the_payment(db_session).decline_reason) == \
        ("declined", "canceled_by_customer")
    page = signed_in.get(f"/payments/{payment.token}/sbp").text
    assert "The payment was not made. No money was taken." in page
    assert 'href="/payments/topup?method=sbp">Try again' in page
    assert balance(db_session, account) == 10000


def test_the_return_page_of_a_waiting_sbp_payment_leads_to_the_waiting_page(signed_in, db_session, account):
    start_sbp(signed_in)
    token = the_payment(db_session).token
    back = signed_in.get(f"/payments/{token}")
    assert back.status_code == 303 and back.location == f"/payments/{token}/sbp"


def expire_now(db_session):
    """The payment's time ran out here and at the provider."""
    past = utcnow() - timedelta(seconds=1)
    payment, dev = the_payment(db_session), at_provider(db_session)
    payment.expires_at = dev.expires_at = past
    db_session.commit()
    return payment


def test_an_expired_payment_says_so_and_offers_a_new_one(signed_in, db_session, account):
    start_sbp(signed_in, "500")
    payment = expire_now(db_session)
    page = signed_in.get(f"/payments/{payment.token}/sbp")
    assert page.status_code == 200 and "The time to pay has run out. No money was taken." in page.text
    again = "/payments/topup?method=sbp&amp;amount=500.00"
    assert f'href="{again}">Try again' in page.text
    assert 'http-equiv="refresh"' not in page.text and "every 3s" not in page.text and 'class="qr"' not in page.text
    payment = the_payment(db_session)
    assert (payment.status, payment.decline_reason) == ("declined", "expired")
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "card_payment_declined")).one()
    # "Try again": the form comes filled in; sending it is a new payment.
    form = signed_in.get(again.replace("&amp;", "&")).text
    assert 'value="500.00"' in form and re.search(r'<input checked[^>]*name="method"[^>]*value="sbp"', form)
    response = signed_in.post_form("/payments/topup", {"idempotency_key": key_of(form), "amount": "500.00",
                                                       "method": "sbp"})
    assert response.status_code == 303 and SBP_PAGE.match(response.location)
    assert db_session.scalar(select(func.count()).select_from(CardPayment)) == 2
    # A payment in the bank app after the expiry is refused there.
    assert "was not made" in signed_in.get(f"/dev/sbp/{payment.gateway_ref}").text


def test_past_the_expiry_with_the_provider_down_the_page_says_expired(signed_in, db_session, account, monkeypatch):
    start_sbp(signed_in)
    payment = the_payment(db_session)
    payment.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()

    def down(self, reference):
        raise ProviderUnavailable("timed out")

    monkeypatch.setattr(DevProvider, "status", down)
    polled = signed_in.get(f"/payments/{payment.token}/sbp", headers=HX)
    assert polled.status_code == 200 and "The time to pay has run out" in polled.text
    assert the_payment(db_session).status == "pending"  # the provider has not said so: a late payment still counts


def test_the_provider_is_asked_at_most_once_per_period_by_a_polling_page(signed_in, db_session, account,
                                                                          monkeypatch):
    start_sbp(signed_in)
    payment = the_payment(db_session)
    asked = []
    real = DevProvider.status

    def counting(self, reference):
        asked.append(reference)
        return real(self, reference)

    monkeypatch.setattr(DevProvider, "status", counting)
    for _ in range(4):
        assert signed_in.get(f"/payments/{payment.token}/sbp", headers=HX).status_code == 204
    assert len(asked) == 1
    payment = the_payment(db_session)
    payment.asked_at -= timedelta(seconds=5)  # PAYMENT_ASK_EVERY later
    db_session.commit()
    signed_in.get(f"/payments/{payment.token}/sbp", headers=HX)
    assert len(asked) == 2


def test_the_poll_sees_what_the_webhook_recorded_without_asking_again(signed_in, client, db_session, account,
                                                                      monkeypatch):
    start_sbp(signed_in)
    payment = the_payment(db_session)
    signed_in.get(f"/payments/{payment.token}/sbp", headers=HX)  # asked now
    dev = at_provider(db_session)
    dev.status = "succeeded"
    db_session.commit()
    body = '{"event": "payment.succeeded", "object": {"id": "%s"}}' % dev.reference
    assert client.post("/payments/webhook", data=body, content_type="application/json").status_code == 200
    outcome = signed_in.get(f"/payments/{payment.token}/sbp", headers=HX)
    assert outcome.status_code == 200 and "Paid through SBP" in outcome.text
    assert balance(db_session, account) == 60000


def test_someone_elses_sbp_payment_is_404_and_never_asked(signed_in, app, db_session, account):
    start_sbp(signed_in)
    token = the_payment(db_session).token
    other = app.test_client()
    factories.ensure_login(db_session, "+79031112233")
    other.post_form("/auth/login", {"phone": "+79031112233", "password": factories.PASSWORD})
    assert other.get(f"/payments/{token}/sbp").status_code == 404
    assert other.get(f"/payments/{token}/sbp", headers=HX).status_code == 404
    assert the_payment(db_session).asked_at is None
    assert signed_in.get("/payments/nonsense/sbp").status_code == 404


def test_a_card_payments_sbp_page_is_its_status_page(signed_in, db_session, account):
    start_topup(signed_in)
    token = the_payment(db_session).token
    response = signed_in.get(f"/payments/{token}/sbp")
    assert response.status_code == 303 and response.location == f"/payments/{token}"


def test_a_provider_without_a_qr_payload_sends_the_customer_to_its_page(signed_in, db_session, account,
                                                                          monkeypatch):
    def page_only(self, **kwargs):
        return PaymentState("ext_1", "pending", confirmation=Confirmation("redirect", url="/dev/pay/ext_1"))

    monkeypatch.setattr(DevProvider, "create_payment", page_only)
    response, _ = start_sbp(signed_in)
    payment = the_payment(db_session)
    assert response.status_code == 303 and response.location == "/dev/pay/ext_1"
    assert (payment.method, payment.qr_payload) == ("sbp", None)
    monkeypatch.setattr(DevProvider, "status", lambda self, reference: PaymentState(reference, "pending"))
    assert signed_in.get(f"/payments/{payment.token}/sbp").location == f"/payments/{payment.token}"


def test_an_unknown_method_is_refused_next_to_the_field(signed_in, db_session, account):
    response, _ = start_topup(signed_in, method="cash")
    assert response.status_code == 422 and 'id="method-error"' in response.text
    assert db_session.scalar(select(func.count()).select_from(CardPayment)) == 0


def test_the_sbp_forms_need_their_csrf_token(signed_in, db_session, account):
    page = signed_in.get("/payments/topup").text
    refused = signed_in.post("/payments/topup", data={"idempotency_key": key_of(page), "amount": "500",
                                                      "method": "sbp"})
    assert refused.status_code == 400 and db_session.scalar(select(func.count()).select_from(CardPayment)) == 0
    start_sbp(signed_in)
    reference = the_payment(db_session).gateway_ref
    assert signed_in.post(f"/dev/sbp/{reference}", data={"answer": "approve"}).status_code == 400
    assert the_payment(db_session).status == "pending"


# ---- the development provider's "bank app" ------------------------------------------------------------------------

def test_the_bank_app_page_shows_the_payment_and_its_two_answers(signed_in, db_session, account):
    start_sbp(signed_in, "250")
    reference = the_payment(db_session).gateway_ref
    page = signed_in.get(f"/dev/sbp/{reference}")
    assert page.status_code == 200 and "TestBank" in page.text and "₽250.00" in page.text
    assert 'name="answer" value="approve"' in page.text and 'name="answer" value="decline"' in page.text
    assert signed_in.post_form(f"/dev/sbp/{reference}", {"answer": "maybe"}).status_code == 400
    assert signed_in.get("/dev/sbp/dev_nonsense").status_code == 404
    # Its card page is not for it, and a card's payment has no bank app.
    assert signed_in.get(f"/dev/pay/{reference}").location == f"/dev/sbp/{reference}"
    approve_in_bank_app(signed_in, reference)
    assert "This payment is done." in signed_in.get(f"/dev/sbp/{reference}").text
    assert approve_in_bank_app(signed_in, reference).status_code == 200  # answered again: nothing more happens
    assert balance(db_session, account) == 35000


def test_a_card_payment_has_no_bank_app(signed_in, db_session, account):
    started, _ = start_topup(signed_in)
    reference = the_payment(db_session).gateway_ref
    assert signed_in.get(f"/dev/sbp/{reference}").location == f"/dev/pay/{reference}"


@pytest.mark.parametrize("config_overrides", [{"PAYMENT_DEV_SBP_SECONDS": 1}])
def test_the_dev_sbp_expiry_is_configurable(signed_in, db_session, account):
    start_sbp(signed_in)
    dev = at_provider(db_session)
    assert dev.expires_at - dev.created_at == timedelta(seconds=1)


def test_the_poll_is_cheap_in_queries(signed_in, db_session, account, count_queries):
    start_sbp(signed_in)
    url = f"/payments/{the_payment(db_session).token}/sbp"
    with count_queries() as asking:
        assert signed_in.get(url, headers=HX).status_code == 204  # the provider asked
    with count_queries() as not_asking:
        assert signed_in.get(url, headers=HX).status_code == 204  # within the period: the database only
    # Signed-in session, accounts, the payment; then the claim of the ask, the provider's own row and a re-read.
    assert len(not_asking) <= 5 and len(asking) <= 8, (len(not_asking), len(asking))
