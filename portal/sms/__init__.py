"""SMS gateways: one protocol, a development outbox and an HTTP provider backend."""
from typing import Protocol


class SmsSendError(Exception):
    """The gateway did not accept the message; the delivery job may retry."""


class SmsGateway(Protocol):
    def send(self, to: str, text: str, *, sender: str) -> str:
        """Hand the message to the network; return the provider's message id."""


def gateway_from_config(config) -> SmsGateway:
    if config["SMS_BACKEND"] == "http":
        from portal.sms.http import HttpGateway

        return HttpGateway(config["SMS_HTTP_URL"], config["SMS_HTTP_TOKEN"], timeout=config["SMS_HTTP_TIMEOUT"])
    from portal.sms.outbox import OutboxGateway

    return OutboxGateway()
