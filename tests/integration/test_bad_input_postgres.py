"""On real PostgreSQL, which refuses a NUL in text and an integer beyond its column where SQLite stores both."""
import pytest
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import VoiceMessage
from tests import factories
from tests.conftest import PortalClient

pytestmark = pytest.mark.postgres

HUGE = "99999999999999999999"
PHONE = "+79161234567"


@pytest.fixture
def customer(pg):
    with Session(db.engine) as session:
        account = factories.ensure_login(session, PHONE).primary_account
        session.add(VoiceMessage(account_id=account.id, reference="vm-1", caller=None, duration_s=5))
        session.commit()
    pg.test_client_class = PortalClient
    client = pg.test_client()
    assert client.post_form("/auth/login", {"phone": PHONE, "password": factories.PASSWORD}).status_code == 303
    return client


def test_the_database_is_postgresql(pg):
    assert db.engine.dialect.name == "postgresql"


@pytest.mark.parametrize("url,status", [
    (f"/services/{HUGE}", 404), (f"/payments/history?before={HUGE}", 200), (f"/archive?before={HUGE}", 200),
    (f"/settings/missed-calls?before={HUGE}", 200), ("/payments/ab%00cd", 400), ("/auth/captcha/ab%00cd.png", 400),
    (f"/numbers/details?before=20260101000000000000-{HUGE}", 200),
])
def test_bad_values_in_urls_are_4xx_or_ignored(customer, url, status):
    assert customer.get(url).status_code == status


@pytest.mark.parametrize("url,data,status", [
    ("/auth/password", {"phone": PHONE, "captcha_token": "ab\x00cd", "captcha": "x"}, 400),
    ("/settings/voicemail/delete", {"idempotency_key": "k" * 24, "messages": [HUGE]}, 422),
    ("/numbers/focus", {"account": HUGE}, 404),
])
def test_bad_values_in_forms_are_4xx(customer, url, data, status):
    assert customer.post_form(url, data).status_code == status
