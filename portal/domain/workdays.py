"""Working days: the one place that knows weekends and public holidays."""
from collections.abc import Iterable
from datetime import date, timedelta


def is_working_day(day: date, holidays: frozenset[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_working_days(start: date, days: int, holidays: Iterable[date] = ()) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself does not count).

    A request made on Friday with 2 working days is due on Tuesday; one made on a
    Saturday is due on Tuesday too (Monday is the first working day after it).
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    holidays = frozenset(holidays)
    day = start
    while days:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            days -= 1
    return day


def parse_holidays(values: Iterable[str | date]) -> frozenset[date]:
    """The HOLIDAYS setting: ISO dates (``2027-01-01``) or dates."""
    return frozenset(v if isinstance(v, date) else date.fromisoformat(v) for v in values)
