"""WTForms' own messages come in the reader's language, from a catalog read once per process (portal/forms.py)."""
from contextlib import nullcontext

from flask import request
from flask_babel import force_locale

from portal.forms import PeriodForm


def errors_for(app, query: str, locale: str | None = None) -> list[str]:
    with app.test_request_context(f"/?{query}"), (force_locale(locale) if locale else nullcontext()):
        form = PeriodForm(request.args, kinds=[("sms", "SMS")])
        form.validate()
        return form.start.errors + form.kind.errors


def test_wtforms_messages_follow_the_readers_language(app):
    assert errors_for(app, "start=yesterday&kind=bogus") == ["Not a valid date value.", "Not a valid choice."]
    assert errors_for(app, "start=yesterday&kind=bogus", "ru") == ["Неверное значение даты.", "Неверный вариант."]
    assert errors_for(app, "start=yesterday") == ["Not a valid date value."]
