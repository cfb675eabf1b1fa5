from datetime import date

import pytest

from portal.domain.workdays import add_working_days, parse_holidays

MONDAY = date(2026, 11, 23)


@pytest.mark.parametrize(("start", "due"), [
    (date(2026, 11, 23), date(2026, 11, 25)),  # Monday → Wednesday
    (date(2026, 11, 26), date(2026, 11, 30)),  # Thursday → Monday
    (date(2026, 11, 27), date(2026, 12, 1)),   # Friday → Tuesday
    (date(2026, 11, 28), date(2026, 12, 1)),   # Saturday → Tuesday (Monday is the first working day)
    (date(2026, 11, 29), date(2026, 12, 1)),   # Sunday → Tuesday
])
def test_two_working_days_skip_the_weekend(start, due):
    assert add_working_days(start, 2) == due


def test_holidays_do_not_count():
    holidays = parse_holidays(["2026-11-24", date(2026, 11, 25)])
    assert add_working_days(MONDAY, 2, holidays) == date(2026, 11, 27)


def test_new_year_holidays_and_a_weekend_in_a_row():
    holidays = parse_holidays([f"2027-01-0{d}" for d in range(1, 9)])
    assert add_working_days(date(2026, 12, 31), 2, holidays) == date(2027, 1, 12)


def test_at_least_one_day():
    with pytest.raises(ValueError):
        add_working_days(MONDAY, 0)


def test_the_configured_holidays_parse():
    from portal import config

    assert all(isinstance(d, date) for d in parse_holidays(config.HOLIDAYS))
