"""Accepting a document with an SMS code, and the proof staff can show: the exact text, its hash, when, from where."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.domain.audit import SYSTEM
from portal.domain.documents import consent
from portal.models import AuditEvent, DocumentAcceptance, SmsMessage, utcnow
from tests import factories
from tests.web.admin.test_admin import staff_sign_in

PHONE = "+79161234567"
TEXT = "Я даю согласие на обработку персональных данных.\n\nСогласие можно отозвать."


@pytest.fixture
def document(db_session):
    return consent.publish(db_session, slug="personal-data", title="Согласие на обработку данных", body=TEXT,
                           actor=SYSTEM, now=utcnow())


@pytest.fixture
def signed_in(client, login_as, document):
    login_as(PHONE)
    return client


def sent_code(db_session) -> str:
    text = db_session.scalars(select(SmsMessage.text).where(SmsMessage.purpose == "accept")
                              .order_by(SmsMessage.id.desc())).first()
    return re.search(r"\b(\d{6})\b", text).group(1)


def accept(client, document, code):
    return client.post_form(f"/documents/agreements/{document.slug}", {"document_id": str(document.id), "code": code})


def test_a_customer_reads_gets_a_code_and_accepts(signed_in, db_session, document):
    page = signed_in.get("/documents/agreements/personal-data")
    assert page.status_code == 200 and "Согласие можно отозвать." in page.text and document.body_hash in page.text
    assert signed_in.post_form("/documents/agreements/personal-data/code",
                               {"document_id": str(document.id)}).status_code == 303
    sms = db_session.scalars(select(SmsMessage).where(SmsMessage.purpose == "accept")).one()
    assert sms.to == PHONE and "«Согласие на обработку данных» (version 1)" in sms.text
    response = accept(signed_in, document, sent_code(db_session))
    assert response.status_code == 303
    acceptance = db_session.scalars(select(DocumentAcceptance)).one()
    assert (acceptance.document_hash, acceptance.phone, acceptance.ip) == (document.body_hash, PHONE, "127.0.0.1")
    assert acceptance.code_hash.startswith("$") or len(acceptance.code_hash) > 20  # a hash, not the code
    assert sent_code(db_session) not in acceptance.code_hash
    page = signed_in.get("/documents/agreements/personal-data").text
    assert "You accepted this version" in page and 'id="agreement-form"' not in page
    assert "accepted on" in signed_in.get("/documents").text
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "document_accepted")) is not None


def test_a_wrong_or_missing_code_is_said_next_to_the_field(signed_in, db_session, document):
    signed_in.post_form("/documents/agreements/personal-data/code", {"document_id": str(document.id)})
    wrong = accept(signed_in, document, "000000" if sent_code(db_session) != "000000" else "111111")
    assert wrong.status_code == 422 and "Wrong code." in wrong.text
    empty = accept(signed_in, document, "")
    assert empty.status_code == 422 and "Type the code from the SMS." in empty.text
    assert db_session.scalar(select(DocumentAcceptance)) is None


def test_a_code_not_asked_for_or_expired_is_refused(signed_in, db_session, document, app):
    assert "expired or was not requested" in accept(signed_in, document, "123456").text
    signed_in.post_form("/documents/agreements/personal-data/code", {"document_id": str(document.id)})
    from portal.models import Challenge

    for challenge in db_session.scalars(select(Challenge).where(Challenge.purpose.like("accept:%"))):
        challenge.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()
    assert "expired or was not requested" in accept(signed_in, document, sent_code(db_session)).text


def test_a_version_published_while_reading_must_be_read_first(signed_in, db_session, document):
    signed_in.post_form("/documents/agreements/personal-data/code", {"document_id": str(document.id)})
    code = sent_code(db_session)
    newer = consent.publish(db_session, slug="personal-data", title="Согласие на обработку данных",
                            body=TEXT + "\n\nНовый пункт.", actor=SYSTEM, now=utcnow())
    response = accept(signed_in, document, code)
    assert response.status_code == 422 and "has changed since you opened it" in response.text
    assert "Новый пункт." in response.text and f'value="{newer.id}"' in response.text
    assert db_session.scalar(select(DocumentAcceptance)) is None


def test_accepting_twice_keeps_the_first(signed_in, db_session, document):
    signed_in.post_form("/documents/agreements/personal-data/code", {"document_id": str(document.id)})
    code = sent_code(db_session)
    accept(signed_in, document, code)
    assert accept(signed_in, document, code).status_code == 303
    assert len(db_session.scalars(select(DocumentAcceptance)).all()) == 1


@pytest.mark.parametrize("document_id", ["", "abc", "99999", "-1"])
def test_a_forged_version_is_not_found(signed_in, db_session, document, document_id):
    response = signed_in.post_form("/documents/agreements/personal-data",
                                   {"document_id": document_id, "code": "123456"})
    assert response.status_code == 404
    assert signed_in.post_form("/documents/agreements/personal-data/code",
                               {"document_id": document_id}).status_code == 404


def test_staff_never_read_the_acceptance_code_in_the_outbox(client, db_session, signed_in, document):
    signed_in.post_form("/documents/agreements/personal-data/code", {"document_id": str(document.id)})
    code = sent_code(db_session)
    signed_in.post_form("/auth/logout")
    factories.make_staff(db_session)
    staff_sign_in(client)
    outbox = client.get("/admin/sms").text
    assert "document acceptance code" in outbox and code not in outbox


def test_an_unknown_document_is_404(signed_in):
    assert signed_in.get("/documents/agreements/no-such").status_code == 404


def test_staff_see_the_acceptance_with_the_exact_text_and_admins_publish_versions(client, db_session, signed_in,
                                                                                 document):
    signed_in.post_form("/documents/agreements/personal-data/code", {"document_id": str(document.id)})
    accept(signed_in, document, sent_code(db_session))
    acceptance = db_session.scalars(select(DocumentAcceptance)).one()
    signed_in.post_form("/auth/logout")
    factories.make_staff(db_session, role="support")
    staff_sign_in(client)
    customer_id = factories.ensure_login(db_session, PHONE).primary_account.customer_id
    page = client.get(f"/admin/customers/{customer_id}").text
    assert f'href="/admin/acceptances/{acceptance.id}"' in page
    proof = client.get(f"/admin/acceptances/{acceptance.id}").text
    assert "Согласие можно отозвать." in proof and acceptance.document_hash in proof
    assert "matches the hash accepted" in proof and "127.0.0.1" in proof
    assert client.get("/admin/acceptances/99999").status_code == 404
    listing = client.get("/admin/documents").text
    assert "personal-data" in listing and 'action="/admin/documents"' not in listing  # support: no publishing
    assert client.post_form("/admin/documents", {"slug": "terms", "title": "T", "body": "B"}).status_code == 403


def test_an_admin_publishes_a_new_version_and_bad_input_is_said(client, db_session, document):
    factories.make_staff(db_session, role="admin")
    staff_sign_in(client)
    bad = client.post_form("/admin/documents", {"slug": "Не код", "title": "", "body": "x"})
    assert bad.status_code == 422 and "Give the document a title." in bad.text
    bad = client.post_form("/admin/documents", {"slug": "Не код", "title": "T", "body": "x"})
    assert bad.status_code == 422 and "Latin letters, digits and dashes" in bad.text
    ok = client.post_form("/admin/documents", {"slug": "personal-data", "title": "Согласие, ред. 2",
                                               "body": TEXT + "\r\n\r\nЕщё пункт."})
    assert ok.status_code == 303
    newest = consent.current(db_session, "personal-data")
    assert newest.version == 2 and "\r" not in newest.body and newest.body_hash == consent.body_hash(newest.body)
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "document_published",
                                                      AuditEvent.staff_id.is_not(None))) is not None


def test_a_proof_says_when_the_stored_text_no_longer_matches(db_session, document):
    acceptance = DocumentAcceptance(document_id=document.id, login_id=factories.ensure_login(db_session, PHONE).id,
                                    document_hash=document.body_hash, code_hash="x", phone=PHONE)
    db_session.add(acceptance)
    db_session.commit()
    assert consent.proof(db_session, acceptance.id).text_matches
    document.body = document.body + " (tampered)"
    db_session.commit()
    assert not consent.proof(db_session, acceptance.id).text_matches
