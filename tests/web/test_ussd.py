"""USSD parity: the USSD centre (a trusted gateway) asks with the subscriber's number and the code dialled; the
answers come from the same domain functions as the web pages; a retried request changes nothing twice."""
import pytest
from sqlalchemy import func, select

from portal.models import LedgerEntry, PromisedPayment, Subscription
from tests import factories

MSISDN = "+79161234567"
GATEWAY = {"REMOTE_ADDR": "10.20.1.2"}  # in the tests' TRUSTED_GATEWAYS (10.20.0.0/16)


@pytest.fixture
def line(db_session):
    tariff = factories.make_tariff(db_session, name="Смарт", name_en="Smart", monthly_fee=55000)
    account = factories.make_line(db_session, MSISDN, tariff=tariff, balance=93600)
    factories.make_allowance(db_session, account)
    factories.make_login(db_session, account, language="en")
    factories.make_service(db_session, code="number-management", name="Управление номерами",
                           category="number_management", monthly_fee=0)
    db_session.commit()
    return account


def dial(client, code, session="s-1", msisdn="8 916 123-45-67", environ=GATEWAY):
    return client.post("/gateway/ussd", json={"msisdn": msisdn, "code": code, "session": session},
                       environ_base=environ)


@pytest.mark.parametrize(("code", "said"), [
    ("*100#", "Balance: ₽936.00."), ("*105#", "Tariff Smart, ₽550.00 a month."), ("*102#", "min,"),
    ("*107#", "No charges yet."), ("*111#", "*100# balance"), ("*999#", "Unknown request"),
    ("* 100 #", "Balance: ₽936.00."),
])
def test_each_code_answers_in_the_owners_language(client, line, code, said):
    response = dial(client, code)
    assert response.status_code == 200 and said in response.json["text"] and response.json["end"] is True
    assert len(response.json["text"]) <= 160


def test_the_promised_payment_is_offered_then_taken_once(client, db_session, line):
    assert "Dial *106*amount#" in dial(client, "*106#").json["text"]
    taken = dial(client, "*106*100#", session="s-2")
    assert "₽100.00 is on your balance" in taken.json["text"]
    dial(client, "*106*100#", session="s-2")  # the centre retried the same session
    assert db_session.scalar(select(func.count()).select_from(PromisedPayment)) == 1
    assert "Repay the current promised payment first" in dial(client, "*106#", session="s-3").json["text"]


def test_the_number_management_code_connects_the_service_once(client, db_session, line):
    assert "Number management is connected" in dial(client, "*111*828*1#").json["text"]
    assert "already connected" in dial(client, "*111*828*1#", session="s-2").json["text"]
    assert db_session.scalar(select(func.count()).select_from(Subscription)) == 1
    assert db_session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.amount < 0)) == 0


def test_only_the_trusted_gateways_are_answered(client, app, line):
    assert dial(client, "*100#", environ={"REMOTE_ADDR": "203.0.113.9"}).status_code == 403
    app.config["TRUSTED_GATEWAYS"] = ()
    assert dial(client, "*100#").status_code == 403


def test_a_stranger_or_a_malformed_request(client, line):
    assert dial(client, "*100#", msisdn="+79990000000").status_code == 404
    assert dial(client, "*100#", msisdn="12").status_code == 400
    assert client.post("/gateway/ussd", json={"msisdn": MSISDN}, environ_base=GATEWAY).status_code == 400
    assert client.post("/gateway/ussd", data="x", environ_base=GATEWAY).status_code == 400


def test_the_development_phone_answers_the_same(client, line):
    page = client.get("/dev/ussd")
    assert page.status_code == 200 and "*111#" in page.text
    answered = client.post_form("/dev/ussd", {"msisdn": MSISDN, "code": "*100#"})
    assert answered.status_code == 200 and "Balance: ₽936.00." in answered.text
    stranger = client.post_form("/dev/ussd", {"msisdn": "+79990000000", "code": "*100#"})
    assert "Not a number of ours." in stranger.text


def test_a_reader_of_russian_is_answered_in_russian(client, db_session, line):
    from portal.models import Login

    db_session.scalar(select(Login)).language = "ru"
    db_session.commit()
    assert dial(client, "*100#").json["text"] == "Баланс: 936,00 ₽."
