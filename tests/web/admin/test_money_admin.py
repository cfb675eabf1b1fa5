import csv
import io

import pytest
from sqlalchemy import select

from portal.domain import ledger, vouchers
from portal.domain.audit import Actor
from portal.models import Account, AuditEvent, CardPayment, LedgerEntry, Voucher, utcnow
from tests import factories
from tests.conftest import SECRET
from tests.helpers import key_of


@pytest.fixture
def account(db_session):
    account = factories.make_line(db_session, "+79161234567", balance=10000)
    db_session.add(CardPayment(token="t" * 24, account_id=account.id, amount=30000, idempotency_key="p" * 24,
                               card_last4="0002", status="declined", decline_reason="insufficient_funds"))
    db_session.commit()
    return account


def staff_client(app, db_session, role):
    factories.make_staff(db_session, email=f"{role}@example.com", role=role)
    client = app.test_client()
    client.post_form("/admin/login", {"email": f"{role}@example.com", "password": factories.PASSWORD})
    return client



def test_the_customer_page_shows_card_payments_with_their_states(app, db_session, account):
    page = staff_client(app, db_session, "support").get(f"/admin/customers/{account.customer_id}").text
    assert "*0002" in page and "declined" in page and "not enough money on the card" in page
    assert "Correct the balance" not in page  # support staff cannot adjust


def test_an_admin_corrects_a_balance_with_a_reason(app, db_session, account):
    admin = staff_client(app, db_session, "admin")
    page = admin.get(f"/admin/customers/{account.customer_id}").text
    data = {"idempotency_key": key_of(page), "direction": "debit", "amount": "25,50",
            "reason": "Duplicate top-up reversed"}
    response = admin.post_form(f"/admin/accounts/{account.id}/adjust", data)
    assert response.status_code == 303
    admin.post_form(f"/admin/accounts/{account.id}/adjust", data)  # a double click
    db_session.expire_all()
    assert db_session.get(Account, account.id).balance == 10000 - 2550
    entry = db_session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "adjustment",
                                                        LedgerEntry.amount < 0)).one()
    assert entry.description == "Duplicate top-up reversed" and ledger.verify(db_session) == []
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "balance_adjusted")).one()
    assert event.staff_id is not None and "Duplicate top-up" in event.detail


@pytest.mark.parametrize("data, message", [
    ({"direction": "credit", "amount": "10", "reason": ""}, "Say why"),
    ({"direction": "credit", "amount": "10", "reason": "no"}, "in a few words"),
    ({"direction": "credit", "amount": "0", "reason": "Goodwill credit"}, "From ₽0.01"),
    ({"direction": "credit", "amount": "-5", "reason": "Goodwill credit"}, "cannot be negative"),
    ({"direction": "sideways", "amount": "5", "reason": "Goodwill credit"}, "Not a valid choice"),
])
def test_bad_adjustments_are_refused(app, db_session, account, data, message):
    admin = staff_client(app, db_session, "admin")
    response = admin.post_form(f"/admin/accounts/{account.id}/adjust", {"idempotency_key": "a" * 24, **data})
    assert response.status_code == 422 and message in response.text
    db_session.expire_all()
    assert db_session.get(Account, account.id).balance == 10000


def test_support_staff_cannot_adjust_or_issue(app, db_session, account):
    support = staff_client(app, db_session, "support")
    assert support.post_form(f"/admin/accounts/{account.id}/adjust",
                             {"idempotency_key": "a" * 24, "direction": "credit", "amount": "5",
                              "reason": "Goodwill credit"}).status_code == 403
    assert support.get("/admin/vouchers").status_code == 403


def test_an_unknown_account_is_404(app, db_session, account):
    admin = staff_client(app, db_session, "admin")
    assert admin.post_form("/admin/accounts/999999/adjust", {"idempotency_key": "a" * 24}).status_code == 404


def test_a_voucher_batch_downloads_once_as_csv(app, db_session, account):
    admin = staff_client(app, db_session, "admin")
    response = admin.post_form("/admin/vouchers", {"count": "3", "amount": "500"})
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.text), delimiter=";"))
    assert rows[0] == ["code", "pin", "amount_rub"] and len(rows) == 4
    code, pin, amount = rows[1]
    stored = db_session.scalars(select(Voucher)).all()
    assert len(stored) == 3 and all(code not in v.code_digest for v in stored)
    used = vouchers.redeem_voucher(db_session, account_id=account.id, code=code, pin=pin, key=SECRET,
                                   max_failures=5, actor=Actor(), now=utcnow())
    assert used.amount == 50000


def test_a_bad_batch_gets_a_message(app, db_session):
    admin = staff_client(app, db_session, "admin")
    response = admin.post_form("/admin/vouchers", {"count": "0", "amount": "500"})
    assert response.status_code == 422 and "text/html" in response.content_type
