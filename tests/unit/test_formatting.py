"""The one formatting layer: money, dates, volumes in Russian and English, with or without a request."""
from datetime import date, datetime

import pytest

from portal import formatting

NBSP = "\u00a0"


def plain(text: str) -> str:
    """Babel's no-break spaces read as spaces in the assertions."""
    return text.replace(NBSP, " ").replace("\u202f", " ")


@pytest.mark.parametrize("locale, kopecks, expected", [
    ("ru", 100600, "1 006,00 ₽"),
    ("en", 100600, "₽1,006.00"),
    ("ru", -5050, "-50,50 ₽"),
    ("en", 0, "₽0.00"),
])
def test_money_shows_the_rouble_sign_in_every_language(locale, kopecks, expected):
    assert plain(formatting.money(kopecks, locale)) == expected


def test_money_never_shows_the_currency_code():
    assert "RUB" not in formatting.money(120000, "en")


@pytest.mark.parametrize("locale, kopecks, expected", [
    ("ru", 1500000, "15 000 ₽"),
    ("en", 1500000, "₽15,000"),
    ("ru", 1550, "15,50 ₽"),  # a limit with kopecks keeps them
])
def test_a_limit_is_written_in_whole_roubles_like_other_amounts(locale, kopecks, expected):
    assert plain(formatting.money(kopecks, locale, whole=True)) == expected


@pytest.mark.parametrize("locale, expected", [("ru", "1 января 2027 г."), ("en", "January 1, 2027")])
def test_a_date_in_a_sentence_is_long(locale, expected):
    assert plain(formatting.date_long(date(2027, 1, 1), locale)) == expected


@pytest.mark.parametrize("locale, expected", [("ru", "01.01.2027"), ("en", "01/01/2027")])
def test_a_date_in_a_table_is_short_with_the_full_year(locale, expected):
    assert formatting.date_short(date(2027, 1, 1), locale) == expected


def test_a_stored_moment_is_shown_in_the_readers_zone():
    late_evening_utc = datetime(2026, 12, 31, 22, 30)  # already 1 January in Moscow
    assert formatting.date_short(late_evening_utc, "ru", "Europe/Moscow") == "01.01.2027"
    assert formatting.datetime_short(late_evening_utc, "ru", "Europe/Moscow") == "01.01.2027, 01:30"
    assert plain(formatting.datetime_short(late_evening_utc, "en", "UTC")) == "12/31/2026, 10:30 PM"


def test_empty_dates_are_blank():
    assert formatting.date_long(None, "ru") == formatting.date_short(None, "en") == ""


@pytest.mark.parametrize("locale, kb, expected", [
    ("en", 512, "512 KB"),
    ("en", 1024 * 500, "500 MB"),
    ("en", 1024 * 1023 + 512, "1,023.5 MB"),
    ("en", 1024 * 1024, "1 GB"),
    ("en", int(1024 * 1024 * 7.04), "7 GB"),
    ("en", int(1024 * 7206.2), "7 GB"),
    ("en", 1024 * 1024 * 15 // 10, "1.5 GB"),
])
def test_a_volume_is_in_megabytes_below_a_gigabyte_and_in_gigabytes_above(locale, kb, expected):
    assert formatting.volume(kb, locale) == expected


def test_volumes_in_russian_use_russian_units_and_separators(app):
    with app.test_request_context():
        assert plain(formatting.volume(1024 * 1023 + 512, "ru")) == "1 023,5 МБ"
        assert plain(formatting.volume(1024 * 1024 * 3 // 2, "ru")) == "1,5 ГБ"
        assert plain(formatting.quantity(300, "min", "ru")) == "300 мин"


def test_package_megabytes_are_a_volume(app):
    with app.test_request_context():
        assert formatting.quantity(500, "mb", "en") == "500 MB"
        assert formatting.quantity(5120, "mb", "en") == "5 GB"


def test_the_readers_language_is_used_when_none_is_given(app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("ru"):
        assert plain(formatting.money(100)) == "1,00 ₽"
        assert formatting.date_short(date(2027, 3, 2)) == "02.03.2027"
    with app.test_request_context(), force_locale("en"):
        assert formatting.money(100) == "₽1.00"
        assert formatting.date_short(date(2027, 3, 2)) == "03/02/2027"


def test_the_template_filters_are_these_functions(app):
    with app.test_request_context():
        template = app.jinja_env.from_string(
            "{{ 150000|money }}|{{ 1500000|money(whole=True) }}|{{ d|date }}|{{ d|date('short') }}"
            "|{{ 2048|quantity('mb') }}")
        assert template.render(d=date(2027, 1, 1)) == "₽1,500.00|₽15,000|January 1, 2027|01/01/2027|2 GB"


DATE_PLACEHOLDERS = ("date", "start", "end", "back")


def test_no_russian_sentence_puts_a_full_stop_after_a_long_date():
    """"1 января 2027 г." closes a sentence itself: a message must not add a second full stop."""
    import re
    from collections import defaultdict
    from pathlib import Path

    from babel.messages.pofile import read_po

    po = Path(__file__).resolve().parents[2] / "portal/translations/ru/LC_MESSAGES/messages.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale="ru")
    long_date = formatting.date_long(date(2027, 1, 1), "ru")
    doubled = []
    for message in catalog:
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in texts:
            if not text or not any(f"%({name})s" in text for name in DATE_PLACEHOLDERS):
                continue
            values = defaultdict(lambda: "1", {name: long_date for name in DATE_PLACEHOLDERS})
            rendered = re.sub(r"%\((\w+)\)[sd]", lambda m: values[m[1]], text)
            if "г.." in rendered:
                doubled.append(text)
    assert not doubled, doubled
