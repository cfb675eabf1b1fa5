"""200 transfers in both directions between four lines from eight threads, on real PostgreSQL."""
import random
import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain import ledger, transfers
from portal.domain.audit import Actor
from portal.domain.errors import DomainError
from portal.extensions import db
from portal.models import Account, Transfer, utcnow
from tests import factories

pytestmark = pytest.mark.postgres

NUMBERS = ["+79161234567", "+79161234568", "+79031112233", "+79262223344"]
TRANSFERS = 200
THREADS = 8
RULES = transfers.TransferRules(minimum=100, maximum=500000, day_maximum=10**9, fee=100, code_above=10**9,
                                code_attempts=3, sms_locale="en", brand="TestTel")


def test_many_concurrent_transfers_conserve_money(pg):
    with Session(db.engine) as session:
        ids = [factories.make_line(session, n, balance=50000).id for n in NUMBERS]
        session.commit()
    plan = [(random.Random(i).choice(ids), random.Random(i + 1000).choice(NUMBERS), random.Random(i).randint(100, 9000))
            for i in range(TRANSFERS)]
    chunks = [plan[i::THREADS] for i in range(THREADS)]
    outcomes = {"done": 0, "refused": 0}
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS, timeout=10)

    def worker(n, chunk):
        with pg.app_context(), Session(db.engine) as session:
            barrier.wait()
            for i, (from_id, to_msisdn, amount) in enumerate(chunk):
                try:
                    result = transfers.start_transfer(session, from_account_id=from_id, to_msisdn=to_msisdn,
                                                      amount=amount, idempotency_key=f"load-{n}-{i:04d}-xxxxxxxx",
                                                      rules=RULES, actor=Actor(), now=utcnow())
                    key = "done" if result.status == "done" else "refused"
                except DomainError:
                    session.rollback()
                    key = "refused"
                with lock:
                    outcomes[key] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n, c)) for n, c in enumerate(chunks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    elapsed = time.perf_counter() - started
    print(f"\n{TRANSFERS} transfers, {THREADS} threads: {outcomes} in {elapsed:.2f} s")

    with Session(db.engine) as session:
        done = session.scalar(select(func.count()).select_from(Transfer).where(Transfer.status == "done"))
        balances = session.scalars(select(Account.balance).where(Account.id.in_(ids))).all()
        assert outcomes["done"] + outcomes["refused"] == TRANSFERS and done == outcomes["done"] > 50
        # Money only left the four lines as fees: everything else moved between them.
        assert sum(balances) == 4 * 50000 - done * RULES.fee
        assert min(balances) >= 0
        assert ledger.verify(session) == []
