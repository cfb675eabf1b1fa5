"""Request-side glue shared by every blueprint: rendering, sessions, headers, filters."""
import secrets
from functools import wraps
from hashlib import sha256
from pathlib import Path
from types import FunctionType
from urllib.parse import urlsplit

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
from flask.templating import Environment
from flask_babel import format_timedelta, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_sqlalchemy.session import Session as FlaskSqlaSession
from flask_wtf.csrf import CSRFError
from jinja2 import pass_eval_context
from jinja2.runtime import Context
from jinja2.utils import _PassArg
from markupsafe import Markup, escape
from sqlalchemy import event, select, union_all
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from portal import formatting
from portal.domain import statement
from portal.domain.audit import Actor
from portal.domain.auth import AuthPolicy
from portal.domain.bounds import DB_INT_MAX
from portal.domain.phones import format_msisdn, mask_msisdn
from portal.domain.provisioning import STATE_LABELS
from portal.domain.receipts.codes import grouped as grouped_code
from portal.extensions import db, login_manager
from portal.models import Login, Service, Staff, Tariff, utcnow
from portal.models.catalog import in_readers_language

STATIC_DIR = Path(__file__).parent / "static"
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's error code when lock_timeout runs out
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
    return see_other_url(url_for(endpoint, **values))


def see_other_url(url: str):
    """``see_other`` to a URL: a page of ours, or a provider's payment page."""
    if is_htmx_partial():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


# ---- who is acting -----------------------------------------------------------

def client_ip() -> str | None:
    return request.remote_addr


