"""The catalog in the reader's language: the English name and description the operator gave, for a reader of
English, everywhere a customer meets a tariff or a service; the operator's own (Russian) for everyone else and
where no English was given."""
import pytest
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from portal.domain import ledger
from portal.models import Service, Tariff, utcnow
from portal.models.catalog import in_readers_language
from tests import factories


@pytest.fixture
def catalog(db_session):
    smart = factories.make_tariff(db_session, name="Смарт", name_en="Smart", description="Самое нужное.",
                                  description_en="The essentials.")
    other = factories.make_tariff(db_session, name="Безлимит", description="Без ограничений.")  # no English
    line = factories.make_line(db_session, "+79161234567", tariff=smart, balance=100000)
    services = dict(
        who=factories.make_service(db_session, name="Кто звонил", name_en="Who called",
                                   description="SMS о пропущенных.", description_en="An SMS about missed calls."),
        music=factories.make_service(db_session, name="Музыка", name_en="Music", category="subscription",
                                     monthly_fee=19900),
        plain=factories.make_service(db_session, name="Антиспам", description="Без спама."),  # no English
    )
    factories.make_subscription(db_session, line, services["who"])
    factories.make_subscription(db_session, line, services["music"])
    db_session.commit()
    return dict(line=line, smart=smart, other=other, **services)


def reader(client, db_session, line, language: str):
    factories.make_login(db_session, line, language=language)
    db_session.commit()
    assert client.post_form("/auth/login", {"phone": "+79161234567", "password": factories.PASSWORD}).status_code == 303
    return client


def test_the_english_text_for_a_reader_of_english_and_the_operators_own_otherwise(app):
    with app.test_request_context():
        with force_locale("en"):
            assert in_readers_language("Музыка", "Music") == "Music"
            assert in_readers_language("Музыка", None) == "Музыка"
            assert Service(name="Музыка", name_en="Music", description="", description_en=None).about == ""
        with force_locale("ru"):
            assert in_readers_language("Музыка", "Music") == "Музыка"
            assert Tariff(name="Смарт", name_en="Smart").title == "Смарт"
    with app.app_context(), force_locale("ru"):  # a job writing to a reader of Russian
        assert in_readers_language("Музыка", "Music") == "Музыка"


@pytest.mark.parametrize("path", ["/", "/services/", "/services/subscriptions", "/tariffs/"])
def test_a_reader_of_english_meets_the_english_catalog(client, db_session, catalog, path):
    page = reader(client, db_session, catalog["line"], "en").get(path).text
    shown = {"/": ["Smart", "Who called", "Music"], "/services/": ["Who called", "An SMS about missed calls."],
             "/services/subscriptions": ["Music"], "/tariffs/": ["Smart", "The essentials."]}[path]
    for text in shown:
        assert text in page
    for russian in ("Смарт", "Кто звонил", "Музыка", "Самое нужное.", "SMS о пропущенных."):
        assert russian not in page
    if path in ("/services/", "/tariffs/"):  # no English given: the operator's own
        assert ("Антиспам" if path == "/services/" else "Безлимит") in page


def test_a_reader_of_russian_meets_the_operators_catalog(client, db_session, catalog):
    signed_in = reader(client, db_session, catalog["line"], "ru")
    dashboard, services = signed_in.get("/").text, signed_in.get("/services/").text
    assert "Смарт" in dashboard and "Кто звонил" in dashboard and "Who called" not in dashboard
    assert "SMS о пропущенных." in services and "An SMS about missed calls." not in services


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_payments_history_names_the_catalog_in_the_readers_language(client, db_session, catalog, language):
    fees = (_l("Monthly fee, tariff %(name)s", name="Смарт"), _l("Monthly fee: %(name)s", name="Кто звонил"),
            _l("Monthly fee: %(name)s", name="Антиспам"))
    for n, description in enumerate(fees):
        ledger.post(db_session, catalog["line"], amount=-100, kind="service_fee", key=f"fee-{n}",
                    description=description, now=utcnow())
    db_session.commit()
    page = reader(client, db_session, catalog["line"], language).get("/payments/history").text
    if language == "en":
        assert "Monthly fee, tariff Smart" in page and "Monthly fee: Who called" in page
        assert "Monthly fee: Антиспам" in page  # no English given: the operator's own
        assert "Смарт" not in page and "Кто звонил" not in page
    else:
        assert "Смарт" in page and "Кто звонил" in page and "Who called" not in page


def test_connecting_and_switching_speak_english_too(client, db_session, catalog):
    signed_in = reader(client, db_session, catalog["line"], "en")
    connect = signed_in.get(f"/services/{catalog['plain'].id}").text
    assert "Антиспам" in connect  # no English given
    switch = signed_in.get(f"/tariffs/{catalog['other'].id}").text
    assert "Smart" in switch and "Смарт" not in switch  # the current tariff beside the new one
