"""A development identity provider: OpenID Connect (or plain OAuth 2.0 with a userinfo endpoint) with PKCE.

In debug mode it is mounted at /dev/oidc and configured as "Development ID", so ``make run`` shows social
sign-in end to end; the tests run the same provider as a real HTTP server on loopback (tests/fake_oidc.py),
so the portal's token exchange is a real HTTP request. Its knobs (slow token endpoint, ID token claims, a
forged signature, no ID token at all) let the tests play a faulty or hostile provider.
"""
import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import Blueprint, abort, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from markupsafe import Markup

CODE_LIFETIME = 60
TEST_USERS = {
    "1": {"sub": "dev-user-1", "email": "test.user1@example.com", "given_name": "Test", "family_name": "One"},
    "2": {"sub": "dev-user-2", "email": "test.user2@example.com", "given_name": "Test", "family_name": "Two"},
}


def _new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"}, private=True)


@dataclass
class DevIdentityProvider:
    client_id: str = "portal-dev"
    client_secret: str = "dev-secret"
    with_id_token: bool = True  # False: plain OAuth 2.0, the user only from the userinfo endpoint
    token_delay: float = 0.0  # seconds the token endpoint waits (a slow provider)
    id_token_overrides: dict = field(default_factory=dict)  # a wrong nonce, audience, issuer or expiry
    forge_signature: bool = False  # sign ID tokens with a key the JWKS does not hold
    key: RSAKey = field(default_factory=lambda: _new_key("dev-1"))
    codes: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    token_requests: list = field(default_factory=list)  # each token call's form, for the tests to read
    lock: threading.Lock = field(default_factory=threading.Lock)

    def issue_code(self, user: str, params: dict) -> str:
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = {**params, "user": user, "expires": time.time() + CODE_LIFETIME}
        return code

    def redeem(self, code: str) -> dict | None:
        """The code's grant, once: a replayed code is refused (RFC 6749 §4.1.2)."""
        with self.lock:
            grant = self.codes.pop(code, None)
        return grant if grant and grant["expires"] > time.time() else None

    def id_token(self, issuer: str, grant: dict) -> str:
        now = int(time.time())
        claims = {**TEST_USERS[grant["user"]], "iss": issuer, "aud": self.client_id, "iat": now, "exp": now + 300,
                  **({"nonce": grant["nonce"]} if grant.get("nonce") else {}), **self.id_token_overrides}
        key = _new_key("dev-1") if self.forge_signature else self.key
        return jwt.encode({"alg": "RS256", "kid": "dev-1"}, claims, key)


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _client_credentials() -> tuple[str | None, str | None]:
    if request.authorization and request.authorization.type == "basic":
        return request.authorization.username, request.authorization.password
    return request.form.get("client_id"), request.form.get("client_secret")


AUTHORIZE_PAGE = Markup("""<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Development ID</title>
<main><h1>Development ID</h1><p>A development identity provider: choose who signs in.</p>
<form method="post" id="dev-oidc-authorize">%(hidden)s
<p><button type="submit" name="user" value="1">Sign in as test user 1</button></p>
<p><button type="submit" name="user" value="2">Sign in as test user 2</button></p>
<p><button type="submit" name="user" value="">Cancel</button></p></form></main></html>""")
AUTHORIZE_FIELDS = ("client_id", "redirect_uri", "state", "nonce", "code_challenge", "code_challenge_method", "scope")


def provider_blueprint(provider: DevIdentityProvider, *, name: str = "dev_oidc",
                       url_prefix: str = "/dev/oidc") -> Blueprint:
    bp = Blueprint(name, __name__, url_prefix=url_prefix)

    def issuer() -> str:
        return request.host_url.rstrip("/") + url_prefix

    @bp.get("/.well-known/openid-configuration")
    def discovery():
        base = issuer()
        return jsonify(issuer=base, authorization_endpoint=f"{base}/authorize", token_endpoint=f"{base}/token",
                       userinfo_endpoint=f"{base}/userinfo", jwks_uri=f"{base}/jwks",
                       response_types_supported=["code"], subject_types_supported=["public"],
                       id_token_signing_alg_values_supported=["RS256"], code_challenge_methods_supported=["S256"],
                       token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"])

    @bp.get("/jwks")
    def jwks():
        return jsonify(KeySet([provider.key]).as_dict(private=False))

    @bp.route("/authorize", methods=["GET", "POST"])
    def authorize():
        params = {name: (request.values.get(name) or "")[:500] for name in AUTHORIZE_FIELDS}
        if (params["client_id"] != provider.client_id or not params["redirect_uri"]
                or params["code_challenge_method"] != "S256" or not params["code_challenge"]):
            abort(400)
        if request.method == "GET":
            hidden = Markup("").join(Markup('<input type="hidden" name="%s" value="%s">') % (name, value)
                                     for name, value in params.items())
            return AUTHORIZE_PAGE % {"hidden": hidden}
        user = request.form.get("user", "")
        if user not in TEST_USERS:
            answer = {"error": "access_denied", "state": params["state"]}
        else:
            answer = {"code": provider.issue_code(user, params), "state": params["state"]}
        separator = "&" if "?" in params["redirect_uri"] else "?"
        return redirect(params["redirect_uri"] + separator + urlencode(answer), 303)

    @bp.post("/token")
    def token():
        time.sleep(provider.token_delay)
        provider.token_requests.append(request.form.to_dict())
        client_id, secret = _client_credentials()
        if (client_id, secret) != (provider.client_id, provider.client_secret):
            return jsonify(error="invalid_client"), 401
        grant = provider.redeem(request.form.get("code", ""))
        if (grant is None or request.form.get("grant_type") != "authorization_code"
                or request.form.get("redirect_uri") != grant["redirect_uri"]
                or _s256(request.form.get("code_verifier", "")) != grant["code_challenge"]):
            return jsonify(error="invalid_grant"), 400
        access_token = secrets.token_urlsafe(24)
        with provider.lock:
            provider.tokens[access_token] = grant["user"]
        answer = {"access_token": access_token, "token_type": "Bearer", "expires_in": 300}
        if provider.with_id_token and "openid" in grant["scope"].split():
            answer["id_token"] = provider.id_token(issuer(), grant)
        return jsonify(answer)

    @bp.get("/userinfo")
    def userinfo():
        scheme, _, value = (request.headers.get("Authorization") or "").partition(" ")
        user = provider.tokens.get(value) if scheme.lower() == "bearer" else None
        if user is None:
            return jsonify(error="invalid_token"), 401
        return jsonify(TEST_USERS[user])

    return bp


@dataclass
class _Shared:
    provider: DevIdentityProvider | None = None


_development = _Shared()


def development_blueprint() -> Blueprint:
    """The provider of ``make run`` (one per process: its keys and codes live in memory)."""
    if _development.provider is None:
        _development.provider = DevIdentityProvider()
    return provider_blueprint(_development.provider)
