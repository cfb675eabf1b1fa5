"""Random sequences of money operations never create or lose a kopeck (hypothesis)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal.domain import ledger, payments, promised, services, tariffs, transfers
from portal.domain.audit import Actor
from portal.domain.errors import DomainError
from portal.models import Account, LedgerEntry, PromisedPayment, utcnow
from portal.payment_gateway.dev import SUCCEEDS, DevProvider, pay_with_card, payment_on_page
from tests import factories
from tests.conftest import empty_tables

NUMBERS = ["+79161234567", "+79031112233", "+79262223344"]
RULES = transfers.TransferRules(minimum=100, maximum=500000, day_maximum=10**9, fee=50, code_above=10**9,
                                code_attempts=3, sms_locale="en", brand="T")
LIMITS = payments.TopupLimits(1000, 1500000)

operation = st.one_of(
    st.tuples(st.just("topup"), st.integers(0, 2), st.integers(500, 2_000_000)),
    st.tuples(st.just("transfer"), st.integers(0, 2), st.integers(0, 2), st.integers(0, 600_000)),
    st.tuples(st.just("tariff"), st.integers(0, 2), st.integers(0, 1)),
    st.tuples(st.just("service"), st.integers(0, 2)),
    st.tuples(st.just("promise"), st.integers(0, 2), st.integers(0, 30000)),
)
PROMISED = promised.PromisedRules(days={"mobile": 3, "home": 15}, fee=2500, floor=-30000, tiers=((0, 20000),))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(operation, max_size=20))
def test_money_is_conserved(db_session, steps):
    db_session.rollback()  # end this session's transaction first: on PostgreSQL TRUNCATE would wait for it
    empty_tables()
    db_session.expire_all()
    accounts = [factories.make_line(db_session, n, balance=20000) for n in NUMBERS]
    offer = [factories.make_tariff(db_session, switch_fee=fee) for fee in (0, 7000)]
    service = factories.make_service(db_session, connection_fee=1500, monthly_fee=3000)
    db_session.commit()
    ids = [a.id for a in accounts]
    topped_up = 0
    for n, step in enumerate(steps):
        key = f"prop-{n:04d}-{step[0]}-xxxxxxxx"
        try:
            if step[0] == "topup":
                provider = DevProvider(db_session)
                payment = payments.start_topup(db_session, provider, account_id=ids[step[1]], login_id=None,
                                               amount=step[2], save_method=False, idempotency_key=key, limits=LIMITS,
                                               return_url=lambda token: "/", actor=Actor(), now=utcnow())
                pay_with_card(db_session, payment_on_page(db_session, payment.gateway_ref), number=SUCCEEDS,
                              expiry="08/40", cvc="123", now=utcnow())
                payment = payments.refresh(db_session, provider, payment_id=payment.id, actor=Actor(), now=utcnow())
                topped_up += payment.amount if payment.status == "confirmed" else 0
            elif step[0] == "transfer":
                transfers.start_transfer(db_session, from_account_id=ids[step[1]], to_msisdn=NUMBERS[step[2]],
                                         amount=step[3], idempotency_key=key, rules=RULES, actor=Actor(),
                                         now=utcnow())
            elif step[0] == "tariff":
                tariffs.change_tariff(db_session, account_id=ids[step[1]], tariff_id=offer[step[2]].id,
                                      idempotency_key=key, actor=Actor(), now=utcnow())
            elif step[0] == "promise":
                promised.take_promised_payment(db_session, account_id=ids[step[1]], amount=step[2],
                                               idempotency_key=key, rules=PROMISED, actor=Actor(), now=utcnow())
            else:
                services.connect_service(db_session, account_id=ids[step[1]], service_id=service.id,
                                         idempotency_key=key, actor=Actor(), now=utcnow())
        except DomainError:
            db_session.rollback()
        balances = db_session.scalars(select(Account.balance)).all()
        fees = -db_session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                                  .where(LedgerEntry.kind.in_(("tariff_fee", "service_fee"))))
        lent, repaid = (db_session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                                          .where(LedgerEntry.kind == kind)) for kind in ("promised_credit",
                                                                                          "promised_repay"))
        assert ledger.verify(db_session) == []
        assert min(balances) >= 0
        # Money enters by top-ups and promised credit, leaves by fees and repayments; transfers only move it.
        assert sum(balances) == 3 * 20000 + topped_up + lent + repaid - fees
        promises = db_session.scalars(select(PromisedPayment)).all()
        assert sum(p.repaid for p in promises) == -repaid and all(0 <= p.repaid <= p.amount for p in promises)
