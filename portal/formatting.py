"""How the portal writes money, dates, times and volumes: one set of functions for pages, SMS, PDF and CSV.

Every function takes an optional ``locale`` (and ``tz`` for moments); without one it uses the
reader's (Flask-Babel's selection inside a request or ``force_locale``), else the operator's
default. Nothing here needs a request, so the billing run and the Celery jobs format the same way.

Babel is exact but slow (≈ 40 µs for an amount, a date or a time), and a page of call details
formats hundreds of them: the texts are memoised per (value, language), so each distinct amount,
day and minute is worked out once per process. The reader's language and zone are still looked up
on every call, since ``force_locale`` may change them for a moment (an SMS in the owner's language).
"""
from datetime import date, datetime, time, timezone
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_date
from babel.dates import format_time as babel_time
from babel.numbers import format_currency, format_decimal
from flask import g, has_app_context
from flask_babel import Domain, get_locale

DEFAULT_LOCALE = "ru"
DEFAULT_TIMEZONE = "Europe/Moscow"
ROUBLE_SIGN = "₽"  # CLDR's English symbol for RUB is "RUB"; the portal shows the sign in every language
# Tables: fixed-width numeric dates with a four-digit year, in the order each language reads them.
SHORT_DATE = {"ru": "dd.MM.y", "en": "MM/dd/y"}
KB_IN_MB = 1024
KB_IN_GB = 1024 * 1024


def N_(message: str) -> str:  # noqa: N802 - Babel's default keyword for "extract this, translate it later"
    return message


# Translated when written (``_translated``), through the reader's catalog.
UNITS = {"min": N_("%(n)s min"), "pcs": N_("%(n)s"), "kb": N_("%(n)s KB"), "mb": N_("%(n)s MB"),
         "gb": N_("%(n)s GB")}


def reader_locale(locale=None) -> str:
    """The language to write in: the one asked for, else the reader's, else the operator's."""
    if locale:
        return str(locale)
    if not has_app_context():
        return DEFAULT_LOCALE
    # Flask-Babel's own slot for the request's choice (which force_locale and refresh() clear): a page asks a few
    # dozen times, and get_locale() finds it through two more context look-ups each time.
    chosen = getattr(g.get("_flask_babel"), "babel_locale", None)
    return _locale_name(chosen if chosen is not None else get_locale())


@lru_cache(maxsize=16)
def _locale_name(locale) -> str:
    """A Babel Locale's name ("ru"): Babel builds the string afresh each time, and a page asks hundreds of times."""
    return str(locale or DEFAULT_LOCALE)


def reader_timezone(tz=None) -> ZoneInfo:
    if tz:
        return tz if isinstance(tz, ZoneInfo) else ZoneInfo(str(tz))
    from flask import has_app_context
    from flask_babel import get_timezone

    zone = get_timezone() if has_app_context() else None
    return ZoneInfo(str(zone)) if zone else ZoneInfo(DEFAULT_TIMEZONE)


@lru_cache(maxsize=16)
def _money_pattern(locale: str, whole: bool) -> str:
    pattern = Locale.parse(locale).currency_formats["standard"].pattern
    return pattern.replace(".00", "") if whole else pattern


@lru_cache(maxsize=16)
def _short_date_pattern(locale: str) -> str:
    return SHORT_DATE.get(Locale.parse(locale).language, SHORT_DATE["en"])


def reader_catalog():
    """The reader's catalog: Flask-Babel's for this request and language, looked up once (``CatalogPerRequest``)."""
    from flask import g
    from flask_babel import get_translations

    translations = getattr(g.get("_flask_babel"), "babel_translations", None)
    return translations if translations is not None else get_translations()


class CatalogPerRequest(Domain):
    """Flask-Babel's message domain, whose catalog is looked up once per request and language.

    Flask-Babel resolves the context, the locale and its catalog on every gettext (≈ 20 µs, and a page has
    dozens: form labels, choices, the domain's messages). ``babel_translations`` on its request context is the
    slot it clears itself whenever the language changes: ``force_locale`` (an SMS in the owner's language) and
    ``refresh()``.
    """

    def get_translations(self):
        from flask import g, has_app_context

        context = g.get("_flask_babel") if has_app_context() else None
        translations = getattr(context, "babel_translations", None)
        if translations is None:
            translations = super().get_translations()
            context = g.get("_flask_babel") if has_app_context() else None
            if context is not None:
                context.babel_translations = translations
        return translations


def _translated(message: str, locale: str, **params) -> str:
    """A marked message in ``locale``, also outside a request (SMS texts of the billing run)."""
    from flask_babel import force_locale

    if not has_app_context():
        text = message
    elif reader_locale() == locale:
        text = reader_catalog().ugettext(message)
    else:
        with force_locale(locale):
            text = reader_catalog().ugettext(message)
    return text % params if params else text


# ---- money ---------------------------------------------------------------------------------------------

def money(kopecks: int | None, locale=None, *, whole: bool = False) -> str:
    """Kopecks as roubles with the ₽ sign: 100600 → "1 006,00 ₽" / "₽1,006.00".

    ``whole`` drops ",00" from a round amount, for limits and hints ("до 15 000 ₽").
    """
    return _money_text(kopecks or 0, reader_locale(locale), whole)


