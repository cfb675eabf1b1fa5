"""Double clicks and races on real PostgreSQL: one SMS and one charge per submission, limits hold, one block."""
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain import blocking, websms
from portal.domain.audit import Actor
from portal.extensions import db
from portal.models import Account, LedgerEntry, LoginAccount, SmsMessage, WebSms, utcnow
from tests import factories
from tests.integration.test_tariff_concurrency import run_together

pytestmark = pytest.mark.postgres

RULES = websms.WebSmsRules(max_parts=6, price=250, quotas=((1, 3600), (100, 86400)))


@pytest.fixture
def lines(pg):
    with Session(db.engine) as session:
        main = factories.make_line(session, "+79161234567", balance=10000)
        login = factories.make_login(session, main)
        second = factories.make_line(session, "+79031112233", customer=main.customer)
        session.add(LoginAccount(login_id=login.id, account_id=second.id))
        session.commit()
        return login.id, main.id, second.id


def send(account_id, key):
    return lambda session: websms.send_web_sms(session, account_id=account_id, to="+79267776655", text="Hi",
                                               idempotency_key=key, rules=RULES, actor=Actor(), now=utcnow())


def count(model, *where):
    with Session(db.engine) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_same_sms_submitted_twice_at_once_is_sent_and_charged_once(pg, lines):
    _, main_id, _ = lines
    assert run_together(pg, [send(main_id, "same-key-000000001")] * 2) == ["ok", "ok"]
    assert count(WebSms) == 1 and count(SmsMessage) == 1
    assert count(LedgerEntry, LedgerEntry.kind == "usage") == 1
    with Session(db.engine) as session:
        assert session.get(Account, main_id).balance == 10000 - 250


def test_the_hourly_limit_holds_against_two_messages_at_once(pg, lines):
    _, main_id, _ = lines
    outcomes = run_together(pg, [send(main_id, "first-key-0000001"), send(main_id, "second-key-000001")])
    assert sorted(o if o == "ok" else type(o).__name__ for o in outcomes) == ["TryLater", "ok"]
    assert count(WebSms) == 1


def test_two_blocks_at_once_block_once_and_send_one_notice(pg, lines):
    login_id, _, second_id = lines

    def block(session):
        blocking.block_number(session, account_id=second_id, reason="lost", actor=Actor(login_id=login_id),
                              now=utcnow(), wording=blocking.NoticeText("en", "TestTel"))

    assert run_together(pg, [block, block]) == ["ok", "ok"]
    assert count(SmsMessage) == 1
    with Session(db.engine) as session:
        assert session.get(Account, second_id).status == "blocked_lost"
