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
