import ipaddress

from flask import Response, abort, current_app, redirect, request, session, url_for
from flask_login import current_user

from portal.auth import bp, social
from portal.auth.forms import LanguageForm, LoginForm, NetworkLoginForm, SmsPasswordForm
from portal.auth.passkeys import relying_party
from portal.domain import auth, captcha, preferences
from portal.domain.errors import DomainError
from portal.domain.phones import InvalidPhone, parse_msisdn
from portal.extensions import db, limiter
from portal.models import Login, utcnow
from portal.web import (
    auth_policy,
    client_ip,
    current_actor,
    end_user_session,
    is_htmx_partial,
    render,
    see_other,
    start_user_session,
)


def _per_network() -> str:
    """The /24 (IPv4) or /56 (IPv6) of the client: one rate limit for a whole NATed block."""
    return auth.network_of(request.remote_addr or "0.0.0.0")


def _cfg(name):
    return lambda: current_app.config[name]


def _only_post() -> bool:
    return request.method != "POST"


def gateway_msisdn() -> str | None:
    """The number the operator's own gateway vouches for; the header from anywhere else is ignored."""
    cfg = current_app.config
    raw = request.headers.get(cfg["MSISDN_HEADER"])
    if not raw or not request.remote_addr:
        return None
    address = ipaddress.ip_address(request.remote_addr)
    if not any(address in ipaddress.ip_network(net, strict=False) for net in cfg["TRUSTED_GATEWAYS"]):
        return None
    try:
        return parse_msisdn(raw, cfg["PHONE_DEFAULT_REGION"])
    except InvalidPhone:
        return None


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_cfg("RATELIMIT_LOGIN"), exempt_when=_only_post)
@limiter.limit(_cfg("RATELIMIT_LOGIN_NET"), key_func=_per_network, exempt_when=_only_post)
def login():
    if isinstance(current_user, Login):
        return redirect(url_for("account.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = auth.authenticate(db.session, msisdn=form.phone.identifier, password=form.password.data,
                                     ip=client_ip(), now=utcnow(), policy=auth_policy())
            user.web_session = auth.open_session(db.session, login=user, ip=client_ip(),
                                                 user_agent=request.user_agent.string, now=utcnow())
            start_user_session(user)
            return see_other("settings.password" if user.must_change_password else social.after_sign_in())
        except DomainError as err:
            form.add_domain_error(err)
    if request.method == "GET" and request.args.get("phone"):
        form.phone.data = request.args["phone"][:40]
    msisdn = gateway_msisdn()
    if msisdn and not auth.serves(db.session, msisdn):
        msisdn = None  # the gateway vouches for a number we do not serve: no button
    return render("auth/login.html", status=form.status, form=form, passkeys_on=relying_party() is not None,
                  network_msisdn=msisdn, network_form=NetworkLoginForm() if msisdn else None)


@bp.post("/network-login")
@limiter.limit(_cfg("RATELIMIT_LOGIN"))
def network_login():
    form = NetworkLoginForm()
    msisdn = gateway_msisdn()
    if not form.validate_on_submit() or msisdn is None:
        abort(400)
    try:
        user = auth.network_login(db.session, msisdn=msisdn, ip=client_ip(), now=utcnow())
    except DomainError:
        abort(400)
    user.web_session = auth.open_session(db.session, login=user, ip=client_ip(),
                                         user_agent=request.user_agent.string, now=utcnow())
    start_user_session(user)
    return see_other("account.dashboard")


@bp.post("/password/start")
def start_sms_password():
    """The login form's "get a password by SMS" button: carry the typed number over (no secrets in the URL)."""
    form = NetworkLoginForm()  # CSRF only; the number is re-validated on the next page
    if not form.validate_on_submit():
        abort(400)
    return see_other(".sms_password", phone=(request.form.get("phone") or "")[:40])


@bp.route("/password", methods=["GET", "POST"])
@limiter.limit("60 per minute")  # every view draws a captcha row
@limiter.limit(_cfg("RATELIMIT_SMS_REQUEST"), exempt_when=_only_post)
@limiter.limit(_cfg("RATELIMIT_SMS_REQUEST_NET"), key_func=_per_network, exempt_when=_only_post)
def sms_password():
    form = SmsPasswordForm()
    if request.method == "GET":
        form.phone.data = (request.args.get("phone") or "")[:40]
    elif form.validate_on_submit():
        try:
            auth.request_sms_password(db.session, msisdn=form.phone.identifier, captcha_token=form.captcha_token.data,
                                      captcha_answer=form.captcha.data, ip=client_ip(), now=utcnow(),
                                      policy=auth_policy())
            return see_other(".sms_password_sent", phone=form.phone.data)
        except DomainError as err:
            form.add_domain_error(err)
    elif form.captcha_token.data:
        captcha.spend(db.session, token=form.captcha_token.data, now=utcnow())
    form.captcha.data = ""
    form.captcha_token.data = _new_captcha()
    return render("auth/sms_password.html", "auth/_sms_password_form.html", status=form.status, form=form)


def _new_captcha() -> str:
    policy = auth_policy()
    return captcha.new_challenge(db.session, key=policy.captcha_key, length=policy.captcha_length,
                                 ttl=policy.captcha_ttl, now=utcnow())


@bp.get("/password/sent")
def sms_password_sent():
    """The neutral answer, with the sign-in form right there: one round trip less on a slow link."""
    phone = (request.args.get("phone") or "")[:40]
    form = LoginForm(formdata=None, data={"phone": phone})
    return render("auth/sms_password_sent.html", phone=phone, form=form,
                  minutes=int(current_app.config["TEMP_PASSWORD_TTL"].total_seconds() // 60))


@bp.get("/captcha")
@limiter.limit("60 per minute")
def new_captcha():
    """A fresh picture and its token: the htmx "new picture" swap. Without htmx: the whole page."""
    if not is_htmx_partial():
        return redirect(url_for(".sms_password", phone=(request.args.get("phone") or "")[:40]), 303)
    response = render("auth/_captcha.html", token=_new_captcha())
    response.vary.add("HX-Request")
    return response


@bp.get("/captcha/<token>.<any(png, wav):ext>")
@limiter.limit("120 per minute")
def captcha_media(token: str, ext: str):
    token = token[:64]
    if not captcha.is_live(db.session, token, now=utcnow()):
        abort(404)
    policy = auth_policy()
    answer = captcha.answer_for(token, key=policy.captcha_key, length=policy.captcha_length)
    if ext == "png":
        response = Response(captcha.render_png(answer), mimetype="image/png")
    else:
        response = Response(captcha.render_wav(answer), mimetype="audio/wav")
        response.headers["Content-Disposition"] = "inline; filename=captcha.wav"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/logout")
def logout():
    form = NetworkLoginForm()  # CSRF only
    if not form.validate_on_submit():
        abort(400)
    end_user_session()
    return see_other(".login")


@bp.post("/language")
def language():
    form = LanguageForm()
    if form.validate_on_submit() and form.lang.data in current_app.config["LOCALES"]:
        session["lang"] = form.lang.data
        if isinstance(current_user, Login):
            preferences.set_language(db.session, login_id=current_user.id, language=form.lang.data,
                                     actor=current_actor())
    target = request.referrer or ""
    if not target.startswith(request.host_url):
        target = url_for("account.dashboard")
    return redirect(target, 303)
