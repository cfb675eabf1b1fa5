"""The public status page: current outages and works, and those over lately. No sign-in, no personal data.

Cacheable by anyone for a minute (``Cache-Control: public``); the ETag is the page's hash, so a browser asking
again with it gets a 304. The page carries no CSRF token and sets no cookie (``public`` in base.html), and the
language is the ``lang`` argument's (the links at the bottom) or the default, never a cookie's, so one URL is one
page for every reader. A reader who chose another language in the portal and comes without ``lang`` is sent to
the URL of their language (the page without ``lang`` varies by cookie for that reason).
"""
import hashlib

from flask import abort, current_app, g, redirect, request
from flask_babel import force_locale

from portal.domain import notices
from portal.domain.notices.labels import KIND_LABELS, STATE_LABELS, area
from portal.extensions import db
from portal.models import utcnow
from portal.status import bp
from portal.web import render, select_locale

MAX_AGE = 60


def _language() -> str:
    lang = request.args.get("lang")
    return lang if lang in current_app.config["LOCALES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


def public_page(template: str, **context):
    """Render in the URL's language; 304 when the browser has this very page."""
    if "lang" not in request.args:
        chosen = select_locale()
        if chosen != current_app.config["BABEL_DEFAULT_LOCALE"]:
            response = redirect(request.base_url + "?" + request.query_string.decode("ascii", "replace")
                                + ("&" if request.query_string else "") + f"lang={chosen}")
            response.headers["Cache-Control"] = "private, no-cache"
            response.vary.add("Cookie")
            return response
    lang = _language()
    g.public_page = True  # the default time zone, not the reader's (web.select_timezone)
    with force_locale(lang):
        response = render(template, public=True, lang=lang, **context)
    tag = hashlib.sha256(response.get_data()).hexdigest()[:20]
    response.set_etag(tag)
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    if "lang" not in request.args:
        response.vary.add("Cookie")
    # The compressed body's tag carries the coding (portal.compression): the same page either way.
    if any(sent in (tag, f"{tag}-br", f"{tag}-gzip") for sent in request.if_none_match):
        response.status_code = 304
        response.set_data(b"")
    return response


@bp.get("", strict_slashes=False)
def index():
    return public_page("status/index.html", board=notices.status_board(db.session, now=utcnow()))


@bp.get("/<int:notice_id>")
def notice(notice_id: int):
    found = notices.public_notice(db.session, notice_id)
    if found is None:
        abort(404)
    return public_page("status/notice.html", notice=found)


@bp.app_context_processor
def notice_words():
    """The words for notices, for the status pages, the dashboards and the staff pages."""
    return {"notice_kinds": KIND_LABELS, "notice_states": STATE_LABELS, "notice_area": area}
