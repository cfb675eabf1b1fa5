"""An auto-payment's failures are counted in words that agree with the number."""
import pytest
from flask_babel import force_locale

PLURAL = "{{ ngettext('failed %(num)d time in a row', 'failed %(num)d times in a row', n) }}"


@pytest.mark.parametrize("locale, n, expected", [("en", 1, "failed 1 time in a row"),
                                                 ("en", 3, "failed 3 times in a row"),
                                                 ("ru", 1, "не прошёл 1 раз подряд"),
                                                 ("ru", 3, "не прошёл 3 раза подряд")])
def test_the_failure_count_agrees_with_its_number(app, locale, n, expected):
    with app.test_request_context(), force_locale(locale):
        assert app.jinja_env.from_string(PLURAL).render(n=n) == expected
