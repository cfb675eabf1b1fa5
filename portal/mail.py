"""E-mail backends: the console (development) and SMTP with the standard library.

Like the SMS gateways: ``MAIL_BACKEND = "console"`` prints the message (without the
attachment's bytes) so a developer without a mail server still sees what was sent.
"""
import smtplib
import sys
from email.message import EmailMessage


class ConsoleMailer:
    def __init__(self, stream=None):
        self.stream = stream

    def send(self, message: EmailMessage) -> None:
        files = [f"{part.get_filename()} ({len(part.get_content())} bytes)" for part in message.iter_attachments()]
        body = message.get_body(("plain",))
        print(f"[mail to {message['To']} from {message['From']}] {message['Subject']}\n"
              f"{body.get_content() if body else ''}\n[attachments: {', '.join(files) or 'none'}]",
              file=self.stream or sys.stderr, flush=True)


class SmtpMailer:
    def __init__(self, host: str, port: int, *, use_tls: bool = False, use_ssl: bool = False,
                 username: str | None = None, password: str | None = None, timeout: float = 30):
        self.host, self.port, self.use_tls, self.use_ssl = host, port, use_tls, use_ssl
        self.username, self.password, self.timeout = username, password, timeout

    def send(self, message: EmailMessage) -> None:
        factory = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
        with factory(self.host, self.port, timeout=self.timeout) as smtp:
            if self.use_tls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


def mailer_from_config(config):
    if config["MAIL_BACKEND"] == "smtp":
        return SmtpMailer(config["MAIL_SERVER"], config["MAIL_PORT"], use_tls=config["MAIL_USE_TLS"],
                          use_ssl=config["MAIL_USE_SSL"], username=config["MAIL_USERNAME"],
                          password=config["MAIL_PASSWORD"], timeout=config["MAIL_TIMEOUT"])
    return ConsoleMailer()
