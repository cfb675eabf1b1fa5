"""Statement lines (ledger and bonus entries) stored as a kind and values, shown in the reader's language.

A feature writes ``description=_l("Monthly fee: %(name)s", name=...)`` as before; the entry keeps
the finished text in the operator's language (staff, exports, old readers) and, in ``params``, the
line's stable kind and its values, so the customer's page renders it again in their own language.
Rows written before ``params`` existed, or with a staff member's own words, show their stored text.
"""
from datetime import date, datetime

from flask import current_app, has_app_context
from flask_babel import force_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from portal import formatting


def _month(value: str) -> str:
    return formatting.date_pattern(date.fromisoformat(value), "LLLL y")


def _day(value: str) -> str:
    return formatting.date_long(date.fromisoformat(value))


def _loyalty(values: dict) -> str:
    return ngettext("Loyalty bonus: %(num)d year with us", "Loyalty bonus: %(num)d years with us",
                    int(values["years"]))


def _outage(values: dict) -> str:
    return ngettext("Compensation for %(num)d day without internet", "Compensation for %(num)d days without internet",
                    int(values["days"]))


def _sms_parts(values: dict) -> str:
    return ngettext("SMS to %(number)s, %(num)d part", "SMS to %(number)s, %(num)d parts", int(values["parts"]),
                    number=values["number"])


# kind → (text, how to show the values that are not plain text). Kinds are stored: never rename one.
LINES = {
    "card_payment": (_l("Card *%(last4)s"), {}),
    "provider_payment": (_l("Paid by %(method)s"), {}),  # the provider's title of a method that is not a card
    "sbp_payment": (_l("Paid through SBP"), {}),  # the Faster Payments System (СБП)
    "autopay_card_payment": (_l("Auto-payment, card *%(last4)s"), {}),
    "terminal_payment": (_l("Payment at a terminal in a shop"), {}),
    "prepaid_card": (_l("Prepaid card"), {}),
    "promised_credit": (_l("Promised payment"), {}),
    "promised_fee": (_l("Promised payment fee"), {}),
    "promised_repaid": (_l("Promised payment repaid"), {}),
    "transfer_fee": (_l("Transfer fee"), {}),
    "transfer_from": (_l("From %(number)s"), {}),
    "transfer_to": (_l("To %(number)s"), {}),
    "tariff_changed": (_l("Tariff changed to %(name)s"), {}),
    "tariff_fee": (_l("Monthly fee, tariff %(name)s"), {}),
    "service_fee": (_l("Monthly fee: %(name)s"), {}),
    "daily_fee": (_l("Daily fee: %(name)s"), {}),
    "service_connection": (_l("Connection: %(name)s"), {}),
    "service_rest_of_month": (_l("%(name)s, rest of the month"), {}),
    "service_today": (_l("%(name)s, today"), {}),
    "service_unused_part": (_l("Unused part of %(name)s"), {}),
    "paused_fee": (_l("Monthly fee while paused until %(date)s"), {"date": _day}),
    "brought_forward": (_l("Balance on %(date)s, brought forward"), {"date": _day}),
    "usage_outside_package": (_l("Calls and messages outside the package, %(month)s"), {"month": _month}),
    "bonus_for_month": (_l("For %(month)s"), {"month": _month}),
    "web_sms": (_sms_parts, {}),
    "loyalty_bonus": (_loyalty, {}),
    "outage_compensation": (_outage, {}),
    "friend_bonus": (_l("Bonus for inviting a friend"), {}),
}
_KIND_OF_TEXT = {text._args[0]: kind for kind, (text, _) in LINES.items() if isinstance(text, LazyString)}


def web_sms_line(number: str, parts: int) -> "Line":
    return Line("web_sms", {"number": number, "parts": parts})


class Line:
    """A statement line not written as one lazy string (a plural)."""

    def __init__(self, kind: str, values: dict):
        self.kind, self.values = kind, values


def _stored(value):
    if isinstance(value, datetime):
        value = value.date()
    return value.isoformat() if isinstance(value, date) else value


def params_of(description) -> dict | None:
    """The kind and values to store for ``description``; None for plain text (a staff reason, a reward's name)."""
    if isinstance(description, Line):
        return {"kind": description.kind, **{k: _stored(v) for k, v in description.values.items()}}
    if isinstance(description, LazyString):
        values = {k: _stored(v) for k, v in description._kwargs.items()}
        kind = _KIND_OF_TEXT.get(description._args[0])
        # A line not in LINES yet still follows the reader by its English text; give it a kind to
        # survive a later rewording of that text.
        return {"kind": kind, **values} if kind else {"msgid": description._args[0], **values}
    return None


def text_of(params: dict | None, stored_text: str, names: dict[str, str] | None = None) -> str:
    """The line in the current language; the stored text when it has no known kind. ``names``: the catalog's
    names (a tariff's, a service's, as the line keeps them) in the reader's language, where they differ."""
    if params and "msgid" in params:
        try:
            return gettext(params["msgid"]) % {k: v for k, v in params.items() if k != "msgid"}
        except (KeyError, ValueError, TypeError):
            return stored_text
    if not params or params.get("kind") not in LINES:
        return stored_text
    text, shown = LINES[params["kind"]]
    values = {k: v for k, v in params.items() if k != "kind"}
    if names and values.get("name") in names:
        values["name"] = names[values["name"]]
    try:
        if callable(text) and not isinstance(text, LazyString):
            return text(values)
        values = {k: shown[k](v) if k in shown else v for k, v in values.items()}
        return gettext(text._args[0]) % values
    except (KeyError, ValueError, TypeError):
        return stored_text  # a row from an older shape of this kind


def in_operator_language(description) -> str:
    """The finished text to store, in the operator's language (the default locale), whoever is signed in."""
    if isinstance(description, str):
        return description
    if not has_app_context():
        return str(description)
    # App state, not request state: the billing run and the Celery jobs write entries too.
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return text_of(params_of(description), "")
