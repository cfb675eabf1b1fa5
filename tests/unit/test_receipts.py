"""Operation codes (format, randomness, what people type), the entries that get one, the receipt's lines and
its PDF, the provider's fiscal receipt, and finding an operation only on one's own accounts."""
import re
from datetime import datetime

import pytest
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.domain import ledger, payments, promised, transfers
from portal.domain.audit import SYSTEM
from portal.domain.errors import NotFound
from portal.domain.receipts import codes, receipt
from portal.domain.receipts.pdf import build_pdf
from portal.models import CardPayment, LedgerEntry, utcnow
from portal.payment_gateway import SUCCEEDED, PaymentState
from tests import factories

NOW = datetime(2026, 12, 7, 9, 5)  # 12:05 in Moscow


@pytest.fixture
def account(db_session):
    account = factories.make_line(db_session, "+79161234567", balance=50_000)
    db_session.commit()
    return account


@pytest.fixture
def stranger(db_session):
    account = factories.make_line(db_session, "+79035556677", balance=10_000)
    db_session.commit()
    return account


def post(db_session, account, kind="card_topup", amount=30_000, key="k1", **extra):
    entry = ledger.post(db_session, account, amount=amount, kind=kind, key=key, description="x", now=NOW, **extra)
    db_session.commit()
    return entry


# ---- the code itself ------------------------------------------------------------------------------------------

def test_a_code_is_eight_characters_without_look_alikes():
    for _ in range(200):
        code = codes.generate()
        assert re.fullmatch(r"[2-9A-HJ-NP-Z]{8}", code), code
        assert not set(code) & set("01OI")
    assert len(codes.ALPHABET) == 32 == len(set(codes.ALPHABET))


def test_codes_are_random_not_a_sequence():
    many = [codes.generate() for _ in range(5000)]
    assert len(set(many)) == 5000
    # Every position uses the whole alphabet: nothing in one code tells another.
    for position in range(codes.LENGTH):
        assert len({code[position] for code in many}) == 32


def test_a_code_is_shown_in_two_groups():
    assert codes.grouped("K7QM4XPD") == "K7QM-4XPD"
    assert codes.grouped(None) == ""


@pytest.mark.parametrize("typed", ["K7QM-4XPD", "k7qm4xpd", " k7qm 4xpd ", "K7QM–4XPD", "к7qм-4хрd", "K7QM.4XPD"])
def test_what_people_type_is_read_as_the_code(typed):
    assert codes.normalise(typed) == "K7QM4XPD"


@pytest.mark.parametrize("typed", ["", None, "K7QM-4XP", "K7QM-4XPD2", "K7QM-4XP0", "K7QM-4XPI", "12345678",
                                   "K7QM-4XP?", "x" * 100])
def test_what_cannot_be_a_code_is_refused(typed):
    assert codes.normalise(typed) is None


def test_a_new_code_is_one_no_entry_has(db_session, account, monkeypatch):
    taken = post(db_session, account).code
    tries = iter([taken, taken, "ABCDEFGH"])
    monkeypatch.setattr(codes, "generate", lambda: next(tries))
    assert codes.new_code(db_session) == "ABCDEFGH"


def test_the_database_refuses_a_code_twice(db_session, account):
    code = post(db_session, account).code
    db_session.add(LedgerEntry(account_id=account.id, amount=1, kind="adjustment", code=code))
    with pytest.raises(IntegrityError):
        db_session.commit()
    db_session.rollback()


# ---- which entries get one --------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(codes.CODED_KINDS))
def test_a_customers_money_operation_gets_a_code(db_session, account, kind):
    assert codes.normalise(post(db_session, account, kind=kind).code)


@pytest.mark.parametrize("kind", ["tariff_fee", "service_fee", "usage", "promised_repay"])
def test_charges_get_none_unless_asked(db_session, account, kind):
    assert post(db_session, account, kind=kind, amount=-100).code is None
    assert post(db_session, account, kind=kind, amount=-100, key="k2", coded=True).code


def test_every_entry_has_its_own_code(db_session, account):
    entries = [post(db_session, account, key=f"k{n}") for n in range(20)]
    assert len({e.code for e in entries}) == 20


