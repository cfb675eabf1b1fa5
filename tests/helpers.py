import re

from sqlalchemy import select

from portal.domain.captcha import answer_for
from portal.models import SmsMessage


def captcha_token(html: str) -> str:
    return re.search(r'name="captcha_token" value="([^"]+)"', html).group(1)


def solve(app, token: str) -> str:
    return answer_for(token, key=app.config["SECRET_KEY"], length=app.config["CAPTCHA_LENGTH"])


def request_password(client, phone: str = "+79161234567", *, answer: str | None = None, **extra):
    """Open the SMS-password page and post it with the right (or the given) captcha answer."""
    page = client.get("/auth/password", query_string={"phone": phone}, **extra)
    token = captcha_token(page.text)
    answer = solve(client.application, token) if answer is None else answer
    return client.post_form("/auth/password", {"phone": phone, "captcha_token": token, "captcha": answer}, **extra)


def sent_password(db_session, msisdn: str = "+79161234567") -> str:
    message = db_session.scalars(
        select(SmsMessage).where(SmsMessage.to == msisdn).order_by(SmsMessage.id.desc())
    ).first()
    return re.search(r"(?:password|пароль) (\w+)", message.text).group(1)


def key_of(html: str) -> str:
    """The idempotency key a rendered form carries."""
    return re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', html).group(1)


# ---- card payments through the development provider's hosted page ----------------------------------------------

def pay_on_provider_page(client, page_url: str, card: str, *, expiry: str = "08/40", cvc: str = "123",
                         code: str | None = None):
    """The customer on the development provider's page: the card, then the 3-D Secure code if asked.

    Returns the provider's last answer (a 303 to the shop's return URL once decided)."""
    client.get(page_url)
    response = client.post_form(page_url, {"card_number": card, "expiry": expiry, "cvc": cvc})
    if code is not None and response.status_code == 303 and response.location.endswith("/3ds"):
        response = client.post_form(response.location, {"code": code})
    return response


def start_topup(client, amount: str = "500", *, headers=None, **fields):
    """The portal's top-up form: the amount (and "remember this card"); answers a 303 to the provider's page."""
    page = client.get("/payments/topup")
    data = {"idempotency_key": key_of(page.text), "amount": amount, **fields}
    return client.post_form("/payments/topup", data, headers=headers or {}), data


def top_up(client, card: str | None = None, amount: str = "500", *, code: str | None = None, **fields):
    """A whole top-up: the portal's form, then the card on the provider's page. Returns (the provider's last
    answer, the portal form's data)."""
    from portal.payment_gateway.dev import SUCCEEDS

    started, data = start_topup(client, amount, **fields)
    if started.status_code != 303 or "/dev/pay/" not in started.location:
        return started, data
    return pay_on_provider_page(client, started.location, card or SUCCEEDS, code=code), data


def saved_dev_card(db_session, login_id: int, *, token: str = "dev_tok_saved_4417", last4: str = "4417",
                   fails_later: bool = False):
    """A card saved at the development provider and its token at the portal."""
    from portal.models import CardToken, DevMethod

    db_session.add(DevMethod(token=token, last4=last4, fails_later=fails_later))
    card = CardToken(login_id=login_id, gateway_token=token, last4=last4, expiry="")
    db_session.add(card)
    db_session.commit()
    return card
