"""Sign-in with VK ID, Yandex ID or an OpenID Connect provider (issue 18, point 8; portal/domain/social).

Authorization code with PKCE (S256) through Authlib: ``state`` ties the provider's answer to this browser,
``nonce`` the ID token to this sign-in; the ID token's signature (the provider's JWKS), issuer, audience and expiry
are checked. A provider account opens only the login its owner linked; an unknown one is offered for linking after
the customer signs in with the number (kept in the session a few minutes, used once, confirmed on a page).
"""
import time
from urllib.parse import urlencode, urljoin

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import FlaskIntegration
from authlib.integrations.flask_client.apps import FlaskOAuth2App
from flask import abort, current_app, flash, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from joserfc.errors import JoseError
from wtforms import ValidationError

from portal.auth import bp
from portal.domain import auth
from portal.domain.errors import DomainError, NotFound
from portal.domain.social import Identity, links_of, login_for, shown_as, signed_in_with
from portal.domain.social import link as link_account
from portal.domain.social import unlink as unlink_account
from portal.domain.social.providers import Provider, configured, pick
from portal.extensions import db, limiter
from portal.forms import PortalForm
from portal.models import Login, utcnow
from portal.web import (
    client_ip,
    current_actor,
    customer_required,
    render,
    see_other,
    see_other_url,
    start_user_session,
)

INTENT = "social_intent"  # which provider this browser went to, and whether to link (the login) or sign in
PENDING = "social_pending"  # an unlinked account met at sign-in, waiting for its owner to sign in and confirm


class ProviderFailed(Exception):
    """The provider's answer cannot be used; ``status`` says whose fault (400: this request, 502: the provider)."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def providers() -> dict[str, Provider]:
    if "social_providers" not in current_app.extensions:
        current_app.extensions["social_providers"] = configured(current_app.config["SOCIAL_PROVIDERS"])
    return current_app.extensions["social_providers"]


def _provider_or_404(key: str) -> Provider:
    provider = providers().get(key)
    if provider is None:
        abort(404)
    return provider


def _absolute(url: str) -> str:
    """The development provider is configured by path: it lives on this very server."""
    return urljoin(request.host_url, url) if url.startswith("/") else url


def _client(provider: Provider) -> FlaskOAuth2App:
    """Authlib's client of the provider, kept (with the discovery document and keys it fetched) per app."""
    clients = current_app.extensions.setdefault("social_clients", {})
    # Per server address only for a provider configured by path: else each forged Host header would keep one more.
    by_path = any(url.startswith("/") for url in (provider.discovery_url, provider.authorize_url, provider.token_url))
    cache_key = (provider.key, request.host_url if by_path else None)
    if cache_key not in clients:
        urls = ({"server_metadata_url": _absolute(provider.discovery_url)} if provider.is_oidc else
                {"authorize_url": _absolute(provider.authorize_url), "access_token_url": _absolute(provider.token_url)})
        clients[cache_key] = FlaskOAuth2App(
            FlaskIntegration(provider.key), name=provider.key, client_id=provider.client_id,
            client_secret=provider.client_secret, **urls,
            client_kwargs={"scope": provider.scope, "code_challenge_method": "S256",
                           "token_endpoint_auth_method": provider.token_auth,
                           "default_timeout": current_app.config["SOCIAL_TIMEOUT"]})
    return clients[cache_key]


def _go_to(provider: Provider, intent: dict):
    session[INTENT] = {"provider": provider.key, **intent}
    db.session.commit()  # loading the signed-in user began a transaction: none stays open over the network call
    try:
        response = _client(provider).authorize_redirect(_absolute(_callback_path(provider)))
    except (requests.RequestException, ValueError):  # the discovery document: the provider is down or garbled
        return _failed(provider, 502)
    return see_other_url(response.location)


def _callback_path(provider: Provider) -> str:
    return url_for("auth.social_back", provider=provider.key)


