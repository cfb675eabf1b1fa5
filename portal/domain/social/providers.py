"""What the portal needs to know of each sign-in provider (``SOCIAL_PROVIDERS``; README "Sign-in with VK ID or
Yandex ID").

VK ID and Yandex ID are OAuth 2.0 with their own user-info calls, not full OpenID Connect, so a provider is
described by its endpoints and where its answer keeps the user's id, e-mail and name. A provider with a
``discovery_url`` is OpenID Connect: its ID token (signature by the JWKS, issuer, audience, expiry, nonce) is
where the user comes from. The operator's settings override the defaults below key by key; a provider is
offered only once it has a ``client_id``.
"""
from dataclasses import dataclass, fields

KNOWN = {
    # VK ID (id.vk.com): OAuth 2.1, PKCE required; the token call repeats the callback's device_id and state;
    # the user comes from POST /oauth2/user_info with the access token in the form.
    "vk": {"name": "VK ID", "authorize_url": "https://id.vk.com/authorize",
           "token_url": "https://id.vk.com/oauth2/auth", "userinfo_url": "https://id.vk.com/oauth2/user_info",
           "userinfo_auth": "form", "scope": "vkid.personal_info email", "token_auth": "client_secret_post",
           "subject": "user.user_id", "email": "user.email", "first_name": "user.first_name",
           "last_name": "user.last_name", "callback_params": ("device_id", "state")},
    # Yandex ID (oauth.yandex.ru): OAuth 2.0 (PKCE accepted); the user from login.yandex.ru/info with
    # "Authorization: OAuth <token>".
    "yandex": {"name": "Yandex ID", "authorize_url": "https://oauth.yandex.ru/authorize",
               "token_url": "https://oauth.yandex.ru/token", "userinfo_url": "https://login.yandex.ru/info?format=json",
               "userinfo_auth": "oauth", "scope": "login:email login:info", "token_auth": "client_secret_post",
               "subject": "id", "email": "default_email", "first_name": "first_name", "last_name": "last_name"},
}
USERINFO_AUTH = ("bearer", "oauth", "form")
TOKEN_AUTH = ("client_secret_basic", "client_secret_post", "none")


class ProviderConfigError(ValueError):
    """A provider's settings cannot work; the message says which and why."""


@dataclass(frozen=True)
class Provider:
    key: str
    name: str
    client_id: str
    client_secret: str = ""
    discovery_url: str = ""  # OpenID Connect; else the three URLs below
    authorize_url: str = ""
    token_url: str = ""
    userinfo_url: str = ""
    userinfo_auth: str = "bearer"  # how the access token goes to userinfo_url: bearer, oauth (Yandex), form (VK)
    scope: str = "openid email profile"
    token_auth: str = "client_secret_basic"
    subject: str = "sub"  # dotted paths into the ID token's claims or the userinfo answer
    email: str = "email"
    first_name: str = "given_name"
    last_name: str = "family_name"
    callback_params: tuple[str, ...] = ()  # callback query values the token call repeats (VK's device_id, state)

    @property
    def is_oidc(self) -> bool:
        return bool(self.discovery_url)


def describe(key: str, settings: dict) -> Provider:
    values = {**KNOWN.get(key, {}), **settings}
    unknown = set(values) - {f.name for f in fields(Provider)}
    if unknown:
        raise ProviderConfigError(f"SOCIAL_PROVIDERS[{key!r}] has unknown settings: {', '.join(sorted(unknown))}.")
    provider = Provider(key=key, **{"name": key, **values,
                                    "callback_params": tuple(values.get("callback_params", ()))})
    if not provider.discovery_url and not (provider.authorize_url and provider.token_url and provider.userinfo_url):
        raise ProviderConfigError(f"SOCIAL_PROVIDERS[{key!r}] needs discovery_url (OpenID Connect) or "
                                  "authorize_url, token_url and userinfo_url.")
    if provider.userinfo_auth not in USERINFO_AUTH:
        raise ProviderConfigError(f"SOCIAL_PROVIDERS[{key!r}]['userinfo_auth'] is one of {USERINFO_AUTH}.")
    if provider.token_auth not in TOKEN_AUTH:
        raise ProviderConfigError(f"SOCIAL_PROVIDERS[{key!r}]['token_auth'] is one of {TOKEN_AUTH}.")
    if provider.is_oidc and "openid" not in provider.scope.split():
        raise ProviderConfigError(f"SOCIAL_PROVIDERS[{key!r}] uses discovery_url: its scope must include openid.")
    return provider


def configured(settings: dict) -> dict[str, Provider]:
    """The providers that can be offered (those with a client_id), in the configured order."""
    return {key: describe(key, values) for key, values in (settings or {}).items() if values.get("client_id")}


def pick(data: dict, path: str):
    """``pick({"user": {"id": 5}}, "user.id") == 5``; None where the answer has no such value."""
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data
