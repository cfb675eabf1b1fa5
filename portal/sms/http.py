import http.client
import urllib.error

from portal.jsonapi import post_json
from portal.sms import SmsSendError


class HttpGateway:
    """A provider's HTTP API: POST JSON {to, text, sender} with a bearer token; expects {"id": ...}."""

    def __init__(self, url: str, token: str | None, *, timeout: float = 5):
        self.url = url
        self.token = token
        self.timeout = timeout

    def send(self, to: str, text: str, *, sender: str) -> str:
        try:
            payload = post_json(self.url, {"to": to, "text": text, "sender": sender}, token=self.token,
                                timeout=self.timeout)
        except urllib.error.HTTPError as err:
            raise SmsSendError(f"provider answered HTTP {err.code}") from None
        except (OSError, http.client.HTTPException, ValueError) as err:  # URLError and timeouts are OSErrors
            raise SmsSendError(f"provider unreachable: {err}") from None
        if not isinstance(payload, dict) or not payload.get("id"):
            raise SmsSendError("provider gave no message id")
        return str(payload["id"])