@bp.get("/social/<provider>/sign-in")
def social_sign_in(provider: str):
    return _go_to(_provider_or_404(provider), {})


@bp.get("/social/<provider>/link")
@customer_required
def social_link(provider: str):
    """A GET (a POST could not be sent on to the provider under the CSP's form-action), so it carries the CSRF
    token: else another site could start a link in a signed-in browser that is signed in at the provider as
    someone else, and that account would open this login."""
    description = _provider_or_404(provider)
    try:
        validate_csrf(request.args.get("csrf", ""))
    except ValidationError:
        abort(400)
    return _go_to(description, {"login_id": current_user.id})


def _identity(provider: Provider) -> Identity:
    """Who the provider says signed in; every way its answer can be wrong is a ProviderFailed."""
    db.session.commit()  # no transaction open across the token and user-info calls
    client = _client(provider)
    # In the token call's form: keyword arguments would clash with Authlib's own (state).
    repeated = urlencode({name: request.args[name][:200] for name in provider.callback_params
                          if request.args.get(name)})
    try:
        token = client.authorize_access_token(body=repeated)
        if provider.is_oidc:
            claims = token.get("userinfo")  # the ID token, verified by Authlib; its absence is a refusal
            if claims is None:
                raise ProviderFailed(400)
        else:
            claims = _userinfo(provider, token["access_token"])
    except OAuthError:  # error= in the callback, a state mismatch, a refused (e.g. replayed) code
        raise ProviderFailed(400) from None
    except JoseError:  # the ID token: signature, issuer, audience, expiry or nonce
        raise ProviderFailed(400) from None
    except (requests.RequestException, ValueError, KeyError):  # down, too slow, or not speaking OAuth
        raise ProviderFailed(502) from None
    subject = pick(claims, provider.subject)
    if subject in (None, ""):
        raise ProviderFailed(502)
    return Identity(provider=provider.key, subject=str(subject)[:255],
                    shown=shown_as(email=_text(pick(claims, provider.email)),
                                   first_name=_text(pick(claims, provider.first_name)),
                                   last_name=_text(pick(claims, provider.last_name))))


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _userinfo(provider: Provider, access_token: str) -> dict:
    """The user, from a plain OAuth 2.0 provider's own call (VK ID wants the token in the form, Yandex "OAuth")."""
    timeout = current_app.config["SOCIAL_TIMEOUT"]
    url = _absolute(provider.userinfo_url)
    if provider.userinfo_auth == "form":
        response = requests.post(url, data={"client_id": provider.client_id, "access_token": access_token},
                                 timeout=timeout)
    else:
        scheme = "OAuth" if provider.userinfo_auth == "oauth" else "Bearer"
        response = requests.get(url, headers={"Authorization": f"{scheme} {access_token}"}, timeout=timeout)
    response.raise_for_status()
    data = response.json()
    if not isinstance(data, dict):
        raise ValueError("userinfo is not an object")
    return data


def _failed(provider: Provider, status: int):
    return render("auth/social_failed.html", status=status, provider=provider, provider_down=status >= 500)


@bp.get("/social/<provider>/back")
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"])  # a sign-in like the password's
def social_back(provider: str):
    """Where the provider sends the browser back: sign in, link, or offer to link."""
    description = _provider_or_404(provider)
    intent = session.pop(INTENT, None) or {}
    if intent.get("provider") != description.key:
        return _failed(description, 400)  # not started here (or already finished): a stale or forged callback
    try:
        identity = _identity(description)
    except ProviderFailed as failure:
        return _failed(description, failure.status)
    if intent.get("login_id"):
        return _link_now(description, identity, intent["login_id"])
    return _sign_in(description, identity)


