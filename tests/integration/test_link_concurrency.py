"""Two requests to add the same number at once, and two staff approving at once, on real PostgreSQL."""
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain import links
from portal.domain.audit import Actor
from portal.extensions import db
from portal.models import LinkRequest, LoginAccount, SmsMessage, utcnow
from portal.web import auth_policy
from tests import factories
from tests.integration.test_tariff_concurrency import run_together

pytestmark = pytest.mark.postgres
POLICY = links.LinkPolicy(review_working_days=2, holidays=frozenset(), max_numbers=10)


@pytest.fixture
def family(pg):
    with Session(db.engine) as session:
        head = factories.make_line(session, "+79161234567")
        login = factories.make_login(session, head)
        child = factories.make_line(session, "+79161234568", customer=head.customer)
        service = factories.make_service(session, category="number_management", monthly_fee=0)
        for account in (head, child):
            factories.make_subscription(session, account, service)
        session.commit()
        return login.id, child.id


def test_the_same_request_twice_at_once_makes_one(pg, family):
    login_id, _ = family

    def ask(session):
        links.request_link(session, login_id=login_id, numbers_text="+79161234568", actor=Actor(), now=utcnow(),
                           today=date(2026, 11, 23), policy=POLICY)

    outcomes = run_together(pg, [ask, ask])
    assert sorted(map(str, outcomes)).count("ok") == 1
    assert any(isinstance(o, links.LinkRefused) for o in outcomes)
    with Session(db.engine) as session:
        assert session.scalar(select(func.count()).select_from(LinkRequest)) == 1


def test_two_staff_approving_at_once_link_once(pg, family):
    login_id, child_id = family
    with Session(db.engine) as session:
        link = links.request_link(session, login_id=login_id, numbers_text="+79161234568", actor=Actor(),
                                  now=utcnow(), today=date(2026, 11, 23), policy=POLICY)
        request_id = link.id
    with pg.test_request_context():
        policy = auth_policy()

    def approve(session):
        links.approve(session, request_id=request_id, actor=Actor(), now=utcnow(), policy=policy)

    outcomes = run_together(pg, [approve, approve])
    assert outcomes.count("ok") == 1
    with Session(db.engine) as session:
        assert session.scalar(select(func.count()).select_from(LoginAccount)
                              .where(LoginAccount.account_id == child_id)) == 2  # its own login and the head's
        assert session.scalar(select(func.count()).select_from(SmsMessage)
                              .where(SmsMessage.purpose == "password")) == 1