@lru_cache(maxsize=8192)
def _money_text(kopecks: int, locale: str, whole: bool) -> str:
    pattern = _money_pattern(locale, whole and kopecks % 100 == 0)
    text = format_currency(Decimal(kopecks).scaleb(-2), "RUB", format=pattern, locale=locale, currency_digits=False)
    return text.replace("RUB", ROUBLE_SIGN)


def number(value, locale=None) -> str:
    return _number_text(value, reader_locale(locale))


@lru_cache(maxsize=8192, typed=True)  # 1, 1.0 and Decimal('1.00') are one key otherwise
def _number_text(value, locale: str) -> str:
    return format_decimal(value, locale=locale)


# ---- dates and times -----------------------------------------------------------------------------------

def local_moment(value: datetime, tz=None) -> datetime:
    """A stored moment (naive means UTC) in the reader's zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(reader_timezone(tz))


def _day(value, tz=None) -> date:
    return local_moment(value, tz).date() if isinstance(value, datetime) else value


def date_long(value, locale=None, tz=None) -> str:
    """A day for a sentence: "1 января 2027 г." / "January 1, 2027"."""
    if not value:
        return ""
    return _date_text(_day(value, tz), "long", reader_locale(locale))


def date_short(value, locale=None, tz=None) -> str:
    """A day for a table: "01.01.2027" / "01/01/2027"."""
    if not value:
        return ""
    locale = reader_locale(locale)
    return _date_text(_day(value, tz), _short_date_pattern(locale), locale)


@lru_cache(maxsize=4096)
def _date_text(day: date, pattern: str, locale: str) -> str:
    return babel_date(day, pattern, locale=locale)


def time_short(value, locale=None, tz=None) -> str:
    """A time of day: "13:05" / "1:05 PM"."""
    if isinstance(value, datetime):
        value = local_moment(value, tz)
    return _time_text(value.hour, value.minute, reader_locale(locale))


@lru_cache(maxsize=4096)
def _time_text(hour: int, minute: int, locale: str) -> str:
    return babel_time(time(hour, minute), "short", locale=locale)


def datetime_short(value, locale=None, tz=None) -> str:
    """A moment for a table: "01.01.2027, 13:05" / "01/01/2027, 1:05 PM"."""
    if not value:
        return ""
    moment, locale = local_moment(value, tz), reader_locale(locale)
    return f"{date_short(moment.date(), locale)}, {time_short(moment.time(), locale)}"


def datetime_long(value, locale=None, tz=None) -> str:
    """A moment for a sentence: "1 января 2027 г., 13:05" / "January 1, 2027, 1:05 PM"."""
    if not value:
        return ""
    moment, locale = local_moment(value, tz), reader_locale(locale)
    return f"{date_long(moment.date(), locale)}, {time_short(moment.time(), locale)}"


def date_pattern(value, pattern: str, locale=None, tz=None) -> str:
    """A chart's own CLDR pattern ("LLL", "dd.MM"); not for text."""
    return babel_date(_day(value, tz), pattern, locale=reader_locale(locale)) if value else ""


# ---- volumes and package amounts -----------------------------------------------------------------------

def volume(kb: int, locale=None) -> str:
    """Kilobytes in the largest fitting unit: KB below 1 MB, MB below 1 GB, GB from 1 GB (one decimal at most)."""
    locale = reader_locale(locale)
    unit, amount = _volume_amount(kb or 0, locale)
    return _translated(UNITS[unit], locale, n=amount)


@lru_cache(maxsize=8192)
def _volume_amount(kb: int, locale: str) -> tuple[str, str]:
    if kb < KB_IN_MB:
        unit, amount = "kb", Decimal(kb)
    elif kb < KB_IN_GB:
        unit, amount = "mb", round(Decimal(kb) / KB_IN_MB, 1)
    else:
        unit, amount = "gb", round(Decimal(kb) / KB_IN_GB, 1)
    return unit, format_decimal(amount, format="#,##0.#", locale=locale)


def quantity(amount: int, unit: str, locale=None) -> str:
    """A package amount with its unit: minutes, pieces, or megabytes (shown as a volume)."""
    locale = reader_locale(locale)
    if unit == "mb":
        return volume((amount or 0) * KB_IN_MB, locale)
    return _translated(UNITS[unit], locale, n=_number_text(amount or 0, locale))


# ---- Jinja ---------------------------------------------------------------------------------------------

def _date_filter(value, fmt: str = "long"):
    """``|date`` is the long form for sentences, ``|date('short')`` the table form; other patterns for charts."""
    if fmt == "long":
        return date_long(value)
    if fmt == "short":
        return date_short(value)
    return date_pattern(value, fmt)


def _datetime_filter(value, fmt: str = "long"):
    return datetime_short(value) if fmt == "short" else datetime_long(value)


def register_filters(jinja_env) -> None:
    """The template names of these functions (kept from the first templates: money, date, datetime …)."""
    jinja_env.filters["money"] = lambda kopecks, whole=False: money(kopecks, whole=whole)
    jinja_env.filters["quantity"] = lambda amount, unit: quantity(amount, unit)
    jinja_env.filters["volume"] = lambda kb: volume(kb)
    jinja_env.filters["number"] = lambda value: number(value)
    jinja_env.filters["date"] = _date_filter
    jinja_env.filters["datetime"] = _datetime_filter
    jinja_env.filters["time"] = lambda value: time_short(value)
