"""The staff side of the catalog: portal/domain/catalog.py."""
import pytest
from sqlalchemy import func, select

from portal.domain import catalog, tariffs
from portal.domain.audit import Actor
from portal.domain.errors import DomainError, NotFound
from portal.models import Account, AuditEvent, LedgerEntry, Service, Subscription, Tariff
from tests import factories

ACTOR = Actor(staff_id=None, ip="10.0.0.9")


def tariff_values(**changes):
    return {"code": "smart-x", "name": "Smart X", "kind": "mobile", "region": "", "monthly_fee": 55000,
            "switch_fee": 5000, "minutes": 600, "sms": 300, "mms": 0, "data_mb": 20480, "unlimited_data": False,
            "description": "For everyone.", **changes}


def service_values(**changes):
    return {"code": "who-x", "name": "Who called X", "category": "calls", "kind": "mobile", "connection_fee": 0,
            "monthly_fee": 1500, "refund_unused": False, "description": "", "tariff_ids": [], "conflict_ids": [],
            **changes}


def audit(db_session):
    return [(e.action, e.detail) for e in db_session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def refused(call, field: str, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as info:
        call(**kwargs)
    assert info.value.field == field, (info.value.field, info.value.message)
    return info.value


# ---- money as typed ----------------------------------------------------------------

@pytest.mark.parametrize(("typed", "kopecks"), [
    ("550", 55000), ("550.00", 55000), ("550,5", 55050), ("550,50", 55050), ("0,01", 1), ("0", 0),
    (" 1 200,75 ", 120075), ("1\u00a0200", 120000), ("0.29", 29), ("1.15", 115), ("1000000", 100_000_000),
])
def test_roubles_are_parsed_exactly_into_kopecks(typed, kopecks):
    # 0.29 and 1.15 would come out one kopeck short through float.
    assert catalog.parse_roubles(typed) == kopecks


@pytest.mark.parametrize("typed", ["", "abc", "-1", "-0,5", "1.234", "1,2,3", "1e3", "NaN", "Infinity", "0x10",
                                   "550 $", "١٢٣", "1000000.01", "99999999999", "5" * 10_000])
def test_anything_else_is_refused(typed):
    with pytest.raises(catalog.InvalidAmount):
        catalog.parse_roubles(typed)


def test_kopecks_are_typed_back_as_roubles():
    assert [catalog.format_roubles(k) for k in (0, 1, 55050, 100_000_000)] == ["0.00", "0.01", "550.50",
                                                                                "1000000.00"]


# ---- tariffs -------------------------------------------------------------------------

def test_a_new_tariff_is_stored_and_audited_once(db_session):
    tariff = catalog.create_tariff(db_session, **tariff_values(region=" Moscow "), actor=ACTOR)
    db_session.expire_all()
    stored = db_session.get(Tariff, tariff.id)
    assert (stored.code, stored.region, stored.monthly_fee, stored.data_mb, stored.archived) == \
        ("smart-x", "Moscow", 55000, 20480, False)
    assert audit(db_session) == [("tariff_created", "smart-x")]


def test_an_empty_region_means_every_region(db_session):
    tariff = catalog.create_tariff(db_session, **tariff_values(region="  "), actor=ACTOR)
    assert tariff.region is None


@pytest.mark.parametrize("code", ["smart-x", "SMART-X", " smart-x "])
def test_a_tariff_code_is_unique_whatever_the_case(db_session, code):
    catalog.create_tariff(db_session, **tariff_values(), actor=ACTOR)
    refused(catalog.create_tariff, "code", session=db_session, **tariff_values(code=code, name="Other"),
            actor=ACTOR)
    assert db_session.scalar(select(func.count(Tariff.id))) == 1
    assert len(audit(db_session)) == 1


@pytest.mark.parametrize(("field", "value"), [
    ("code", ""), ("code", "has space"), ("code", "кириллица"), ("code", "x" * 41), ("name", " "),
    ("name", "n" * 101), ("kind", "tv"), ("kind", "satellite"), ("region", "r" * 65),
    ("monthly_fee", -1), ("monthly_fee", 100_000_001), ("monthly_fee", "550"), ("monthly_fee", 5.5),
    ("switch_fee", -100), ("switch_fee", True), ("minutes", -1), ("sms", 10_000_001), ("data_mb", "10"),
    ("mms", None), ("description", "d" * 2001),
])
def test_bad_tariff_values_are_refused_on_their_field(db_session, field, value):
    refused(catalog.create_tariff, field, session=db_session, **tariff_values(**{field: value}), actor=ACTOR)
    assert db_session.scalar(select(func.count(Tariff.id))) == 0 and audit(db_session) == []


def test_an_edit_changes_the_tariff_and_says_what_changed(db_session):
    tariff = factories.make_tariff(db_session, code="smart", monthly_fee=50000)
    db_session.commit()
    catalog.update_tariff(db_session, tariff_id=tariff.id, actor=ACTOR,
                          **tariff_values(code="smart", name=tariff.name, monthly_fee=60000))
    db_session.expire_all()
    assert db_session.get(Tariff, tariff.id).monthly_fee == 60000
    [(action, detail)] = audit(db_session)
    assert action == "tariff_updated" and detail.startswith("smart: ") and "monthly_fee 50000 -> 60000" in detail


def test_an_edit_that_changes_nothing_writes_nothing(db_session):
    tariff = catalog.create_tariff(db_session, **tariff_values(), actor=ACTOR)
    catalog.update_tariff(db_session, tariff_id=tariff.id, **tariff_values(), actor=ACTOR)
    assert [a for a, _ in audit(db_session)] == ["tariff_created"]


def test_an_edit_cannot_take_another_tariffs_code(db_session):
    factories.make_tariff(db_session, code="taken")
    tariff = factories.make_tariff(db_session, code="mine")
    db_session.commit()
    refused(catalog.update_tariff, "code", session=db_session, tariff_id=tariff.id,
            **tariff_values(code="Taken"), actor=ACTOR)
    db_session.expire_all()
    assert db_session.get(Tariff, tariff.id).code == "mine"


def test_the_kind_of_a_tariff_in_use_stays(db_session):
    used = factories.make_tariff(db_session, code="used")
    linked = factories.make_tariff(db_session, code="linked")
    factories.make_service(db_session, tariffs=[linked])
    free = factories.make_tariff(db_session, code="free")
    factories.make_line(db_session, tariff=used)
    db_session.commit()
    for tariff in (used, linked):
        refused(catalog.update_tariff, "kind", session=db_session, tariff_id=tariff.id,
                **tariff_values(code=tariff.code, kind="home"), actor=ACTOR)
    catalog.update_tariff(db_session, tariff_id=free.id, **tariff_values(code="free", kind="home"), actor=ACTOR)
    assert db_session.get(Tariff, free.id).kind == "home"


def test_archiving_a_tariff_hides_it_and_leaves_its_accounts_alone(db_session):
    tariff = factories.make_tariff(db_session, code="old")
    account = factories.make_line(db_session, tariff=tariff, balance=12345)
    db_session.commit()
    entries = db_session.scalar(select(func.count(LedgerEntry.id)))
    catalog.set_tariff_archived(db_session, tariff_id=tariff.id, archived=True, actor=ACTOR)
    db_session.expire_all()
    account = db_session.get(Account, account.id)
    assert db_session.get(Tariff, tariff.id).archived
    assert (account.tariff_id, account.balance, account.status) == (tariff.id, 12345, "active")
    assert db_session.scalar(select(func.count(LedgerEntry.id))) == entries
    assert tariff not in tariffs.available_tariffs(db_session, account)
    catalog.set_tariff_archived(db_session, tariff_id=tariff.id, archived=True, actor=ACTOR)  # already: nothing
    catalog.set_tariff_archived(db_session, tariff_id=tariff.id, archived=False, actor=ACTOR)
    assert not db_session.get(Tariff, tariff.id).archived
    assert audit(db_session) == [("tariff_archived", "old"), ("tariff_restored", "old")]


def test_an_unknown_tariff_is_not_found(db_session):
    with pytest.raises(NotFound):
        catalog.update_tariff(db_session, tariff_id=999, **tariff_values(), actor=ACTOR)
    with pytest.raises(NotFound):
        catalog.set_tariff_archived(db_session, tariff_id=999, archived=True, actor=ACTOR)


# ---- services ------------------------------------------------------------------------

def test_a_new_service_keeps_its_tariffs_and_conflicts(db_session):
    smart = factories.make_tariff(db_session)
    other = factories.make_service(db_session)
    db_session.commit()
    service = catalog.create_service(db_session, actor=ACTOR, **service_values(
        tariff_ids=[smart.id], conflict_ids=[other.id], connection_fee=3000, refund_unused=True))
    db_session.expire_all()
    stored = db_session.get(Service, service.id)
    assert [t.id for t in stored.tariffs] == [smart.id]
    assert [s.id for s in stored.conflicts] == [other.id]
    assert catalog.conflicts_of(db_session, other.id) == [service.id]
    assert (stored.connection_fee, stored.refund_unused) == (3000, True)
    assert audit(db_session) == [("service_created", "who-x")]


def test_a_tv_service_goes_with_home_tariffs_only(db_session):
    home = factories.make_tariff(db_session, kind="home")
    mobile = factories.make_tariff(db_session, kind="mobile")
    db_session.commit()
    error = refused(catalog.create_service, "tariff_ids", session=db_session, actor=ACTOR,
                    **service_values(kind="tv", category="tv", tariff_ids=[home.id, mobile.id]))
    assert mobile.name in str(error.message)
    service = catalog.create_service(db_session, actor=ACTOR,
                                     **service_values(kind="tv", category="tv", tariff_ids=[home.id]))
    assert [t.id for t in service.tariffs] == [home.id]


def test_an_archived_tariff_cannot_be_newly_linked_but_an_old_link_stays(db_session):
    kept = factories.make_tariff(db_session, archived=True)
    other = factories.make_tariff(db_session, archived=True)
    service = factories.make_service(db_session, code="svc", tariffs=[kept])
    db_session.commit()
    refused(catalog.create_service, "tariff_ids", session=db_session, actor=ACTOR,
            **service_values(tariff_ids=[other.id]))
    refused(catalog.update_service, "tariff_ids", session=db_session, service_id=service.id, actor=ACTOR,
            **service_values(code="svc", tariff_ids=[kept.id, other.id]))
    catalog.update_service(db_session, service_id=service.id, actor=ACTOR,
                           **service_values(code="svc", name="Renamed", tariff_ids=[kept.id]))
    db_session.expire_all()
    stored = db_session.get(Service, service.id)
    assert stored.name == "Renamed" and [t.id for t in stored.tariffs] == [kept.id]


@pytest.mark.parametrize(("field", "value"), [
    ("category", "casino"), ("kind", "satellite"), ("connection_fee", -1), ("monthly_fee", 100_000_001),
    ("tariff_ids", [987654]), ("conflict_ids", [987654]), ("code", "a/b"), ("name", ""),
])
def test_bad_service_values_are_refused_on_their_field(db_session, field, value):
    refused(catalog.create_service, field, session=db_session, actor=ACTOR, **service_values(**{field: value}))
    assert db_session.scalar(select(func.count(Service.id))) == 0 and audit(db_session) == []


def test_a_service_code_is_unique_across_services(db_session):
    factories.make_service(db_session, code="who-x")
    db_session.commit()
    refused(catalog.create_service, "code", session=db_session, actor=ACTOR, **service_values())


def test_a_service_cannot_conflict_with_itself(db_session):
    service = factories.make_service(db_session, code="svc")
    db_session.commit()
    refused(catalog.update_service, "conflict_ids", session=db_session, service_id=service.id, actor=ACTOR,
            **service_values(code="svc", conflict_ids=[service.id]))


def test_a_conflict_is_edited_from_either_side(db_session):
    a = factories.make_service(db_session, code="a")
    b = factories.make_service(db_session, code="b")
    a.conflicts.append(b)  # stored from a's side
    db_session.commit()
    assert catalog.conflicts_of(db_session, b.id) == [a.id]
    catalog.update_service(db_session, service_id=b.id, actor=ACTOR, **service_values(code="b", name=b.name,
                                                                                      monthly_fee=b.monthly_fee))
    assert catalog.conflicts_of(db_session, a.id) == [] and catalog.conflicts_of(db_session, b.id) == []
    [(action, detail)] = audit(db_session)
    assert action == "service_updated" and detail == f"b: conflicts [{a.id}] -> []"


def test_the_kind_of_a_connected_service_stays(db_session):
    service = factories.make_service(db_session, code="svc", kind="mobile")
    factories.make_subscription(db_session, factories.make_line(db_session), service)
    db_session.commit()
    refused(catalog.update_service, "kind", session=db_session, service_id=service.id, actor=ACTOR,
            **service_values(code="svc", kind="home", category="home"))


def test_archiving_a_service_leaves_its_subscriptions_running(db_session):
    service = factories.make_service(db_session, code="svc")
    subscription = factories.make_subscription(db_session, factories.make_line(db_session), service)
    db_session.commit()
    catalog.set_service_archived(db_session, service_id=service.id, archived=True, actor=ACTOR)
    db_session.expire_all()
    assert db_session.get(Service, service.id).archived
    kept = db_session.get(Subscription, subscription.id)
    assert (kept.status, kept.until) == ("active", None)
    catalog.set_service_archived(db_session, service_id=service.id, archived=False, actor=ACTOR)
    assert audit(db_session) == [("service_archived", "svc"), ("service_restored", "svc")]


def test_an_unknown_service_is_not_found(db_session):
    with pytest.raises(NotFound):
        catalog.update_service(db_session, service_id=999, actor=ACTOR, **service_values())
    with pytest.raises(NotFound):
        catalog.set_service_archived(db_session, service_id=999, archived=True, actor=ACTOR)
