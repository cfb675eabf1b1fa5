"""SMS gateways: one protocol, a development outbox and an HTTP provider backend; and the operator's SMSC over SMPP,
which is not a gateway called per message but a process holding a bind (portal.sms.smpp_process)."""
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
    if config["SMS_BACKEND"] == "smpp":
        raise ValueError("SMS_BACKEND=smpp: messages are sent by the `flask sms smpp` process, not per call")
    from portal.sms.outbox import OutboxGateway

    return OutboxGateway()
