"""The content-charge ban: providers' paid subscriptions refused while it is on (and listed once), connected once
otherwise; the same request twice does nothing twice."""
import pytest
from sqlalchemy import func, select

from portal.domain import content
from portal.domain.audit import Actor
from portal.domain.errors import NotFound
from portal.models import AuditEvent, ContentRefusal, LedgerEntry, Subscription, utcnow
from tests import factories

MSISDN = "+79161234567"


@pytest.fixture
def line(db_session):
    account = factories.make_line(db_session, MSISDN, balance=100000)
    factories.make_service(db_session, code="music-stream", name="Музыка", name_en="Music",
                           category="subscription", monthly_fee=19900)
    factories.make_service(db_session, code="who-called", category="calls")
    db_session.commit()
    return account


def subscribe(db_session, request_id="r-1", service="music-stream", msisdn=MSISDN):
    return content.provider_subscribe(db_session, msisdn=msisdn, service_code=service, provider="Acme Media",
                                      request_id=request_id, now=utcnow())


def count(db_session, model):
    return db_session.scalar(select(func.count()).select_from(model))


def test_without_the_ban_a_provider_subscribes_once(db_session, line):
    assert subscribe(db_session) is True
    assert subscribe(db_session) is False  # the gateway asked again
    assert count(db_session, Subscription) == 1
    fees = db_session.scalars(select(LedgerEntry.amount).where(LedgerEntry.kind == "service_fee")).all()
    assert len(fees) == 1 and fees[0] < 0  # the month's share, charged once
    assert "content_subscribed" in db_session.scalars(select(AuditEvent.action)).all()


def test_with_the_ban_the_attempt_is_refused_and_listed_once(db_session, line):
    assert content.set_ban(db_session, account_id=line.id, on=True, actor=Actor(), now=utcnow())
    for _ in range(2):
        with pytest.raises(content.ContentRefused):
            subscribe(db_session)
    assert count(db_session, Subscription) == 0
    assert not db_session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "service_fee")).all()
    [refusal] = content.refusals(db_session, line.id)
    assert (refusal.provider, refusal.service.code) == ("Acme Media", "music-stream")
    with pytest.raises(content.ContentRefused):
        subscribe(db_session, request_id="r-2")
    assert count(db_session, ContentRefusal) == 2


def test_switching_twice_is_recorded_once_and_off_lets_providers_in_again(db_session, line):
    assert content.set_ban(db_session, account_id=line.id, on=True, actor=Actor(), now=utcnow())
    assert not content.set_ban(db_session, account_id=line.id, on=True, actor=Actor(), now=utcnow())
    assert content.is_banned(db_session, line.id)
    assert content.set_ban(db_session, account_id=line.id, on=False, actor=Actor(), now=utcnow())
    assert content.is_banned(db_session, line.id) is None
    assert subscribe(db_session) is True
    actions = db_session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("content_ban%"))).all()
    assert sorted(actions) == ["content_ban_off", "content_ban_on"]


@pytest.mark.parametrize(("service", "msisdn"), [("who-called", MSISDN), ("nothing", MSISDN),
                                                 ("music-stream", "+79990000000")])
def test_only_paid_subscriptions_of_known_lines(db_session, line, service, msisdn):
    with pytest.raises(NotFound):
        subscribe(db_session, service=service, msisdn=msisdn)