def test_a_transfer_gives_each_side_a_code_and_the_fee_none(app, db_session, account, stranger):
    rules = transfers.TransferRules.from_config({**app.config, "TRANSFER_FEE": 500})
    sent = transfers.start_transfer(db_session, from_account_id=account.id, to_msisdn="+79035556677", amount=10_000,
                                    idempotency_key="transfer-key-0001", rules=rules, actor=SYSTEM, now=NOW)
    entries = {e.kind: e for e in db_session.scalars(select(LedgerEntry).where(
        LedgerEntry.idempotency_key.like(f"transfer:{sent.token}:%")))}
    assert entries["transfer_out"].code and entries["transfer_in"].code
    assert entries["transfer_out"].code != entries["transfer_in"].code
    assert entries["service_fee"].code is None


# ---- finding one ---------------------------------------------------------------------------------------------------

def test_an_operation_is_found_on_ones_own_accounts(db_session, account):
    entry = post(db_session, account)
    typed = codes.grouped(entry.code).lower()
    assert receipt.find(db_session, typed=typed, account_ids=[account.id]).id == entry.id


def test_anyone_elses_code_is_answered_like_nobodys(db_session, account, stranger):
    theirs = post(db_session, stranger)
    with pytest.raises(receipt.NoSuchOperation) as other:
        receipt.find(db_session, typed=theirs.code, account_ids=[account.id])
    with pytest.raises(receipt.NoSuchOperation) as nobody:
        receipt.find(db_session, typed="ABCDEFGH", account_ids=[account.id])
    assert str(other.value.message) == str(nobody.value.message)
    with pytest.raises(NotFound):
        receipt.receipt(db_session, code=theirs.code, account_ids=[account.id])


def test_text_that_is_no_code_says_what_a_code_looks_like(db_session, account):
    with pytest.raises(receipt.BadCode) as err:
        receipt.find(db_session, typed="123", account_ids=[account.id])
    assert err.value.field == "code" and "K7QM-4XPD" in str(err.value.message)


def test_staff_find_any_customers_operation(db_session, stranger):
    entry = post(db_session, stranger)
    found, account = receipt.find_for_staff(db_session, f" {entry.code.lower()} ")
    assert found.id == entry.id and account.customer.id == stranger.customer_id
    assert receipt.find_for_staff(db_session, "Smirnova") is None


# ---- the receipt ----------------------------------------------------------------------------------------------

def confirmed_payment(db_session, account, **state) -> CardPayment:
    payment = CardPayment(token="tok-receipt-0001", account_id=account.id, amount=25_000, status="pending",
                          idempotency_key="pay-key-0000001", provider="dev", gateway_ref="dev_ref_1")
    db_session.add(payment)
    db_session.commit()
    state = PaymentState("dev_ref_1", SUCCEEDED, method_title="card *4242", card_last4="4242", **state)
    return payments.apply_state(db_session, payment_id=payment.id, state=state, actor=SYSTEM, now=NOW)


def facts_of(r) -> dict:
    return {f.label: f.value for f in receipt.facts(r, locale="en", tz="Europe/Moscow")}


def test_a_card_payments_receipt(app, db_session, account):
    payment = confirmed_payment(db_session, account)
    code = receipt.code_of(db_session, f"card:{payment.id}")
    with app.test_request_context():
        facts = facts_of(receipt.receipt(db_session, code=code, account_ids=[account.id]))
    assert facts["Operation code"] == codes.grouped(code)
    assert facts["Amount"] == "₽250.00" and facts["Payment method"] == "bank card *4242"
    assert facts["Date and time"] == "December 7, 2026, 12:05\u202fPM (UTC+03:00)"
    assert facts["Number"] == "+7 916 123-45-67" and facts["Payment id at the bank"] == "dev_ref_1"
    assert facts["What for"] == "top-up of the balance"
    assert not any(label.startswith("Fiscal") for label in facts)


def test_sbp_is_named_by_the_providers_title(app, db_session, account):
    payment = confirmed_payment(db_session, account)
    payment.card_last4, payment.method_title = None, "СБП"
    db_session.commit()
    with app.test_request_context():
        r = receipt.receipt(db_session, code=receipt.code_of(db_session, f"card:{payment.id}"),
                            account_ids=[account.id])
        assert receipt.method(r) == "СБП"


