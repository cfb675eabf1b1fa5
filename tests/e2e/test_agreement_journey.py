"""Accepting a document with an SMS code, JavaScript on and off: read it, get the code, a wrong code said next to
the field, the right one accepts exactly this version; staff then see the proof."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.domain.audit import SYSTEM
from portal.domain.documents import consent
from portal.models import DocumentAcceptance, SmsMessage, utcnow
from tests import factories
from tests.e2e.test_sms_login_journey import MSISDN, sign_in, url_path_is

JS = pytest.mark.parametrize("js", [True, False], ids=["js-on", "js-off"])
TEXT = "I agree to the processing of my personal data.\n\nI may withdraw this consent in writing."


@pytest.fixture
def document_id(live_server) -> int:
    with live_server.app_context() as session:
        factories.ensure_login(session, MSISDN)
        return consent.publish(session, slug="personal-data", title="Consent to processing personal data",
                               body=TEXT, actor=SYSTEM, now=utcnow()).id


def sent_code(live_server) -> str:
    with live_server.app_context() as session:
        text = session.scalars(select(SmsMessage.text).where(SmsMessage.purpose == "accept")
                               .order_by(SmsMessage.id.desc())).first()
    return re.search(r"\b(\d{6})\b", text).group(1)


@JS
def test_a_customer_accepts_a_document_with_the_code_from_the_sms(page_factory, live_server, document_id, js):
    page = page_factory(js)
    page.goto("/auth/login")
    sign_in(page, MSISDN, factories.PASSWORD)
    expect(page).to_have_url(url_path_is("/"))
    page.goto("/documents")
    agreements = page.locator("#agreements")
    expect(agreements).to_contain_text("not accepted yet")
    agreements.get_by_role("link", name="Consent to processing personal data").click()
    expect(page.locator("#document-text")).to_contain_text("I may withdraw this consent in writing.")

    page.locator("#agreement-code button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("The code is sent by SMS")
    code = sent_code(live_server)
    form = page.locator("#agreement-form")
    form.locator("input[name=code]").fill("000000" if code != "000000" else "111111")
    form.locator("button[type=submit]").click()
    expect(page.locator("#agreement-form")).to_contain_text("Wrong code.")
    page.locator("#agreement-form input[name=code]").fill(code)
    page.locator("#agreement-form button[type=submit]").click()
    expect(page.locator("#accepted")).to_contain_text("You accepted this version")
    expect(page.locator("#agreement-form")).to_have_count(0)
    with live_server.app_context() as session:
        acceptance = session.scalars(select(DocumentAcceptance)).one()
        assert acceptance.document_id == document_id and acceptance.document_hash == consent.body_hash(TEXT)
    page.goto("/documents")
    expect(page.locator("#agreements")).to_contain_text("accepted on")
