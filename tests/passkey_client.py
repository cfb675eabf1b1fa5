"""Driving the passkey endpoints as the passkey script does: JSON with the CSRF token in its header."""
from tests.soft_authenticator import SoftAuthenticator


def post_json(client, url: str, body: dict | None = None):
    return client.post(url, json=body or {}, headers={"X-CSRFToken": client.csrf_token()})


def add_passkey(client, device: SoftAuthenticator, *, name: str = "Phone", base: str = "/settings/passkeys"):
    options = post_json(client, f"{base}/options")
    assert options.status_code == 200, options.text
    return post_json(client, base, {"name": name, "credential": device.create(options.json)})


def sign_in_with(client, device: SoftAuthenticator, *, base: str = "/auth/passkey", **get):
    options = post_json(client, f"{base}/options")
    assert options.status_code == 200, options.text
    return post_json(client, base, {"credential": device.get(options.json, **get)})
