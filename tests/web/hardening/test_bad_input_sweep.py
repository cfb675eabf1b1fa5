"""Bad input is a 4xx, never a 500: every route, anonymous, as a customer and as staff.

NUL characters, integers beyond the database's range, newlines, malformed idempotency keys:
PostgreSQL raises on the first two where SQLite does not, so this runs on both
(TEST_DATABASE_URL). Each route's form fields are read from its page when it has one.
"""
import re
from urllib.parse import quote

import pytest

from tests import factories

HUGE = "99999999999999999999"
NUL = "ab\x00cd"
NEWLINE = "/\n/evil.example"
BAD_KEY = "not a key!"
# Fields of forms that have no page of their own (a button on another page).
COMMON_FIELDS = ["account", "next", "phone", "captcha_token", "captcha", "code", "idempotency_key", "messages",
                 "melody", "choices", "entries", "number", "action", "lang", "confirm", "back", "reason", "amount",
                 "points", "password", "email", "days", "pin", "recipient"]
QUERY = {"before": HUGE, "next": NEWLINE, "phone": HUGE, "start": HUGE, "end": HUGE, "kind": HUGE, "period": HUGE,
         "to": NEWLINE, "q": HUGE, "account": HUGE}
# Sessions end here: swept last, so the rest runs signed in.
LAST = ("auth.logout", "admin.logout", "settings.end_other_sessions", "settings.end_session", "settings.close",
        "settings.close_code", "settings.password")
SKIP = {"static"}


@pytest.fixture
def config_overrides():
    # Limits would answer 429 before the view reads the input under test.
    return {"RATELIMIT_ENABLED": False}


@pytest.fixture
def world(db_session):
    login = factories.ensure_login(db_session, "+79161234567")
    service = factories.make_service(db_session)
    factories.make_subscription(db_session, login.primary_account, service)
    factories.make_staff(db_session, email="admin@example.com", role="admin")
    db_session.commit()
    return login


def sign_in(client, who: str) -> None:
    if who == "customer":
        assert client.post_form("/auth/login", {"phone": "+79161234567",
                                                "password": factories.PASSWORD}).status_code == 303
    elif who == "staff":
        assert client.post_form("/admin/login", {"email": "admin@example.com",
                                                 "password": factories.PASSWORD}).status_code == 303


def url_of(rule, int_value: str, text_value: str) -> str:
    """The rule's path with ``int_value`` in its int parts and ``text_value`` in its string parts."""
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        if "Int" in kind:
            values[name] = int_value
        elif "Any" in kind:
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = text_value
    path = rule.rule
    for name, value in values.items():
        path = re.sub(r"<[^>]*\b" + name + ">", quote(value, safe=""), path)
    return path


def field_names(html: str) -> list[str]:
    names = set(re.findall(r'name="([^"]+)"', html)) - {"csrf_token", "csrf-token", "viewport", "htmx-config"}
    return sorted(names) or COMMON_FIELDS


def sweep(app, client) -> list[str]:
    """Every route with bad values; the 5xx answers, described."""
    failures = []

    def check(response, what):
        if response.status_code >= 500:
            failures.append(f"{response.status_code} {what}")

    rules = [r for r in app.url_map.iter_rules() if r.endpoint not in SKIP]
    rules.sort(key=lambda r: r.endpoint in LAST)
    for rule in rules:
        fields = COMMON_FIELDS
        url = url_of(rule, "1", "x")
        if "GET" in rule.methods:
            response = client.get(url)
            check(response, f"GET {url!r}")
            if response.status_code == 200 and "html" in response.mimetype:
                fields = sorted(set(field_names(response.text)) | {"idempotency_key"})
            check(client.get(url, query_string=QUERY), f"GET {url!r} {QUERY}")
            check(client.get(url, query_string={k: NUL for k in QUERY}), f"GET {url!r} NUL query")
        if "POST" in rule.methods:
            for value in (HUGE, NUL, NEWLINE, BAD_KEY):
                check(client.post_form(url, {name: value for name in fields}), f"POST {url!r} fields={value!r}")
            check(client.post(url, data=b"{}", content_type="application/json", headers={"X-Signature": "подпись"}),
                  f"POST {url!r} non-ASCII signature")
        bad_url = url_of(rule, HUGE, NUL)
        if bad_url != url:
            method = client.get if "GET" in rule.methods else client.post_form
            check(method(bad_url), f"{method.__name__} {bad_url!r}")
    return failures


@pytest.mark.parametrize("who", ["anonymous", "customer", "staff"])
def test_no_route_answers_5xx_to_bad_input(app, client, world, who):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a 500 is an answer here, as in production
    sign_in(client, who)
    failures = sweep(app, client)
    assert failures == [], "\n".join(failures)
