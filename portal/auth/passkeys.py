"""Signing in with a passkey (no number typed, no SMS), and the request glue the passkey pages share."""
from flask import abort, current_app, jsonify, request, session, url_for
from flask_login import current_user

from portal.auth import bp
from portal.domain import auth, passkeys
from portal.domain.errors import DomainError
from portal.extensions import db, limiter
from portal.models import Login, utcnow
from portal.web import client_ip, start_user_session

CHALLENGE_KEY = "passkey_challenge"


def relying_party() -> passkeys.RelyingParty | None:
    """Who the passkeys belong to (see PASSKEY_RP_ID in portal/config.py); None: passkeys are off here."""
    cfg = current_app.config
    trusted_host = cfg["DEBUG"] or cfg["TESTING"]
    return passkeys.RelyingParty.from_settings(
        rp_id=cfg["PASSKEY_RP_ID"], origin=cfg["PASSKEY_ORIGIN"], public_url=cfg["PUBLIC_URL"],
        host_url=request.host_url if trusted_host else None, name=cfg["BRAND"])


def signed_in_recently() -> bool:
    """Adding a passkey is a new way in: it takes a fresh sign-in (a customer's or a staff member's), so an old or
    stolen session cannot add one."""
    return utcnow() - current_user.web_session.created_at <= current_app.config["PASSKEY_RECENT_SIGN_IN"]


def relying_party_or_404() -> passkeys.RelyingParty:
    rp = relying_party()
    if rp is None:
        abort(404)
    return rp


def browser_answer() -> dict:
    """The JSON the passkey script posts (CSRF checked by its header before this runs)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("credential"), dict):
        abort(400)
    return data


def options_response(token: str, options: str):
    """Keep the challenge's token in this browser's session, hand the options to the script."""
    session[CHALLENGE_KEY] = token
    return current_app.response_class(options, mimetype="application/json")


def taken_challenge() -> str | None:
    return session.pop(CHALLENGE_KEY, None)


def refusal(err: DomainError):
    return jsonify(error=str(err.message)), err.status


@bp.post("/passkey/options")
@limiter.limit("60 per minute")  # every sign-in page view with autofill asks for one (a row each, as captchas)
def passkey_options():
    rp = relying_party_or_404()
    token, options = passkeys.authentication_options(db.session, rp=rp, now=utcnow())
    return options_response(token, options)


@bp.post("/passkey")
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"])
def passkey_sign_in():
    rp = relying_party_or_404()
    if isinstance(current_user, Login):
        return jsonify(redirect=url_for("account.dashboard"))
    try:
        login = passkeys.sign_in_customer(db.session, token=taken_challenge(), response=browser_answer()["credential"],
                                          rp=rp, ip=client_ip(), now=utcnow())
    except DomainError as err:
        return refusal(err)
    login.web_session = auth.open_session(db.session, login=login, ip=client_ip(),
                                          user_agent=request.user_agent.string, now=utcnow())
    start_user_session(login)
    return jsonify(redirect=url_for("settings.password" if login.must_change_password else "account.dashboard"))
