"""Counted words agree with their number in both languages (ngettext, not "(s)")."""
import pytest
from flask_babel import force_locale

FAILURES = "{{ ngettext('failed %(num)d time in a row', 'failed %(num)d times in a row', n) }}"
POINTS = "{{ ngettext('%(num)s point', '%(num)s points', n, num=n|number) }}"


@pytest.mark.parametrize("template, locale, n, expected", [
    (FAILURES, "en", 1, "failed 1 time in a row"), (FAILURES, "en", 3, "failed 3 times in a row"),
    (FAILURES, "ru", 1, "не прошёл 1 раз подряд"), (FAILURES, "ru", 3, "не прошёл 3 раза подряд"),
    (POINTS, "en", 1, "1 point"), (POINTS, "en", 1200, "1,200 points"),
    (POINTS, "ru", 1, "1 балл"), (POINTS, "ru", 3, "3 балла"), (POINTS, "ru", 1200, "1\u00a0200 баллов"),
])
def test_a_count_agrees_with_its_number(app, template, locale, n, expected):
    with app.test_request_context(), force_locale(locale):
        assert app.jinja_env.from_string(template).render(n=n) == expected
