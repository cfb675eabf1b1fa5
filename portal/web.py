"""Request-side glue shared by every blueprint: rendering, sessions, headers, filters."""
import secrets
from functools import wraps
from hashlib import sha256
from pathlib import Path

from flask import (
    Flask,
    abort,
    current_app,
    g,
    has_request_context,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_timedelta, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal import formatting
from portal.domain import statement
from portal.domain.audit import Actor
from portal.domain.auth import AuthPolicy
from portal.domain.phones import format_msisdn, mask_msisdn
from portal.domain.provisioning import STATE_LABELS
from portal.extensions import db, login_manager
from portal.models import Login, Staff, utcnow

STATIC_DIR = Path(__file__).parent / "static"


# ---- rendering -------------------------------------------------------------

def is_htmx_partial() -> bool:
    """An htmx request that wants a fragment (not a boosted navigation or a history restore)."""
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-Boosted") != "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


def render(page: str, partial: str | None = None, *, status: int = 200, **context):
    """The whole page, or only ``partial`` for htmx; the two differ, so say so to caches."""
    template = partial if partial and is_htmx_partial() else page
    response = make_response(render_template(template, **context), status)
    if partial:
        response.vary.add("HX-Request")
    return response


def see_other(endpoint: str, **values):
    """POST/redirect/GET.

    A fragment request must not follow a 303 itself (it would swap the next page's
    fragment into the form), so htmx is told to load the page instead.
    """
    url = url_for(endpoint, **values)
    if is_htmx_partial():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


# ---- who is acting -----------------------------------------------------------

def client_ip() -> str | None:
    return request.remote_addr


def current_actor() -> Actor:
    if isinstance(current_user, Login):
        return Actor(login_id=current_user.id, account_id=focused_account_id(), ip=client_ip())
    if isinstance(current_user, Staff):
        return Actor(staff_id=current_user.id, ip=client_ip())
    return Actor(ip=client_ip())


def auth_policy() -> AuthPolicy:
    if "auth_policy" not in g:
        g.auth_policy = AuthPolicy.from_config(current_app.config)
    return g.auth_policy


def focused_account_id() -> int:
    """The account chosen in the header's switcher (checked when chosen), else the primary one."""
    return session.get("focus") or current_user.primary_account_id


def account_in_focus():
    """The account the customer's pages act on: the chosen number, or the primary one.

    A choice that no longer holds (the number was unlinked since) falls back to the
    primary account; an account the login does not manage is never returned.
    """
    from portal.domain.accounts import account_of_login
    from portal.domain.errors import NotFound

    for account_id in dict.fromkeys((focused_account_id(), current_user.primary_account_id)):
        try:
            return account_of_login(db.session, login_id=current_user.id, account_id=account_id)
        except NotFound:
            session.pop("focus", None)
    abort(404)


def managed_accounts():
    """The accounts of the signed-in login for the header's switcher (one query per request)."""
    from portal.domain.accounts import accounts_of_login

    if "managed_accounts" not in g:
        g.managed_accounts = accounts_of_login(db.session, current_user.id) if isinstance(current_user, Login) else []
    return g.managed_accounts


def retry_message(err) -> str:
    """A quota's or a lock's refusal with the time the person may try again, in their zone."""
    return _("%(reason)s Try again after %(time)s.", reason=err.message, time=formatting.time_short(err.retry_after))


def customer_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not isinstance(current_user, Login):
            return login_manager.unauthorized()
        if current_user.must_change_password and request.endpoint != "settings.password":
            return redirect(url_for("settings.password"))
        return view(*args, **kwargs)

    return wrapped


def staff_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not isinstance(current_user, Staff):
            return redirect(url_for("admin.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    """Staff with the admin role; support staff get 403 (they may look, not change)."""
    @wraps(view)
    @staff_required
    def wrapped(*args, **kwargs):
        if current_user.role != "admin":
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the sign-in page explains itself
    login_manager.session_protection = None  # sessions are rows we revoke; see LoginSession

    @login_manager.user_loader
    def load_user(user_id: str):
        from portal.domain.auth import load_session
        from portal.domain.staff import load_staff_session

        kind, _, token = user_id.partition(":")
        if kind == "c":
            web_session = load_session(db.session, token, now=utcnow())
            user = web_session.login if web_session else None
        elif kind == "s":
            web_session = load_staff_session(db.session, token)
            user = web_session.staff if web_session else None
        else:
            return None
        if user is not None:
            user.web_session = web_session
        return user


def start_user_session(user, remember: bool = False) -> None:
    """Rotate the cookie session (no fixation), then sign ``user`` in."""
    from flask_login import login_user

    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    login_user(user, remember=remember)


# ---- locale, filters ------------------------------------------------------------

def _signed_in_login() -> Login | None:
    if not has_request_context():
        return None
    user = current_user._get_current_object()
    return user if isinstance(user, Login) else None


def select_locale() -> str:
    """The signed-in customer's saved language, else the one chosen in this browser, else the default."""
    login = _signed_in_login()
    for lang in (login.language if login else None, session.get("lang") if has_request_context() else None):
        if lang in current_app.config["LOCALES"]:
            return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    login = _signed_in_login()
    return (login.timezone if login else None) or current_app.config["BABEL_DEFAULT_TIMEZONE"]


money = formatting.money  # views and SMS texts format as the templates do


def static_url(filename: str) -> str:
    """A fingerprinted URL: the file's hash in the query, so it can be cached for ever."""
    digests = current_app.extensions.setdefault("static_digests", {})
    if filename not in digests or current_app.debug:
        digests[filename] = sha256((STATIC_DIR / filename).read_bytes()).hexdigest()[:12]
    return url_for("static", filename=filename, v=digests[filename])


# ---- headers, errors --------------------------------------------------------------

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


def security_headers(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if request.endpoint == "static":
        if request.args.get("v"):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    elif "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"  # pages show balances and numbers
    return response


def handle_http_error(error: HTTPException):
    status = error.code or 500
    if isinstance(error, CSRFError):
        status = 400
    return render("errors/error.html", status=status, code=status, error=error)


STATUS_LABELS = {
    "active": _l("Active"),
    "blocked_by_owner": _l("Blocked at your request"),
    "blocked_lost": _l("Blocked: lost or stolen"),
    "suspended": _l("Suspended for debt"),
    "terminated": _l("Terminated"),
}


def favicon():
    """Browsers ask for it on every first visit; an empty answer they may cache beats a 404 page."""
    response = make_response("", 204)
    response.headers["Cache-Control"] = "public, max-age=604800"
    return response


def init_app(app: Flask) -> None:
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    app.after_request(security_headers)
    app.register_error_handler(HTTPException, handle_http_error)
    formatting.register_filters(app.jinja_env)
    app.jinja_env.filters["statement_line"] = lambda entry: statement.text_of(entry.params, entry.description)
    app.jinja_env.filters["phone"] = format_msisdn
    app.jinja_env.filters["masked_phone"] = mask_msisdn
    app.jinja_env.filters["timedelta"] = lambda value: format_timedelta(value, add_direction=False)
    app.jinja_env.globals["static_url"] = static_url
    app.jinja_env.globals["new_key"] = lambda: secrets.token_urlsafe(24)  # an idempotency key per rendered form
    app.jinja_env.globals["switch_labels"] = STATE_LABELS
    app.jinja_env.globals["status_label"] = lambda status: STATUS_LABELS.get(status, status)
    app.jinja_env.globals["brand"] = lambda: app.config["BRAND"]
    app.jinja_env.globals["is_customer"] = lambda: isinstance(current_user._get_current_object(), Login)
    app.jinja_env.globals["managed_accounts"] = managed_accounts
    app.jinja_env.globals["focused_account_id"] = focused_account_id
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