def test_the_providers_fiscal_receipt_shows_when_it_tells(app, db_session, account):
    fiscal = payments.FiscalReceipt(fn="9999078900012345", fd="1234", fpd="2345678901",
                                    url="https://receipts.example/r/1")
    state_with_fiscal = PaymentState("dev_ref_1", SUCCEEDED, card_last4="4242", fiscal=fiscal)
    payment = CardPayment(token="tok-receipt-0002", account_id=account.id, amount=25_000, status="pending",
                          idempotency_key="pay-key-0000002", provider="dev", gateway_ref="dev_ref_1")
    db_session.add(payment)
    db_session.commit()
    payment = payments.apply_state(db_session, payment_id=payment.id, state=state_with_fiscal, actor=SYSTEM, now=NOW)
    assert (payment.fiscal_fn, payment.fiscal_fd, payment.fiscal_fpd) == ("9999078900012345", "1234", "2345678901")
    with app.test_request_context():
        r = receipt.receipt(db_session, code=receipt.code_of(db_session, f"card:{payment.id}"),
                            account_ids=[account.id])
        lines = receipt.facts(r, locale="en")
    assert [f.url for f in lines if f.url] == ["https://receipts.example/r/1"]
    assert {"Fiscal drive No. (FN)", "Fiscal document No. (FD)", "Fiscal sign (FPD)"} <= {f.label for f in lines}


def test_a_fiscal_receipt_that_comes_later_is_kept_and_a_bad_link_is_not(db_session, account):
    payment = confirmed_payment(db_session, account)
    payments.record_fiscal_receipt(db_session, payment_id=payment.id, actor=SYSTEM,
                                   fiscal=payments.FiscalReceipt(fd="77", url="javascript:alert(1)"))
    db_session.expire_all()
    payment = db_session.get(CardPayment, payment.id)
    assert payment.fiscal_fd == "77" and payment.fiscal_url is None


def test_a_transfers_receipt_names_the_recipient_and_the_fee(app, db_session, account, stranger):
    rules = transfers.TransferRules.from_config({**app.config, "TRANSFER_FEE": 500})
    sent = transfers.start_transfer(db_session, from_account_id=account.id, to_msisdn="+79035556677", amount=10_000,
                                    idempotency_key="transfer-key-0002", rules=rules, actor=SYSTEM, now=NOW)
    out = receipt.code_of(db_session, f"transfer:{sent.token}:out")
    got = receipt.code_of(db_session, f"transfer:{sent.token}:in")
    with app.test_request_context():
        sender = facts_of(receipt.receipt(db_session, code=out, account_ids=[account.id]))
        recipient = facts_of(receipt.receipt(db_session, code=got, account_ids=[stranger.id]))
    assert sender["Recipient"] == "+7 903 555-66-77" and sender["Fee"] == "₽5.00"
    assert sender["Payment method"] == "from the balance"
    assert recipient["Payment method"] == "transfer from +7 916 123-45-67" and "Fee" not in recipient


def test_a_promised_payments_receipt_says_when_to_repay(app, db_session, account):
    rules = promised.PromisedRules.from_config(app.config)
    promise = promised.take_promised_payment(db_session, account_id=account.id, amount=10_000,
                                             idempotency_key="promised-key-0001", rules=rules, actor=SYSTEM, now=NOW)
    code = receipt.code_of(db_session, "promised:promised-key-0001")
    with app.test_request_context():
        facts = facts_of(receipt.receipt(db_session, code=code, account_ids=[account.id]))
    assert facts["Repay by"].startswith(promise.due_at.strftime("%B"))
    assert facts["Fee"] == f"₽{rules.fee // 100}.{rules.fee % 100:02d}"


def test_the_pdf_is_a_receipt_sized_pdf_with_the_code_in_russian_too(app, db_session, account):
    payment = confirmed_payment(db_session, account)
    code = receipt.code_of(db_session, f"card:{payment.id}")
    for locale in ("en", "ru"):
        with app.test_request_context(), force_locale(locale):
            r = receipt.receipt(db_session, code=code, account_ids=[account.id])
            pdf = build_pdf(r, brand="TestTel", locale=locale, tz="Europe/Moscow", now=utcnow())
        assert pdf.startswith(b"%PDF") and codes.grouped(code).encode() in pdf
        assert b"/MediaBox [0 0 297.64 419.53]" in pdf  # A6 in points
