"""Call details: the period rule, the keyset pages, the totals and the formatting helpers."""
import csv
import io
from datetime import date, datetime, timedelta

import pytest
from flask_babel import force_locale

from portal.domain import details
from portal.domain.history import Period
from portal.models import UsageRecord
from tests import factories

TODAY = date(2026, 11, 28)


def test_six_calendar_months_back_keeps_the_day_or_takes_the_months_last():
    assert details.earliest_start(TODAY) == date(2026, 5, 28)
    assert details.months_back(date(2026, 8, 31), 6) == date(2026, 2, 28)
    assert details.months_back(date(2028, 8, 31), 6) == date(2028, 2, 29)
    assert details.months_back(date(2026, 3, 31), 6) == date(2025, 9, 30)
    assert details.months_back(date(2026, 1, 15), 1) == date(2025, 12, 15)


def test_the_default_period_is_this_month_so_far():
    assert details.default_period(TODAY) == (date(2026, 11, 1), TODAY)
    assert details.default_period(date(2026, 12, 1)) == (date(2026, 12, 1), date(2026, 12, 1))


@pytest.mark.parametrize("start, end, field", [
    (date(2026, 11, 2), date(2026, 11, 1), "start"),   # reversed
    (date(2026, 11, 1), date(2026, 11, 29), "end"),    # ends tomorrow
    (date(2026, 5, 27), TODAY, "start"),               # one day too far back
])
def test_a_bad_period_is_refused_on_its_field(app, start, end, field):
    with app.test_request_context():
        with pytest.raises(details.BadPeriod) as refused:
            details.check_period(start, end, today=TODAY)
    assert refused.value.field == field


def test_a_period_of_exactly_six_months_up_to_today_is_accepted(app):
    with app.test_request_context():
        period = details.check_period(date(2026, 5, 28), TODAY, today=TODAY, tz="Europe/Moscow")
    assert period.bounds == (datetime(2026, 5, 27, 21), datetime(2026, 11, 28, 21))


def test_cursors_round_trip_and_mangled_ones_mean_the_first_page():
    cursor = (datetime(2026, 11, 28, 10, 15, 1, 250), 42)
    assert details.decode_cursor(details.encode_cursor(cursor)) == cursor
    for bad in (None, "", "x-1", "20261128-", "2026112810150100000-abc"):
        assert details.decode_cursor(bad) is None


def test_formatting_helpers(app):
    with app.test_request_context():
        assert [details.format_duration(s) for s in (0, 5, 75, 3600)] == ["0:00", "0:05", "1:15", "60:00"]
        assert details.format_volume(512) == "512 KB"
        assert details.format_volume(1536) == "1.5 MB"
        assert details.format_volume(2048 * 1024) == "2 GB"  # from a gigabyte in GB, as everywhere
        assert details.format_amount("call_out", 61) == "1:01"
        assert details.format_amount("data", 100) == "100 KB"
        assert details.format_amount("sms", 1) == ""
        assert details.format_counterpart("+79161234567") == "+7 916 123-45-67"
        assert details.format_counterpart("Bank") == "Bank"
        assert details.format_counterpart("internet") == "Internet"
        assert details.format_roubles(123456) == "1,234.56"
        assert details.format_roubles(5, "ru") == "0,05"


def test_shown_records_write_each_column_in_the_language_and_zone_given(app):
    from types import SimpleNamespace

    rows = [SimpleNamespace(started_at=datetime(2026, 11, 27, 22, 5), kind="call_out", counterpart="+79161234567",
                            quantity=75, cost=12345),
            SimpleNamespace(started_at=datetime(2026, 11, 27, 20, 0), kind="data", counterpart="internet",
                            quantity=1536, cost=0)]
    with app.test_request_context():
        english = details.shown_records(rows, locale="en", tz="UTC")
    assert english == [("11/27/2026, 10:05\u202fPM", "Outgoing call", "+7 916 123-45-67", "1:15", "₽123.45"),
                       ("11/27/2026, 8:00\u202fPM", "Internet session", "Internet", "1.5 MB", "₽0.00")]
    with app.test_request_context(), force_locale("ru"):
        russian = details.shown_records(rows, locale="ru", tz="Europe/Moscow")
    assert russian[0] == ("28.11.2026, 01:05", "Исходящий звонок", "+7 916 123-45-67", "1:15", "123,45\xa0₽")
    assert russian[1][1:4] == ("Интернет-сессия", "Интернет", "1,5 МБ")