def bearer_token() -> str | None:
    """The ``Authorization: Bearer`` key a system or a script sends (the feed, the content gateway)."""
    scheme, _, value = (request.headers.get("Authorization") or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


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


def card_in_focus():
    """The account the customer's pages act on, as its card (``accounts.account_cards``): the chosen number, or
    the primary one.

    A choice that no longer holds (the number was unlinked since) falls back to the
    primary account; an account the login does not manage is never returned. It is one
    of the login's accounts, which the header's switcher lists anyway: one query for both.
    """
    cards = {card.id: card for card in account_cards()}
    for account_id in dict.fromkeys((focused_account_id(), current_user.primary_account_id)):
        if account_id in cards:
            return cards[account_id]
        session.pop("focus", None)
    abort(404)


def account_in_focus():
    """The account in focus (``card_in_focus``) as the ORM object, with its customer, line, tariff and home
    contract: for the pages that hand it to the domain (the dashboard reads only the card)."""
    if "account_in_focus" not in g:
        from portal.domain.accounts import account_with_details

        g.account_in_focus = account_with_details(db.session, card_in_focus().id)
    return g.account_in_focus


def tab_bar() -> Markup:
    """The tab bar, rendered once per language, section and mount point and kept by the app (≈ 1 ms a page)."""
    section = nav_section()
    key = (formatting.reader_locale(), section, request.script_root)
    bars = current_app.extensions.setdefault("portal_tab_bars", {})
    if key not in bars:
        bars[key] = Markup(render_template("_tabs.html", section=section))
    return bars[key]


def account_cards():
    """The signed-in login's accounts as cards (plain rows: ``accounts.account_cards``), for the header's switcher,
    the account in focus and the dashboard (one query per request)."""
    from portal.domain.accounts import account_cards as cards_of_login

    if "account_cards" not in g:
        g.account_cards = cards_of_login(db.session, current_user.id) if isinstance(current_user, Login) else []
    return g.account_cards


def managed_accounts():
    """The signed-in login's accounts as ORM objects with their lines and contracts (one query, when asked)."""
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
        from portal.domain.auth import SessionLifetime, load_session
        from portal.domain.staff import load_staff_session

        kind, _, token = user_id.partition(":")
        if kind == "c":
            web_session = load_session(db.session, token, now=utcnow(),
                                       lifetime=SessionLifetime.for_customers(current_app.config))
            user = web_session.login if web_session else None
        elif kind == "s":
            web_session = load_staff_session(db.session, token, now=utcnow(),
                                             lifetime=SessionLifetime.for_staff(current_app.config))
            user = web_session.staff if web_session else None
        else:
            return None
        if user is not None:
            user.web_session = web_session
        return user


def start_user_session(user, remember: bool = False) -> None:
    """Rotate the cookie session (no fixation), then sign ``user`` in."""
    from flask_login import login_user

    # The language, and an outside account waiting to be linked once its owner signs in (portal/auth/social.py).
    carried = {key: session[key] for key in ("lang", "social_pending") if key in session}
    session.clear()
    session.update(carried)
    login_user(user, remember=remember)


def end_user_session() -> None:
    """Revoke the signed-in device's row, customer's or staff's whichever logout address was used, then sign out."""
    from flask_login import logout_user

    from portal.domain.auth import close_session
    from portal.domain.staff import close_staff_session

    user = current_user._get_current_object()
    web_session = getattr(user, "web_session", None)
    if isinstance(user, Login) and web_session is not None:
        close_session(db.session, token=web_session.token, actor=current_actor(), now=utcnow())
    elif isinstance(user, Staff) and web_session is not None:
        close_staff_session(db.session, token=web_session.token, actor=current_actor(), now=utcnow())
    logout_user()
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


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
    if has_request_context() and g.get("public_page"):
        return current_app.config["BABEL_DEFAULT_TIMEZONE"]  # one page for every reader (portal.status)
    login = _signed_in_login()
    return (login.timezone if login else None) or current_app.config["BABEL_DEFAULT_TIMEZONE"]


money = formatting.money  # views and SMS texts format as the templates do


def static_url(filename: str) -> str:
    """A fingerprinted URL: the file's hash in the query, so it can be cached for ever."""
    digests = current_app.extensions.setdefault("static_digests", {})
    if filename not in digests or current_app.debug:
        digests[filename] = sha256((STATIC_DIR / filename).read_bytes()).hexdigest()[:12]
    return template_url_for("static", filename=filename, v=digests[filename])


def live_block(block: str) -> Markup:
    """A dashboard block's attributes to refresh itself (htmx) when the tab comes back after a while
    (static/portal.js); without JS a reload of the page does it. A Python global, not a macro: four blocks a
    dashboard, and a Jinja macro call with its import cost more than the rest of the block's attributes."""
    return Markup('hx-get="%s" hx-trigger="portal:back from:body" hx-swap="outerHTML"') % template_url_for(
        "account.dashboard", block=block)


# The catalog's services that have a page of their own in the portal (by the service's code): the services list
# and the dashboard link a connected one there.
SERVICE_PAGES = {"family-locator": "locator.people", "blacklist": "settings.blacklist_page",
                 "ringback-tone": "settings.ringback_page", "who-called": "settings.missed_calls",
                 "number-management": "numbers.index"}


def catalog_names_in_english() -> dict[str, str] | None:
    """For a customer reading English, the operator's tariff and service names → their English ones (read once a
    request); None for everyone else: other readers and staff read the operator's own."""
    locale = get_locale()
    if locale is None or locale.language != "en" or not isinstance(current_user._get_current_object(), Login):
        return None
    if "catalog_names_en" not in g:
        rows = db.session.execute(union_all(select(Tariff.name, Tariff.name_en).where(Tariff.name_en.is_not(None)),
                                            select(Service.name, Service.name_en).where(Service.name_en.is_not(None))))
        g.catalog_names_en = {name: english for name, english in rows if english}
    return g.catalog_names_en


def statement_line(entry) -> str:
    """A ledger or bonus entry's line in the reader's language, the catalog's names too."""
    return statement.text_of(entry.params, entry.description, names=catalog_names_in_english())


def service_page(code: str) -> str | None:
    endpoint = SERVICE_PAGES.get(code)
    return template_url_for(endpoint) if endpoint else None


URLS_KEPT = 4096  # built URLs kept by template_url_for; past that the memo starts afresh


def template_url_for(endpoint: str, **values) -> str:
    """``url_for`` for templates: a page's URL depends only on its endpoint, its values and where the app is
    mounted, and a page builds a dozen or more (≈ 10 µs each), so each one is built once per process.

    Blueprint-relative endpoints, ``_external``/``_anchor``/``_method``, and unhashable values go to
    ``url_for`` every time."""
    if endpoint.startswith(".") or any(name.startswith("_") for name in values):
        return url_for(endpoint, **values)
    urls = current_app.extensions["portal_urls"]
    key = (endpoint, request.script_root, *values.items())
    try:
        url = urls.get(key)
    except TypeError:  # a list of values for a repeated query argument
        return url_for(endpoint, **values)
    if url is None:
        url = url_for(endpoint, **values)
        if len(urls) >= URLS_KEPT:
            urls.clear()
        urls[key] = url
    return url


def safe_next(value: str | None) -> str | None:
    """A path on this site to go back to, else None: never another host (no open redirect).

    Browsers drop tabs and newlines inside a URL and read a backslash as a slash, so "/", a tab,
    "/evil.example" would become "//evil.example": control characters and backslashes are
    refused outright, then the rest must be a bare path with one leading slash.
    """
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


# ---- what a request may carry ------------------------------------------------------

def body_limit(config_name: str):
    """A smaller body limit for one view (the setting ``config_name``), applied before anything reads the body."""
    def mark(view):
        view.body_limit_setting = config_name
        return view

    return mark


def apply_body_limit() -> None:
    view = current_app.view_functions.get(request.endpoint or "")
    setting = getattr(view, "body_limit_setting", None)
    if setting:
        request.max_content_length = current_app.config[setting]


def refuse_nul() -> None:
    """400 for a NUL character anywhere in the path, the query or a form: no page means it, and PostgreSQL
    refuses it in text (a 500 otherwise)."""
    values = [request.path, *request.args.keys(), *request.args.values()]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += [*request.form.keys(), *request.form.values()]
    if any("\x00" in value for value in values):
        abort(400)


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` that only matches what an id column can hold: a larger number is a 404, not a database error."""

    def __init__(self, map, fixed_digits=0, min=None, max=DB_INT_MAX, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


# ---- headers, errors --------------------------------------------------------------

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
# A picture opened on its own (a support attachment): the browser's image viewer styles it inline; nothing in it
# can run (sandbox) or load anything but itself.
PICTURE_TYPES = ("image/jpeg", "image/png")
PICTURE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox"


def security_headers(response):
    origins = current_app.config["PAYMENT_PAGE_ORIGINS"]
    # A form posted to the portal may be sent on (303) to the payment provider's page: browsers check that
    # redirect against form-action too.
    if response.mimetype in PICTURE_TYPES:
        response.headers["Content-Security-Policy"] = PICTURE_CSP
    else:
        response.headers["Content-Security-Policy"] = \
            CSP.replace("form-action 'self'", "form-action 'self' " + " ".join(origins)) if origins else CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("Referrer-Policy", "same-origin")  # the balance feed asks for none
    response.headers["X-Frame-Options"] = "DENY"
    if request.is_secure and current_app.config["HSTS_MAX_AGE"]:
        response.headers["Strict-Transport-Security"] = f"max-age={current_app.config['HSTS_MAX_AGE']}"
    if request.endpoint == "static":
        if request.args.get("v"):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    elif "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"  # pages show balances and numbers
    return response


@event.listens_for(FlaskSqlaSession, "after_begin")
def _bound_lock_waits(session, transaction, connection) -> None:
    """Every transaction of a web request that may write waits at most DB_LOCK_TIMEOUT for a row lock (PostgreSQL).

    GET and HEAD only read, and readers never wait for row locks in PostgreSQL: they skip the extra statement
    (pages keep their query budget)."""
    if connection.dialect.name != "postgresql" or not has_request_context() or request.method in SAFE_METHODS:
        return
    seconds = current_app.config["DB_LOCK_TIMEOUT"]
    if seconds:
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(seconds * 1000)}ms'")


def handle_lock_timeout(error: OperationalError):
    """A row stayed locked longer than DB_LOCK_TIMEOUT (a long top-up or billing run on the account): say
    "busy, try again" with Retry-After; this request's transaction is rolled back."""
    if getattr(error.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
        raise error
    db.session.rollback()
    response = render("errors/error.html", status=503, code=503, error=error)
    response.headers["Retry-After"] = str(max(1, int(current_app.config["DB_LOCK_TIMEOUT"])))
    return response


def handle_http_error(error: HTTPException):
    """The portal's error page, also after a database failure (unhandled errors arrive here as a 500)."""
    status = error.code or 500
    if isinstance(error, CSRFError):
        status = 400
    # A failed flush leaves the session unusable; the page must not go down with it.
    try:
        db.session.rollback()
    except Exception:  # the connection itself is gone: the page below needs none
        current_app.logger.warning("rollback before the error page failed", exc_info=True)
    if status >= 500:
        # The database may be what failed: draw the page for an anonymous visitor, with no query at all.
        g._login_user = login_manager.anonymous_user()
        g.account_cards = g.managed_accounts = []
    try:
        return render("errors/error.html", status=status, code=status, error=error)
    except Exception:  # the page itself failed (its templates, the database): a few bare words still help
        current_app.logger.exception("the error page failed")
        body = "<!doctype html><title>%d</title><p>%s</p>" % (status, escape(_("Something went wrong")))
        return make_response(body, status, {"Content-Type": "text/html; charset=utf-8"})


STATUS_LABELS = {
    "active": _l("Active"),
    "blocked_by_owner": _l("Blocked at your request"),
    "blocked_lost": _l("Blocked: lost or stolen"),
    "suspended": _l("Suspended for debt"),
    "terminated": _l("Terminated"),
}


# The main navigation's sections by blueprint; the archive sits with the settings ("More").
NAV_SECTIONS = {"account": "home", "home": "home", "payments": "payments", "tariffs": "services",
                "numbers": "numbers", "settings": "more", "support": "more", "locator": "services"}


def nav_section() -> str | None:
    endpoint = request.endpoint or ""
    if endpoint.startswith("account.archive"):
        return "more"
    if endpoint.startswith(("account.document", "account.agreement")):
        return "payments"  # reached from the payments page
    return NAV_SECTIONS.get(request.blueprint)


request_translations = formatting.reader_catalog  # the templates' _() and ngettext() use it


@pass_eval_context
def template_gettext(eval_ctx, string: str, **variables) -> str:
    """``_()`` in a template, as Jinja's newstyle gettext does it (Markup when escaping, always %-formatted),
    straight to the request's catalog: Jinja's own ``_`` resolves and calls ``gettext`` through the context
    twice (≈ 10 µs a call, and a page has dozens)."""
    text = request_translations().ugettext(string)
    if eval_ctx.autoescape:
        text = Markup(text)
    # Without a "%" the formatting changes nothing (and Markup's is not free).
    return text % variables if variables or "%" in text else text


def install_template_gettext(jinja_env) -> None:
    jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
        newstyle=True)
    jinja_env.globals["_"] = template_gettext


class PortalContext(Context):
    """Jinja's context, calling the portal's plain functions and ``_()`` straight away.

    Every call in a template goes through ``Context.call``, which looks for ``jinja_pass_arg`` on the callable
    and on its ``__call__`` before calling (≈ 1 µs; a dashboard makes about a hundred calls, ``_()`` forty of
    them). A plain function's attributes are all there is to look at; macros, classes and loop or block
    variables take Jinja's own way."""

    def call(__self, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own names: a keyword may be called "self"
        if type(__obj) is not FunctionType or "_loop_vars" in kwargs or "_block_vars" in kwargs:
            return super().call(__obj, *args, **kwargs)
        pass_arg = getattr(__obj, "jinja_pass_arg", None)
        if pass_arg is _PassArg.eval_context:
            args = (__self.eval_ctx, *args)
        elif pass_arg is not None:
            return super().call(__obj, *args, **kwargs)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined("value was undefined because a callable raised a StopIteration "
                                                "exception")


class PortalEnvironment(Environment):
    """Flask's Jinja environment, whose templates read the environment's globals dict itself.

    Jinja gives each template a ChainMap of its own globals over the environment's and copies it into a
    new context on every render, include and macro import: a Python loop over every global, ≈ 30 µs each
    time (a dashboard has fifteen). The portal never gives a template globals of its own, so they all share
    the one dict (what is added to it later is seen as before)."""

    context_class = PortalContext

    def make_globals(self, d):
        return self.globals if not d else super().make_globals(d)


def favicon():
    """Browsers ask for it on every first visit; an empty answer they may cache beats a 404 page."""
    response = make_response("", 204)
    response.headers["Cache-Control"] = "public, max-age=604800"
    return response


def init_app(app: Flask) -> None:
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    # Before CSRFProtect's own hook, which reads the form of every unexempted POST.
    app.before_request_funcs.setdefault(None, [])[0:0] = [apply_body_limit, refuse_nul]
    app.url_map.converters["int"] = BoundedIntConverter  # before the blueprints add their routes
    app.after_request(security_headers)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(OperationalError, handle_lock_timeout)
    formatting.register_filters(app.jinja_env)
    install_template_gettext(app.jinja_env)
    app.jinja_env.filters["statement_line"] = statement_line
    app.jinja_env.filters["phone"] = format_msisdn
    app.jinja_env.filters["operation_code"] = grouped_code  # K7QM4XPD → K7QM-4XPD
    # Inside a sentence: a number never breaks across lines.
    app.jinja_env.filters["phone_html"] = lambda msisdn: Markup('<span class="phone">%s</span>') % format_msisdn(msisdn)
    app.jinja_env.filters["masked_phone"] = lambda msisdn: Markup('<span class="phone">%s</span>') % mask_msisdn(msisdn)
    app.jinja_env.filters["timedelta"] = lambda value: format_timedelta(value, add_direction=False)
    app.jinja_env.globals["static_url"] = static_url
    app.extensions["portal_urls"] = {}
    app.jinja_env.globals["url_for"] = template_url_for
    app.jinja_env.globals["new_key"] = lambda: secrets.token_urlsafe(24)  # an idempotency key per rendered form
    app.jinja_env.globals["switch_labels"] = STATE_LABELS
    app.jinja_env.globals["status_label"] = lambda status: STATUS_LABELS.get(status, status)
    app.jinja_env.globals["brand"] = lambda: app.config["BRAND"]
    app.jinja_env.globals["is_customer"] = lambda: isinstance(current_user._get_current_object(), Login)
    app.jinja_env.globals["account_cards"] = account_cards
    app.jinja_env.globals["service_page"] = service_page
    app.jinja_env.globals["in_readers_language"] = in_readers_language  # a catalog name of a plain row
    app.jinja_env.globals["live"] = live_block
    app.jinja_env.globals["nav_section"] = nav_section
    app.jinja_env.globals["tab_bar"] = tab_bar
    app.jinja_env.globals["focused_account_id"] = focused_account_id
    app.jinja_env.globals["current_locale"] = formatting.reader_locale
