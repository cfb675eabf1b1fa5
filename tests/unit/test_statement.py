"""Statement lines: stored in the operator's language with a kind and values, shown in the reader's language."""
from datetime import date

import pytest
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from portal.domain import ledger, statement
from portal.models import LedgerEntry, utcnow
from tests import factories


@pytest.fixture
def config_overrides():
    return {"BABEL_DEFAULT_LOCALE": "ru"}  # the operator's language, as in production


def post(db_session, description):
    account = factories.make_line(db_session, "+79161234567", balance=0)
    entry = ledger.post(db_session, account, amount=-100, kind="tariff_fee", key=None, description=description,
                        now=utcnow())
    db_session.commit()
    return db_session.get(LedgerEntry, entry.id)


def test_one_row_reads_in_russian_and_in_english(db_session):
    entry = post(db_session, _l("Tariff changed to %(name)s", name="Smart"))
    assert entry.params == {"kind": "tariff_changed", "name": "Smart"}
    assert entry.description == "Переход на тариф «Smart»"  # staff and old readers see the operator's language
    with force_locale("en"):
        assert statement.text_of(entry.params, entry.description) == "Tariff changed to Smart"
    with force_locale("ru"):
        assert statement.text_of(entry.params, entry.description) == "Переход на тариф «Smart»"


def test_a_date_in_a_line_is_stored_as_a_date_and_shown_long_in_the_readers_language(db_session):
    entry = post(db_session, _l("Monthly fee while paused until %(date)s", date=date(2027, 1, 31)))
    assert entry.params == {"kind": "paused_fee", "date": "2027-01-31"}
    with force_locale("en"):
        assert statement.text_of(entry.params, entry.description) == "Monthly fee while paused until January 31, 2027"


def test_a_plural_line_agrees_with_its_number(db_session):
    entry = post(db_session, statement.web_sms_line("+7 916 000-00-01", 1))
    with force_locale("en"):
        assert statement.text_of(entry.params, entry.description) == "SMS to +7 916 000-00-01, 1 part"
        assert statement.text_of({**entry.params, "parts": 3}, "") == "SMS to +7 916 000-00-01, 3 parts"


def test_plain_text_is_kept_as_written(db_session):
    entry = post(db_session, "Компенсация за перебой связи")  # a staff member's own words
    assert entry.params is None
    with force_locale("en"):
        assert statement.text_of(entry.params, entry.description) == "Компенсация за перебой связи"


def test_rows_without_params_or_of_an_unknown_kind_show_their_stored_text():
    with force_locale("en"):
        assert statement.text_of(None, "Плата за обещанный платёж") == "Плата за обещанный платёж"
        assert statement.text_of({"kind": "gone"}, "старый текст") == "старый текст"
        assert statement.text_of({"kind": "tariff_changed"}, "без имени") == "без имени"  # a value missing


def test_a_line_without_a_kind_yet_still_follows_the_reader_by_its_text(db_session):
    entry = post(db_session, _l("Transfer received"))  # a translated text that is not in statement.LINES
    assert entry.params == {"msgid": "Transfer received"}
    with force_locale("en"):
        assert statement.text_of(entry.params, entry.description) == "Transfer received"
    with force_locale("ru"):
        assert statement.text_of(entry.params, entry.description) == entry.description != "Transfer received"


def test_the_demos_own_lines_read_in_english_too(db_session):
    entry = post(db_session, statement.Line("loyalty_bonus", {"years": 7}))
    assert entry.description == "Бонус за верность: 7 лет с нами"
    with force_locale("en"):
        assert statement.text_of(entry.params, entry.description) == "Loyalty bonus: 7 years with us"
