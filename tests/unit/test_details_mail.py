"""Orders of call details sent over real SMTP (aiosmtpd on a free port), and the mail backends."""
import email
import io
import socket
from datetime import timedelta
from email import policy

import pytest
from flask_babel import to_user_timezone
from sqlalchemy import select

from portal.details_jobs import send_detail_order
from portal.mail import ConsoleMailer, mailer_from_config
from portal.models import DetailOrder, UsageRecord, utcnow
from tests import factories


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, envelope.rcpt_tos,
                              email.message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture
def config_overrides(request):
    return {}


def make_order(session, fmt="csv", locale="en"):
    account = factories.make_line(session, "+79161234567")
    account.customer.name = "Петрова Анна Сергеевна"
    login = factories.make_login(session, account)
    start = utcnow() - timedelta(days=1)
    for i in range(3):
        session.add(UsageRecord(account_id=account.id, started_at=start - timedelta(minutes=i), kind="call_out",
                                counterpart="+79031112233", quantity=61, cost=250))
    today = to_user_timezone(utcnow()).date()
    order = DetailOrder(account_id=account.id, login_id=login.id, period_start=today - timedelta(days=5),
                        period_end=today, format=fmt, email="anna@example.com", locale=locale,
                        idempotency_key=f"key-{fmt}-{locale}-0123456789")
    session.add(order)
    session.commit()
    return order.id


@pytest.mark.parametrize("fmt", ["csv", "pdf"])
def test_the_task_sends_the_file_over_smtp(app, db_session, smtp_server, fmt):
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port,
                      MAIL_FROM="portal@testtel.example")
    order_id = make_order(db_session, fmt)
    assert send_detail_order.delay(order_id) is not None
    order = db_session.get(DetailOrder, order_id)
    db_session.refresh(order)
    assert order.status == "sent" and order.sent_at and order.error is None
    [(sender, recipients, message)] = smtp_server.messages
    assert sender == "portal@testtel.example" and recipients == ["anna@example.com"]
    assert "+7 916 123-45-67" in message["Subject"]
    [attachment] = list(message.iter_attachments())
    content = attachment.get_content()
    if fmt == "csv":
        assert attachment.get_content_type() == "text/csv" and attachment.get_filename().endswith(".csv")
        text = content if isinstance(content, str) else content.decode("utf-8")
        assert text.lstrip("\ufeff").startswith("Time,Kind code") and text.count("+79031112233") == 3
    else:
        assert attachment.get_content_type() == "application/pdf" and content.startswith(b"%PDF")
    # A second run (a redelivered task) sends nothing more.
    send_detail_order.delay(order_id)
    assert len(smtp_server.messages) == 1


def test_an_unreachable_server_fails_the_order_with_the_reason(app, db_session):
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_TIMEOUT=2)
    order_id = make_order(db_session)
    send_detail_order.delay(order_id)
    order = db_session.scalar(select(DetailOrder).where(DetailOrder.id == order_id))
    db_session.refresh(order)
    assert order.status == "failed" and "ConnectionRefusedError" in order.error


def test_the_russian_order_gets_a_russian_letter(app, db_session, smtp_server):
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port)
    send_detail_order.delay(make_order(db_session, "pdf", "ru"))
    [(_, _, message)] = smtp_server.messages
    assert message.get_body(("plain",)).get_content()


def test_the_console_backend_prints_the_letter_without_the_file():
    from email.message import EmailMessage

    message = EmailMessage()
    message["To"], message["From"], message["Subject"] = "a@example.com", "p@example.com", "Details"
    message.set_content("Hello")
    message.add_attachment(b"%PDF-1.4 ...", maintype="application", subtype="pdf", filename="d.pdf")
    out = io.StringIO()
    ConsoleMailer(out).send(message)
    assert "[mail to a@example.com" in out.getvalue() and "d.pdf (12 bytes)" in out.getvalue()
    assert isinstance(mailer_from_config({"MAIL_BACKEND": "console"}), ConsoleMailer)
