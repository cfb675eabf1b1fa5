"""POST JSON to a provider's API (the SMS provider, the provisioning system) and read its JSON answer."""
import json
import urllib.request


def post_json(url: str, body: dict, *, token: str | None, timeout: float):
    """The decoded answer. Raises urllib's HTTPError for a non-2xx status, OSError (URLError, timeouts),
    http.client.HTTPException or ValueError (not JSON): the caller says what each means for it."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"{}")