def _link_now(provider: Provider, identity: Identity, login_id: int):
    if not isinstance(current_user, Login) or current_user.id != login_id:
        return _failed(provider, 400)  # signed out (or in as someone else) while at the provider
    try:
        link_account(db.session, login_id=login_id, identity=identity, provider_name=provider.name,
                     actor=current_actor(), now=utcnow())
    except DomainError as err:
        db.session.rollback()
        return render("auth/social_failed.html", status=err.status, provider=provider, refusal=err.message)
    flash(_("%(provider)s is linked: you can sign in with it.", provider=provider.name))
    return see_other("settings.sessions")


def _sign_in(provider: Provider, identity: Identity):
    login = login_for(db.session, identity)
    if login is None:
        session[PENDING] = {"provider": identity.provider, "subject": identity.subject, "shown": identity.shown,
                            "until": time.time() + current_app.config["SOCIAL_PENDING_MINUTES"] * 60}
        return render("auth/social_not_linked.html", provider=provider)
    signed_in_with(db.session, login=login, identity=identity, ip=client_ip(), now=utcnow())
    login.web_session = auth.open_session(db.session, login=login, ip=client_ip(),
                                          user_agent=request.user_agent.string, now=utcnow())
    start_user_session(login)
    return see_other("settings.password" if login.must_change_password else "account.dashboard")


def pending_link() -> tuple[Provider, Identity] | None:
    """The unlinked account this browser met at sign-in, while still fresh."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or pending.get("until", 0) < time.time():
        session.pop(PENDING, None)
        return None
    provider = providers().get(pending.get("provider"))
    if provider is None:
        return None
    return provider, Identity(provider=provider.key, subject=pending["subject"], shown=pending.get("shown", ""))


def after_sign_in() -> str:
    """Where a customer goes once signed in with the number: the offer to link an account, if one waits."""
    return "auth.social_confirm" if pending_link() else "account.dashboard"


@bp.route("/social/confirm", methods=["GET", "POST"])
@customer_required
def social_confirm():
    """"Link VK ID to this login?": never linked without the owner's yes, and the offer is used once."""
    waiting = pending_link()
    if waiting is None:
        return see_other("settings.sessions")
    provider, identity = waiting
    form = PortalForm()
    if not form.validate_on_submit():
        if request.method == "POST":
            abort(400)
        return render("auth/social_confirm.html", provider=provider, identity=identity, form=form)
    session.pop(PENDING, None)
    if request.form.get("answer") != "link":
        return see_other("account.dashboard")
    return _link_now(provider, identity, current_user.id)


@bp.route("/social/accounts/<int:link_id>/unlink", methods=["GET", "POST"])
@customer_required
def social_unlink(link_id: int):
    row = next((row for row in links_of(db.session, current_user.id) if row.id == link_id), None)
    if row is None:
        abort(404)
    provider_name = _provider_name(row.provider)
    form = PortalForm()
    if not form.validate_on_submit():
        if request.method == "POST":
            abort(400)
        return render("auth/social_unlink.html", row=row, provider_name=provider_name, form=form)
    try:
        unlink_account(db.session, login_id=current_user.id, link_id=link_id, actor=current_actor())
    except NotFound:
        abort(404)
    flash(_("%(provider)s is unlinked.", provider=provider_name))
    return see_other("settings.sessions")


def provider_names() -> dict[str, str]:
    """The configured providers' names by key (staff pages name a customer's linked accounts with them)."""
    return {key: provider.name for key, provider in providers().items()}


def _provider_name(key: str) -> str:
    provider = providers().get(key)
    return provider.name if provider else key


def sign_in_choices() -> list[Provider]:
    """The sign-in page's buttons: every configured provider."""
    return list(providers().values())


def linked_accounts() -> dict:
    """The devices page's section: the login's linked accounts and the providers it may still link."""
    rows = links_of(db.session, current_user.id)
    linked = {row.provider for row in rows}
    return {"rows": [(row, _provider_name(row.provider)) for row in rows],
            "linkable": [p for p in providers().values() if p.key not in linked]}


@bp.record_once
def _template_globals(state) -> None:
    state.app.jinja_env.globals.update(social_sign_in_choices=sign_in_choices, social_accounts=linked_accounts)
