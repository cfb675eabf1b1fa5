"""Templates translate through the request's catalog, looked up once (portal/web.py: request_translations)."""
from flask import render_template_string
from flask_babel import force_locale, gettext, lazy_gettext, refresh


def test_templates_follow_the_language_and_force_locale(app):
    template = "{{ _('Home') }} · {{ ngettext('%(num)s day', '%(num)s days', 2) }}"
    with app.test_request_context("/"):
        assert render_template_string(template).startswith("Home")
        with force_locale("ru"):  # an SMS or a mail in the owner's language, in the middle of a request
            assert render_template_string(template).startswith("Главная")
        assert render_template_string(template).startswith("Home")


def test_a_refreshed_language_is_taken_at_once(app):
    with app.test_request_context("/"):
        assert render_template_string("{{ _('Home') }}") == "Home"
        app.config["BABEL_DEFAULT_LOCALE"] = "ru"
        refresh()
        assert render_template_string("{{ _('Home') }}") == "Главная"


def test_python_gettext_and_lazy_strings_follow_the_language_too(app):
    """Flask-Babel's domain keeps the catalog for the request (portal/formatting.py: CatalogPerRequest)."""
    home = lazy_gettext("Home")
    with app.test_request_context("/"):
        assert (gettext("Home"), str(home)) == ("Home", "Home")
        with force_locale("ru"):
            assert (gettext("Home"), str(home)) == ("Главная", "Главная")
        assert (gettext("Home"), str(home)) == ("Home", "Home")
        app.config["BABEL_DEFAULT_LOCALE"] = "ru"
        refresh()
        assert (gettext("Home"), str(home)) == ("Главная", "Главная")
