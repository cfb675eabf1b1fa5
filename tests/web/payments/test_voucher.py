import re

import pytest
from sqlalchemy import select

from portal.domain import ledger, vouchers
from portal.domain.audit import SYSTEM
from portal.models import Account, AuditEvent, Voucher, utcnow
from tests import factories
from tests.conftest import SECRET


@pytest.fixture
def account(db_session):
    account = factories.make_line(db_session, "+79161234567", balance=0)
    factories.make_login(db_session, account)
    db_session.commit()
    return account


@pytest.fixture
def card(db_session, account):
    return vouchers.issue_vouchers(db_session, count=1, amount=50000, key=SECRET, actor=SYSTEM, now=utcnow())[0]


@pytest.fixture
def signed_in(client, account):
    client.post_form("/auth/login", {"phone": "+79161234567", "password": factories.PASSWORD})
    return client


def redeem(client, code, pin, **kwargs):
    return client.post_form("/payments/voucher", {"code": code, "pin": pin}, **kwargs)


def balance(db_session, account):
    db_session.expire_all()
    return db_session.get(Account, account.id).balance


def test_a_card_tops_up_once(signed_in, db_session, account, card):
    spaced = " ".join(card.code[i:i + 4] for i in range(0, 16, 4))
    response = redeem(signed_in, spaced, card.pin)
    assert response.status_code == 303 and balance(db_session, account) == 50000
    assert "500.00 from the prepaid card" in signed_in.get("/").text
    again = redeem(signed_in, card.code, card.pin)
    assert again.status_code == 422 and "has been used" in again.text
    assert balance(db_session, account) == 50000 and ledger.verify(db_session) == []


def test_codes_and_pins_are_not_stored_in_clear(db_session, card):
    stored = db_session.scalars(select(Voucher)).one()

    def in_clear(secret: str, value: str) -> bool:
        # As a token of its own: four random digits turn up inside a long hex digest now and then.
        return re.search(rf"(?<![0-9a-f]){secret}(?![0-9a-f])", value) is not None

    assert not in_clear(card.code, stored.code_digest) and not in_clear(card.pin, stored.pin_hash)


def test_a_wrong_pin_and_a_wrong_code_get_one_answer(signed_in, db_session, account, card):
    wrong_pin = redeem(signed_in, card.code, "0000" if card.pin != "0000" else "1111")
    wrong_code = redeem(signed_in, "1" * 16, card.pin)
    assert wrong_pin.status_code == wrong_code.status_code == 422
    assert "Wrong card number or PIN" in wrong_pin.text and "Wrong card number or PIN" in wrong_code.text
    assert balance(db_session, account) == 0
    assert len(db_session.scalars(select(AuditEvent).where(AuditEvent.action == "voucher_failed")).all()) == 2


def test_guessing_is_stopped_per_login_and_per_ip(signed_in, db_session, account, card, app):
    for _ in range(5):
        redeem(signed_in, "1" * 16, "0000")
    blocked = redeem(signed_in, card.code, card.pin)
    assert blocked.status_code == 429 and balance(db_session, account) == 0
    # Another login from the same address is stopped too.
    other = app.test_client()
    factories.ensure_login(db_session, "+79031112233")
    other.post_form("/auth/login", {"phone": "+79031112233", "password": factories.PASSWORD})
    assert redeem(other, card.code, card.pin).status_code == 429


@pytest.mark.parametrize("code, pin", [("", "1234"), ("1" * 16, ""), ("x" * 10_000, "1")])
def test_bad_input_gets_a_message(signed_in, code, pin):
    response = redeem(signed_in, code, pin)
    assert response.status_code == 422 and 'class="error"' in response.text


def test_the_cli_issues_a_batch(app, db_session):
    result = app.test_cli_runner().invoke(args=["vouchers", "issue", "--count", "3", "--amount", "100"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 3 and all(len(line.split(";")[0]) == 16 and line.endswith(";100") for line in lines)
    assert len(db_session.scalars(select(Voucher)).all()) == 3
