import http.client
import json
import urllib.error

from portal.jsonapi import post_json
from portal.provisioning import CommandRefused, SwitchUnavailable


class HttpSwitch:
    """A provisioning system's HTTP API.

    POST JSON {id, msisdn, operation, params} with a bearer token. 2xx with {"reference": ...}
    is done (a repeated id answers the first result); 4xx is a refusal with {"reason": ...};
    5xx, timeouts and connection errors are worth another try.
    """

    def __init__(self, url: str, token: str | None, *, timeout: float = 10):
        self.url = url
        self.token = token
        self.timeout = timeout

    def apply(self, msisdn: str, command: dict) -> str:
        body = {"id": command["id"], "msisdn": msisdn, "operation": command["operation"],
                "params": command["params"]}
        try:
            payload = post_json(self.url, body, token=self.token, timeout=self.timeout)
        except urllib.error.HTTPError as err:
            if 400 <= err.code < 500:
                raise CommandRefused(_reason(err) or f"the switch answered HTTP {err.code}") from None
            raise SwitchUnavailable(f"the switch answered HTTP {err.code}") from None
        except (OSError, http.client.HTTPException, ValueError) as err:  # URLError and timeouts are OSErrors
            raise SwitchUnavailable(f"the switch is unreachable: {err}") from None
        if not isinstance(payload, dict) or not payload.get("reference"):
            raise SwitchUnavailable("the switch gave no reference")
        return str(payload["reference"])[:80]


def _reason(err: urllib.error.HTTPError) -> str | None:
    try:
        payload = json.loads(err.read() or b"{}")
    except (OSError, ValueError):
        return None
    reason = payload.get("reason") if isinstance(payload, dict) else None
    return str(reason)[:250] if reason else None