def add_usage(session, account_id, n, *, start=None, kind="call_out", quantity=60, cost=100, step=timedelta(minutes=7)):
    start = start or datetime(2026, 11, 20, 12)
    for i in range(n):
        session.add(UsageRecord(account_id=account_id, started_at=start - i * step, kind=kind,
                                counterpart="+79031112233", quantity=quantity, cost=cost))
    session.commit()


def test_pages_run_newest_first_by_keyset_without_gaps_or_repeats_even_on_equal_times(db_session):
    account = factories.make_line(db_session)
    other = factories.make_line(db_session, "+79031112233")
    add_usage(db_session, account.id, 30, step=timedelta(0))  # 30 records at the same second
    add_usage(db_session, account.id, 25, start=datetime(2026, 11, 19), kind="sms", quantity=1)
    add_usage(db_session, other.id, 10)
    period = Period(date(2026, 11, 1), TODAY)
    seen, cursor = [], None
    while True:
        rows, cursor = details.records_page(db_session, account.id, period, (), before=cursor, size=7)
        seen.extend(rows)
        if cursor is None:
            break
    assert len(seen) == 55 and len({r.id for r in seen}) == 55
    keys = [(r.started_at, r.id) for r in seen]
    assert keys == sorted(keys, reverse=True)
    assert {r.account_id for r in seen} == {account.id}
    calls, _ = details.records_page(db_session, account.id, period, details.kinds_of("calls"), size=100)
    assert len(calls) == 30


def test_totals_sum_the_whole_filtered_period(db_session, count_queries):
    account = factories.make_line(db_session)
    add_usage(db_session, account.id, 3, quantity=90, cost=250)
    add_usage(db_session, account.id, 2, kind="data", quantity=2048, cost=0)
    add_usage(db_session, account.id, 1, kind="sms", quantity=1, cost=200)
    add_usage(db_session, account.id, 1, start=datetime(2026, 10, 1))  # outside the period
    period, account_id = Period(date(2026, 11, 1), TODAY), account.id
    with count_queries() as queries:
        total = details.totals(db_session, account_id, period, ())
    assert len(queries) == 2  # how far the roll-up goes (nowhere here), then one aggregate of the records
    assert total == details.Totals(count=6, seconds=270, kb=4096, cost=950)
    assert details.totals(db_session, account.id, period, ("data",)) == details.Totals(2, 0, 4096, 0)


def test_the_export_reads_in_chunks_and_the_csv_has_a_bom_and_local_times(app, db_session, count_queries):
    account = factories.make_line(db_session)
    add_usage(db_session, account.id, 25)
    period, account_id = Period(date(2026, 11, 1), TODAY, "Europe/Moscow"), account.id
    with count_queries() as queries:
        rows = list(details.iter_records(db_session, account_id, period, (), chunk=10))
    assert len(rows) == 25 and len(queries) == 3
    assert len(list(details.iter_records(db_session, account.id, period, (), chunk=10, limit=12))) == 12
    with app.test_request_context():
        text = "".join(details.csv_lines(db_session, account.id, period, (), tz="Europe/Moscow"))
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text[1:])))
    assert table[0] == ["Time", "Kind code", "Kind", "Number", "Duration, s", "Volume, KB", "Cost, ₽"]
    assert table[1] == ["2026-11-20T15:00:00+03:00", "call_out", "Outgoing call", "+79031112233", "60", "", "1.00"]
    assert len(table) == 26


def test_the_printed_form_is_a_pdf_with_the_number_and_is_capped(app, db_session):
    account = factories.make_line(db_session)
    add_usage(db_session, account.id, 12)
    period = Period(date(2026, 11, 1), TODAY, "Europe/Moscow")
    with app.test_request_context():
        pdf = details.build_pdf(db_session, account, period, None, locale="ru", brand="TestTel",
                                now=datetime(2026, 11, 28, 12), max_rows=5)
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 1000
