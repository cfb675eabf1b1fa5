"""The balance feed as read by a widget or a script: JSON with the key in the Authorization header (or in the
URL, for widgets that can only fetch a URL), and a tiny page for a browser's home screen. No session, no cookie,
no CSRF: a feed key only reads. An unknown, revoked or malformed key gets the same 404."""
import hashlib

from flask import abort, current_app, jsonify, request
from flask_babel import force_locale

from portal.domain import feed
from portal.domain.auth import network_of
from portal.extensions import db, limiter
from portal.feed import bp
from portal.models import Login, utcnow
from portal.web import bearer_token, render


def _key() -> str | None:
    if request.view_args and "key" in request.view_args:
        return request.view_args["key"]
    return bearer_token()


def _per_key() -> str:
    """One limit per key (hashed: the limiter's storage never holds a usable key)."""
    return "feed:" + hashlib.sha256((_key() or "").encode()).hexdigest()


def _per_network() -> str:
    return "feed-net:" + network_of(request.remote_addr or "0.0.0.0")


def _limit(name):
    return lambda: current_app.config[name]


def _entries():
    login_id = feed.login_of_key(db.session, _key(), now=utcnow(), ip=request.remote_addr)
    if login_id is None:
        abort(404)
    return db.session.get(Login, login_id), feed.entries(db.session, login_id, now=utcnow())


def _as_json(entry: feed.Entry) -> dict:
    package = entry.package
    return {
        "kind": entry.kind,
        "number": entry.number,
        "balance": f"{entry.balance / 100:.2f}",
        "balance_kopecks": entry.balance,
        "currency": "RUB",
        "status": entry.status,
        "tariff": entry.tariff,
        "package": None if package is None else {
            "minutes_left": package.minutes_left, "minutes_total": package.minutes_total,
            "sms_left": package.sms_left, "sms_total": package.sms_total,
            "mms_left": package.mms_left, "mms_total": package.mms_total,
            "data_mb_left": package.data_mb_left, "data_mb_total": package.data_mb_total,
            "until": package.until.isoformat() + "Z",
        },
    }


def _no_store(response):
    response.headers["Cache-Control"] = "private, no-store"  # a balance: never from a cache
    response.headers["Referrer-Policy"] = "no-referrer"  # the key may be in the URL
    return response


@bp.get("/feed.json")
@bp.get("/feed/<key>.json")
@limiter.limit(_limit("RATELIMIT_FEED"), key_func=_per_key)
@limiter.limit(_limit("RATELIMIT_FEED_NET"), key_func=_per_network)
def as_json(key: str | None = None):
    _, entries = _entries()
    return _no_store(jsonify({"as_of": utcnow().isoformat(timespec="seconds") + "Z",
                              "accounts": [_as_json(e) for e in entries]}))


@bp.get("/feed/<key>")
@limiter.limit(_limit("RATELIMIT_FEED"), key_func=_per_key)
@limiter.limit(_limit("RATELIMIT_FEED_NET"), key_func=_per_network)
def widget(key: str):
    """The same in a page small enough for a home-screen shortcut, refreshed every few minutes: in the URL's
    language (the settings page links it in the language it was read in), else the owner's saved one."""
    login, entries = _entries()
    locales = current_app.config["LOCALES"]
    lang = next((lang for lang in (request.args.get("lang"), login.language) if lang in locales),
                current_app.config["BABEL_DEFAULT_LOCALE"])
    with force_locale(lang):
        response = render("feed/widget.html", entries=entries, now=utcnow(),
                          refresh=current_app.config["FEED_REFRESH_S"])
    return _no_store(response)
