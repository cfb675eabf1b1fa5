import http.client
import json
import urllib.error
import urllib.request

from portal.sms import SmsSendError


class HttpGateway:
    """A provider's HTTP API: POST JSON {to, text, sender} with a bearer token; expects {"id": ...}."""

    def __init__(self, url: str, token: str | None, *, timeout: float = 5):
        self.url = url
        self.token = token
        self.timeout = timeout

    def send(self, to: str, text: str, *, sender: str) -> str:
        body = json.dumps({"to": to, "text": text, "sender": sender}).encode()
        request = urllib.request.Request(self.url, data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        if self.token:
            request.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as err:
            raise SmsSendError(f"provider answered HTTP {err.code}") from None
        except (OSError, http.client.HTTPException, ValueError) as err:  # URLError and timeouts are OSErrors
            raise SmsSendError(f"provider unreachable: {err}") from None
        if not isinstance(payload, dict) or not payload.get("id"):
            raise SmsSendError("provider gave no message id")
        return str(payload["id"])
