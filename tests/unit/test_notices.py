"""Notices: which accounts a scope covers, how states move, one SMS per phase and account, quiet hours."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal import jobs
from portal.domain import alerts, notices
from portal.domain.audit import SYSTEM, Actor
from portal.domain.notices import scope
from portal.domain.notices.sms import send_phase, unsent_ids
from portal.models import AuditEvent, HeldAlert, NoticeSms, ServiceNotice, SmsMessage
from tests import factories

NOON = datetime(2026, 11, 20, 9, 0)  # UTC; 12:00 in Moscow
NIGHT = datetime(2026, 11, 20, 20, 30)  # UTC; 23:30 in Moscow
STAFF = Actor(staff_id=None, ip="127.0.0.1")
BUILDING = "Москва, ул. Профсоюзная, д. 65, корп. 2"


@pytest.fixture(autouse=True)
def no_job(monkeypatch):
    """The job is called by hand here, at a fixed time (eager Celery would run it at once, now)."""
    monkeypatch.setattr(jobs.notice_sms, "delay", lambda notice_id: None)


def values(**changes) -> notices.NoticeValues:
    base = dict(kind="outage", title="No internet", text="", scope="mobile", scope_value="", starts_at=NOON,
                expected_end=NOON + timedelta(hours=3))
    return notices.NoticeValues(**{**base, **changes})


def publish(db_session, **changes) -> ServiceNotice:
    return notices.create_notice(db_session, values=values(**changes), regions=["Moscow", "Kazan"],
                                 connection_types=("fttb", "gpon"), actor=STAFF, now=NOON)


def home(db_session, contract_no: str, address: str, *, connection: str = "gpon", phone: str | None = None,
         region: str = "Moscow"):
    account = factories.make_home_contract(db_session, contract_no, contact_phone=phone,
                                           customer=factories.make_customer(db_session, region=region))
    account.home_contract.address, account.home_contract.connection_type = address, connection
    db_session.flush()
    return account


def opt_in(db_session, account, **values):
    base = dict(low_balance_below=None, on_payment=True, on_change=True, on_new_device=True, on_every_login=False,
                quiet_from=None, quiet_to=None, on_outages=True)
    alerts.save_settings(db_session, account_id=account.id, actor=SYSTEM, now=NOON, **{**base, **values})


def notice_sms(db_session) -> list[tuple[str, str]]:
    return [tuple(row) for row in db_session.execute(
        select(SmsMessage.to, SmsMessage.text).where(SmsMessage.purpose == "alert").order_by(SmsMessage.id))]


# ---- scope -----------------------------------------------------------------------------------------------

def test_an_address_is_normalised_and_matches_whole_words_only():
    assert scope.normalise_address("Москва,  ул. Профсоюзная, ДОМ 65") == "москва ул профсоюзная д 65"
    assert scope.address_in("Москва, ул. Профсоюзная, д. 65, корп. 2, кв. 118", BUILDING)
    assert scope.address_in("москва ул профсоюзная д.65 корп 2", BUILDING)
    assert not scope.address_in("Москва, ул. Профсоюзная, д. 65, корп. 21, кв. 1", BUILDING)
    assert not scope.address_in("Москва, ул. Профсоюзная, д. 651", "Москва, ул. Профсоюзная, д. 65")


def test_each_scope_covers_its_accounts_and_no_others(db_session):
    line = factories.make_line(db_session, "+79161234567")
    kazan_line = factories.make_line(db_session, "+79031112233", customer=factories.make_customer(
        db_session, region="Kazan"))
    in_building = home(db_session, "HC-1", BUILDING + ", кв. 118")
    next_door = home(db_session, "HC-2", "Москва, ул. Профсоюзная, д. 67", connection="fttb")
    kazan_home = home(db_session, "HC-3", "Казань, ул. Баумана, д. 1", region="Kazan")
    everyone = [line, kazan_line, in_building, next_door, kazan_home]
    cases = {("mobile", ""): {line, kazan_line}, ("region", "Kazan"): {kazan_line, kazan_home},
             ("connection", "fttb"): {next_door}, ("address", BUILDING): {in_building}}
    for (kind, value), expected in cases.items():
        notice = publish(db_session, scope=kind, scope_value=value)
        assert {a for a in everyone if notices.affects(notice, a)} == expected, kind
        candidates = set(db_session.scalars(scope.accounts_query(notice)))
        assert expected <= candidates and {a for a in candidates if notices.affects(notice, a)} == expected


def test_the_dashboard_list_has_only_the_notices_affecting_the_account(db_session):
    account = home(db_session, "HC-1", BUILDING + ", кв. 118")
    ours = publish(db_session, scope="address", scope_value=BUILDING)
    publish(db_session, scope="address", scope_value="Москва, ул. Профсоюзная, д. 67", title="Next door")
    publish(db_session, scope="mobile", title="Mobile")
    later = publish(db_session, kind="works", scope="region", scope_value="Moscow", title="Next month",
                    starts_at=NOON + timedelta(days=20), expected_end=NOON + timedelta(days=20, hours=2))
    over = publish(db_session, scope="connection", scope_value="gpon", title="Over")
    notices.resolve_notice(db_session, notice_id=over.id, text="", actor=STAFF, now=NOON)
    assert [n.id for n in notices.notices_for(db_session, account, now=NOON)] == [ours.id]
    assert later.id in {n.id for n in notices.notices_for(db_session, account, now=NOON + timedelta(days=18))}


@pytest.mark.parametrize("field,changes", [
    ("title", dict(title="   ")), ("region", dict(scope="region", scope_value="Atlantis")),
    ("connection_type", dict(scope="connection", scope_value="dialup")),
    ("address", dict(scope="address", scope_value=BUILDING + ", кв. 118")),
    ("address", dict(scope="address", scope_value="Москва")),
    ("expected_end", dict(expected_end=NOON - timedelta(hours=1))),
    ("starts_at", dict(starts_at=NOON + timedelta(days=200))),
])
def test_bad_values_are_refused_on_their_field(db_session, field, changes):
    with pytest.raises(notices.NoticeRefused) as refused:
        publish(db_session, **changes)
    assert refused.value.field == field
    assert db_session.scalar(select(func.count(ServiceNotice.id))) == 0


# ---- states ----------------------------------------------------------------------------------------------

def test_states_move_with_updates_and_every_step_is_audited(db_session):
    notice = publish(db_session, kind="works", scope="mobile")
    assert notice.state == "scheduled" and notice.open
    notices.post_update(db_session, notice_id=notice.id, text="Started", state="in_progress", actor=STAFF, now=NOON)
    notices.post_update(db_session, notice_id=notice.id, text="Half done", state=None, actor=STAFF, now=NOON)
    with pytest.raises(notices.NoticeRefused):
        notices.post_update(db_session, notice_id=notice.id, text="", state="fixing", actor=STAFF, now=NOON)
    with pytest.raises(notices.NoticeRefused):
        notices.post_update(db_session, notice_id=notice.id, text="", state=None, actor=STAFF, now=NOON)
    notices.resolve_notice(db_session, notice_id=notice.id, text="Finished", actor=STAFF, now=NOON)
    db_session.refresh(notice)
    assert (notice.state, notice.open, notice.ended_at) == ("done", False, NOON)
    assert [(u.state_to, u.text) for u in reversed(notice.updates)] == [
        ("scheduled", ""), ("in_progress", "Started"), (None, "Half done"), ("done", "Finished")]
    with pytest.raises(notices.NoticeRefused):
        notices.resolve_notice(db_session, notice_id=notice.id, text="", actor=STAFF, now=NOON)
    assert list(db_session.scalars(select(AuditEvent.action).order_by(AuditEvent.id))) == [
        "notice_published", "notice_updated", "notice_updated", "notice_updated"]


def test_an_edit_keeps_the_kind_and_state(db_session):
    notice = publish(db_session)
    notices.edit_notice(db_session, notice_id=notice.id, values=values(kind="works", title="Slow internet"),
                        regions=[], connection_types=(), actor=STAFF, now=NOON)
    db_session.refresh(notice)
    assert (notice.kind, notice.state, notice.title) == ("outage", "investigating", "Slow internet")


# ---- SMS -------------------------------------------------------------------------------------------------

def test_opted_in_accounts_get_one_sms_per_phase(db_session):
    asked = factories.make_line(db_session, "+79161234567")
    factories.make_login(db_session, asked)
    quiet = factories.make_line(db_session, "+79031112233")  # did not ask
    home_asked = home(db_session, "HC-1", BUILDING, phone="+79262223344")
    opt_in(db_session, asked)
    opt_in(db_session, home_asked)
    notice = publish(db_session, scope="mobile", title="No calls")
    assert send_phase(db_session, notice.id, now=NOON, batch=1) == 1
    assert send_phase(db_session, notice.id, now=NOON) == 0  # run twice (a lost worker, the sweep): nothing more
    notices.post_update(db_session, notice_id=notice.id, text="", state="fixing", actor=STAFF, now=NOON)
    assert send_phase(db_session, notice.id, now=NOON) == 0  # still the start phase
    notices.resolve_notice(db_session, notice_id=notice.id, text="", actor=STAFF, now=NOON)
    assert send_phase(db_session, notice.id, now=NOON) == 1
    assert send_phase(db_session, notice.id, now=NOON) == 0
    sent = notice_sms(db_session)
    assert [to for to, _ in sent] == ["+79161234567", "+79161234567"]
    assert "No calls" in sent[0][1] and "outage" in sent[0][1] and "over" in sent[1][1]
    assert quiet.id not in set(db_session.scalars(select(NoticeSms.account_id)))


def test_the_end_goes_only_to_those_told_of_the_start(db_session):
    early = factories.make_line(db_session, "+79161234567")
    opt_in(db_session, early)
    notice = publish(db_session, kind="works", scope="mobile")
    assert send_phase(db_session, notice.id, now=NOON) == 0  # scheduled: nothing yet
    notices.post_update(db_session, notice_id=notice.id, text="", state="in_progress", actor=STAFF, now=NOON)
    assert send_phase(db_session, notice.id, now=NOON) == 1
    late = factories.make_line(db_session, "+79031112233")
    opt_in(db_session, late)
    notices.resolve_notice(db_session, notice_id=notice.id, text="", actor=STAFF, now=NOON)
    assert send_phase(db_session, notice.id, now=NOON) == 1
    assert [to for to, _ in notice_sms(db_session)] == ["+79161234567", "+79161234567"]


def test_quiet_hours_hold_the_sms_until_they_end(db_session):
    account = factories.make_line(db_session, "+79161234567")
    opt_in(db_session, account, quiet_from=23 * 60, quiet_to=8 * 60)
    notice = publish(db_session, scope="mobile")
    assert send_phase(db_session, notice.id, now=NIGHT) == 1
    assert notice_sms(db_session) == []
    held = db_session.scalar(select(HeldAlert))
    assert held.event == "outage" and held.hold_until == datetime(2026, 11, 21, 5, 0)
    assert alerts.release_due(db_session, now=datetime(2026, 11, 21, 5, 1)) == 1
    assert len(notice_sms(db_session)) == 1


def test_the_sweep_finds_a_phase_whose_job_was_lost(db_session):
    account = factories.make_line(db_session, "+79161234567")
    opt_in(db_session, account)
    notice = publish(db_session, scope="mobile")
    later = NOON + timedelta(minutes=10)
    assert unsent_ids(db_session, older_than=later - timedelta(minutes=5), now=later) == [notice.id]
    send_phase(db_session, notice.id, now=later)
    assert unsent_ids(db_session, older_than=later - timedelta(minutes=5), now=later) == []
