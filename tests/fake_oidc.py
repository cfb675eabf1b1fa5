"""The development identity provider (portal/dev/oidc.py) as a real HTTP server on loopback: the portal's token
exchange, key and user-info calls are real requests, so a slow, down or replaying provider is a real one."""
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import requests
from flask import Flask
from werkzeug.serving import make_server

from portal.dev.oidc import DevIdentityProvider, provider_blueprint


@dataclass
class FakeProvider:
    provider: DevIdentityProvider
    url: str

    def reset(self) -> None:
        self.provider.with_id_token, self.provider.token_delay = True, 0.0
        self.provider.id_token_overrides, self.provider.forge_signature = {}, False
        self.provider.token_requests.clear()

    def settings(self) -> dict:
        """SOCIAL_PROVIDERS: "fake" speaks OpenID Connect, "plain" OAuth 2.0 with a userinfo endpoint."""
        credentials = {"client_id": self.provider.client_id, "client_secret": self.provider.client_secret}
        return {"fake": {"name": "Fake ID", **credentials,
                         "discovery_url": f"{self.url}/.well-known/openid-configuration"},
                "plain": {"name": "Plain ID", **credentials, "authorize_url": f"{self.url}/authorize",
                          "token_url": f"{self.url}/token", "userinfo_url": f"{self.url}/userinfo",
                          "scope": "profile", "token_auth": "client_secret_post",
                          "callback_params": ["state"]}}  # as VK ID wants

    def approve(self, authorize_url: str, user: str = "1") -> str:
        """What the person does at the provider: choose ``user`` (empty: cancel). The callback's path and query."""
        query = {name: values[0] for name, values in parse_qs(urlsplit(authorize_url).query).items()}
        answer = requests.post(f"{self.url}/authorize", data={**query, "user": user}, allow_redirects=False,
                               timeout=5)
        assert answer.status_code == 303, answer.text
        location = urlsplit(answer.headers["Location"])
        return f"{location.path}?{location.query}"


@contextmanager
def running_provider():
    app = Flask("fake_oidc")
    provider = DevIdentityProvider()
    app.register_blueprint(provider_blueprint(provider, url_prefix=""))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="fake-oidc", daemon=True)
    thread.start()
    try:
        yield FakeProvider(provider=provider, url=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
