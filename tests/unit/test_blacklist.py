"""The blacklist: a paid service connected with the first number, limited, each number a switch command."""
import secrets

import pytest
from sqlalchemy import func, select

from portal.domain import blacklist
from portal.domain.audit import Actor
from portal.domain.errors import NotFound
from portal.models import Account, BlacklistEntry, LedgerEntry, Subscription, SwitchCommand, utcnow
from tests import factories

OWN = "+79161234567"
CALLER = "+79035556677"


@pytest.fixture
def line(db_session):
    account = factories.make_line(db_session, OWN, balance=10000)
    factories.make_service(db_session, code="blacklist", name="Blacklist", category="security", monthly_fee=0,
                           daily_fee=150)
    db_session.commit()
    return account


def add(session, account, msisdn=CALLER, accept_fee=True, limit=300, key=None):
    return blacklist.add_number(session, account_id=account.id, msisdn=msisdn, accept_fee=accept_fee, limit=limit,
                                idempotency_key=key or secrets.token_urlsafe(24), actor=Actor(account_id=account.id),
                                now=utcnow())


def remove(session, account, entry_ids, disconnect=False):
    return blacklist.remove_numbers(session, account_id=account.id, entry_ids=entry_ids,
                                    disconnect_if_empty=disconnect, idempotency_key=secrets.token_urlsafe(24),
                                    actor=Actor(account_id=account.id), now=utcnow())


def count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_first_number_needs_the_fee_accepted_then_connects_the_service_and_charges_today(db_session, line):
    with pytest.raises(blacklist.FeeNotAccepted):
        add(db_session, line, accept_fee=False)
    assert count(db_session, BlacklistEntry) == count(db_session, Subscription) == 0
    assert add(db_session, line)
    db_session.expire_all()
    assert db_session.get(Account, line.id).balance == 10000 - 150
    assert count(db_session, Subscription, Subscription.status == "active") == 1
    ops = [(c.subject, c.operation, c.status) for c in db_session.scalars(select(SwitchCommand)
                                                                           .order_by(SwitchCommand.id))]
    assert ops == [("service:blacklist", "service.on", "applied"), (f"blacklist:{CALLER}", "blacklist.add", "applied")]
    assert add(db_session, line, "+79035556678", accept_fee=False)  # connected now: no question
    assert count(db_session, LedgerEntry, LedgerEntry.kind == "service_fee") == 1


def test_a_double_submission_adds_once(db_session, line):
    key = secrets.token_urlsafe(24)
    assert add(db_session, line, key=key)
    assert not add(db_session, line, key=key)
    assert count(db_session, BlacklistEntry) == 1 and count(db_session, SwitchCommand) == 2


@pytest.mark.parametrize(("msisdn", "message"), [(OWN, "the number itself"), (CALLER, "already on the list")])
def test_own_and_repeated_numbers_are_refused(db_session, line, msisdn, message):
    add(db_session, line)
    with pytest.raises(blacklist.BlacklistRefused) as refused:
        add(db_session, line, msisdn)
    assert message in str(refused.value.message) and count(db_session, BlacklistEntry) == 1


def test_the_entry_over_the_limit_is_refused_and_nothing_changes(db_session, line):
    for n in range(3):
        add(db_session, line, f"+7903555660{n}", limit=3)
    with pytest.raises(blacklist.BlacklistRefused) as refused:
        add(db_session, line, "+79035556699", limit=3)
    assert "at most 3" in str(refused.value.message)
    assert count(db_session, BlacklistEntry) == 3


def test_a_balance_too_low_for_the_service_is_refused(db_session, line):
    poor = factories.make_line(db_session, "+79031112233", balance=100)
    db_session.commit()
    with pytest.raises(blacklist.DomainError) as refused:
        add(db_session, poor)
    assert "balance is too low" in str(refused.value.message) and count(db_session, BlacklistEntry) == 0


def test_removing_sends_a_command_per_number_and_the_last_one_can_end_the_service(db_session, line):
    add(db_session, line)
    add(db_session, line, "+79035556678")
    first, second = [e.id for e in blacklist.entries_of(db_session, line.id)]
    assert remove(db_session, line, [first], disconnect=True)  # not empty yet: the service stays
    assert count(db_session, Subscription, Subscription.status == "active") == 1
    assert remove(db_session, line, [second], disconnect=True)
    assert count(db_session, BlacklistEntry) == 0
    assert count(db_session, Subscription, Subscription.status == "active") == 0
    assert count(db_session, SwitchCommand, SwitchCommand.operation == "blacklist.remove") == 2
    assert count(db_session, SwitchCommand, SwitchCommand.operation == "service.off") == 1


def test_emptying_without_agreeing_keeps_the_service(db_session, line):
    add(db_session, line)
    remove(db_session, line, [blacklist.entries_of(db_session, line.id)[0].id])
    assert count(db_session, Subscription, Subscription.status == "active") == 1


def test_another_lines_entry_is_not_found(db_session, line):
    other = factories.make_line(db_session, "+79031112233", balance=10000)
    db_session.commit()
    add(db_session, other)
    entry = blacklist.entries_of(db_session, other.id)[0]
    with pytest.raises(NotFound):
        remove(db_session, line, [entry.id])
    assert count(db_session, BlacklistEntry) == 1
