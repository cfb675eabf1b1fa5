"""The family locator's rules: asking (limits, numbers not ours told nothing different), the code, the holder's
answer and revoke, the parental rule for a child's line, lookups recorded once, and the SMS notices' daily limit."""
import re
import secrets
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.domain import alerts, locator
from portal.domain.audit import Actor
from portal.domain.errors import NotFound
from portal.domain.locator.network import DevNetwork, LocatorUnavailable, Position
from portal.models import AuditEvent, HeldAlert, LocatorConsent, LocatorLookup, Service, SmsMessage
from tests import factories

SEEKER, TARGET, CHILD, STRANGER = "+79161234567", "+79162223344", "+79161234568", "+79035550000"
NOW = datetime(2026, 12, 7, 9, 0)  # noon in Moscow


@pytest.fixture
def family(db_session):
    service = factories.make_service(db_session, code=locator.SERVICE, name="Где мои близкие", category="security")
    seeker = factories.make_line(db_session, SEEKER)
    factories.make_subscription(db_session, seeker, service, since=NOW - timedelta(days=3), status="active")
    login = factories.make_login(db_session, seeker)
    target = factories.make_line(db_session, TARGET)
    factories.make_login(db_session, target)
    db_session.commit()
    return login, seeker, target


@pytest.fixture
def service_for(db_session, family):
    """Another line with the service connected."""
    service = db_session.scalar(select(Service).where(Service.code == locator.SERVICE))

    def make(msisdn):
        line = factories.make_line(db_session, msisdn)
        factories.make_subscription(db_session, line, service, since=NOW - timedelta(days=1), status="active")
        db_session.commit()
        return line

    return make


def actor_of(account, login_id=None):
    return Actor(login_id=login_id, account_id=account.id, ip="203.0.113.5")


def ask(db_session, seeker, msisdn=TARGET, name="Mum", managed=None, now=NOW):
    return locator.ask(db_session, seeker=seeker, msisdn=msisdn, name=name, managed_account_ids=managed or {seeker.id},
                       idempotency_key=secrets.token_urlsafe(18), actor=actor_of(seeker), now=now)


def sent_code(db_session, to=TARGET) -> str:
    text = db_session.scalar(select(SmsMessage.text).where(SmsMessage.to == to, SmsMessage.purpose == "locator_code")
                             .order_by(SmsMessage.id.desc()))
    return re.search(r"\b(\d{6})\b", text).group(1)


def grant(db_session, seeker, target_msisdn=TARGET, now=NOW):
    consent = ask(db_session, seeker, target_msisdn, now=now)
    locator.confirm_code(db_session, seeker_account_id=seeker.id, consent_id=consent.id,
                         code=sent_code(db_session, target_msisdn), actor=actor_of(seeker), now=now)
    return consent


class Network:
    def __init__(self, answer=None):
        self.answer = answer or Position(lat=55.765, lon=37.605, accuracy_m=300, at=NOW, place="Тверская улица")
        self.calls = []

    def locate(self, msisdn, request_id):
        self.calls.append((msisdn, request_id))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def locate(db_session, seeker, consent, network=None, now=NOW, limit=3, key=None):
    return locator.locate(db_session, network or Network(), seeker_account_id=seeker.id, consent_id=consent.id,
                          idempotency_key=key or secrets.token_urlsafe(18), actor=actor_of(seeker), now=now,
                          notices_per_day=limit)


def test_asking_sends_the_holder_a_hashed_code_and_the_right_code_grants(db_session, family):
    _, seeker, target = family
    consent = ask(db_session, seeker)
    assert consent.state == "pending" and consent.target_account_id == target.id
    sms = db_session.scalar(select(SmsMessage).where(SmsMessage.to == TARGET))
    code = sent_code(db_session)
    assert sms.is_secret and "+7 916 123-45-67" in sms.text and code not in consent.code_hash
    locator.confirm_code(db_session, seeker_account_id=seeker.id, consent_id=consent.id, code=code,
                         actor=actor_of(seeker), now=NOW)
    assert db_session.get(LocatorConsent, consent.id).state == "granted"
    assert {"locator_asked", "locator_granted"} <= set(db_session.scalars(select(AuditEvent.action)))


def test_wrong_codes_are_limited_and_end_the_request(db_session, family):
    _, seeker, _ = family
    consent = ask(db_session, seeker)
    for _n in range(locator.WRONG_CODES_LIMIT - 1):
        with pytest.raises(locator.WrongCode, match="Wrong code"):
            locator.confirm_code(db_session, seeker_account_id=seeker.id, consent_id=consent.id, code="000000",
                                 actor=actor_of(seeker), now=NOW)
    with pytest.raises(locator.WrongCode, match="Too many wrong codes"):
        locator.confirm_code(db_session, seeker_account_id=seeker.id, consent_id=consent.id, code="000000",
                             actor=actor_of(seeker), now=NOW)
    with pytest.raises(locator.WrongCode, match="not waiting"):
        locator.confirm_code(db_session, seeker_account_id=seeker.id, consent_id=consent.id,
                             code=sent_code(db_session), actor=actor_of(seeker), now=NOW)
    assert db_session.get(LocatorConsent, consent.id).state == "expired"


def test_a_code_after_its_day_is_refused_and_the_request_reads_expired(db_session, family):
    _, seeker, _ = family
    consent = ask(db_session, seeker)
    later = NOW + locator.REQUEST_TTL + timedelta(minutes=1)
    with pytest.raises(locator.WrongCode):
        locator.confirm_code(db_session, seeker_account_id=seeker.id, consent_id=consent.id,
                             code=sent_code(db_session), actor=actor_of(seeker), now=later)
    assert [p.state for p in locator.people(db_session, seeker.id, later)] == ["expired"]


def test_a_number_not_ours_gets_the_same_answer_and_no_sms(db_session, family):
    _, seeker, _ = family
    consent = ask(db_session, seeker, STRANGER)
    assert consent.state == "pending" and consent.target_account_id is None and consent.code_hash
    assert db_session.scalar(select(func.count()).select_from(SmsMessage).where(SmsMessage.to == STRANGER)) == 0


def test_a_number_gets_at_most_three_codes_a_day_and_the_seeker_cannot_tell(db_session, family, service_for):
    seekers = [family[1]] + [service_for(f"+7916777000{n}") for n in range(3)]
    consents = [ask(db_session, seeker) for seeker in seekers]
    assert [c.state for c in consents] == ["pending"] * 4
    codes = db_session.scalar(select(func.count()).select_from(SmsMessage).where(SmsMessage.to == TARGET))
    assert codes == locator.CODES_PER_NUMBER_PER_DAY
    locator.answer(db_session, target_account_id=family[2].id, consent_id=consents[-1].id, agree=True,
                   actor=actor_of(family[2]), now=NOW)  # the holder still answers in the personal account


def test_seeking_needs_the_service(db_session, family):
    _, _, target = family
    with pytest.raises(locator.ServiceNeeded):
        ask(db_session, target, SEEKER)


def test_limits_own_number_duplicates_people_and_requests_a_day(db_session, family):
    _, seeker, _ = family
    with pytest.raises(locator.LocatorRefused, match="number you are using"):
        ask(db_session, seeker, SEEKER)
    ask(db_session, seeker)
    with pytest.raises(locator.LocatorRefused, match="already in your list"):
        ask(db_session, seeker)
    for n in range(locator.REQUESTS_PER_DAY - 1):
        ask(db_session, seeker, f"+7903555000{n + 1}")
    with pytest.raises(locator.LocatorRefused, match="requests a day") as refused:
        ask(db_session, seeker, "+79035550009")
    assert refused.value.status == 429


def test_at_most_ten_people_and_a_removed_one_frees_a_place(db_session, family):
    _, seeker, _ = family
    db_session.add_all(LocatorConsent(seeker_account_id=seeker.id, target_msisdn=f"+7903777000{n}", name=f"p{n}",
                                      state="granted", created_at=NOW - timedelta(days=9), expires_at=NOW)
                       for n in range(locator.PEOPLE_LIMIT))
    db_session.commit()
    with pytest.raises(locator.LocatorRefused, match="at most 10 people"):
        ask(db_session, seeker)
    first = locator.people(db_session, seeker.id, NOW)[-1].consent
    locator.remove(db_session, seeker_account_id=seeker.id, consent_id=first.id, actor=actor_of(seeker), now=NOW)
    assert ask(db_session, seeker).state == "pending"


def test_the_same_form_twice_asks_once(db_session, family):
    _, seeker, _ = family
    kwargs = dict(seeker=seeker, msisdn=TARGET, name="Mum", managed_account_ids={seeker.id},
                  idempotency_key="k" * 24, actor=actor_of(seeker), now=NOW)
    assert locator.ask(db_session, **kwargs) is not None
    assert locator.ask(db_session, **kwargs) is None
    assert db_session.scalar(select(func.count()).select_from(LocatorConsent)) == 1


def test_the_holder_agrees_refuses_or_revokes_only_their_own(db_session, family):
    _, seeker, target = family
    first = ask(db_session, seeker)
    with pytest.raises(NotFound):
        locator.answer(db_session, target_account_id=seeker.id, consent_id=first.id, agree=True,
                       actor=actor_of(seeker), now=NOW)
    locator.answer(db_session, target_account_id=target.id, consent_id=first.id, agree=False,
                   actor=actor_of(target), now=NOW)
    assert db_session.get(LocatorConsent, first.id).state == "refused"
    second = ask(db_session, seeker)
    locator.answer(db_session, target_account_id=target.id, consent_id=second.id, agree=True,
                   actor=actor_of(target), now=NOW)
    with pytest.raises(locator.LocatorRefused, match="already been answered"):
        locator.answer(db_session, target_account_id=target.id, consent_id=second.id, agree=False,
                       actor=actor_of(target), now=NOW)
    locator.revoke(db_session, target_account_id=target.id, consent_id=second.id, actor=actor_of(target), now=NOW)
    assert db_session.get(LocatorConsent, second.id).state == "revoked"
    with pytest.raises(locator.LocatorRefused, match="not agreed"):
        locate(db_session, seeker, second)


def test_a_child_line_of_the_same_account_is_granted_by_the_owner_and_still_noticed(db_session, family):
    login, seeker, _ = family
    child = factories.make_line(db_session, CHILD, customer=seeker.customer)
    factories.make_login(db_session, child)
    db_session.commit()
    managed = {seeker.id, child.id}
    # Not marked yet: the child's phone gets a code like anyone's.
    assert ask(db_session, seeker, CHILD, managed=managed).state == "pending"
    locator.mark_child_line(db_session, account_id=child.id, managed_account_ids=managed,
                            used_by_child=True, actor=actor_of(seeker, login.id))
    waiting = locator.people(db_session, seeker.id, NOW)[0].consent
    locator.remove(db_session, seeker_account_id=seeker.id, consent_id=waiting.id, actor=actor_of(seeker), now=NOW)
    consent = ask(db_session, seeker, CHILD, managed=managed, name="Kid")
    assert consent.state == "granted" and consent.decided_by == "owner"
    assert locate(db_session, seeker, consent).state == "found"
    texts = db_session.scalars(select(SmsMessage.text).where(SmsMessage.to == CHILD, SmsMessage.purpose == "alert"))
    assert any("looked up where you are" in t for t in texts)


def test_a_marked_line_of_another_customer_or_login_still_needs_its_holder(db_session, family):
    login, seeker, target = family
    with pytest.raises(NotFound):  # not the owner's to mark
        locator.mark_child_line(db_session, account_id=target.id,
                                managed_account_ids={seeker.id}, used_by_child=True, actor=actor_of(seeker))
    target.line.used_by_child = True  # marked by its own owner
    db_session.commit()
    assert ask(db_session, seeker, TARGET, managed={seeker.id, target.id}).state == "pending"


def test_a_lookup_records_the_position_and_notices_the_holder_at_most_three_times_a_day(db_session, family):
    _, seeker, _ = family
    consent = grant(db_session, seeker)
    network = Network()
    lookups = [locate(db_session, seeker, consent, network, now=NOW + timedelta(minutes=n)) for n in range(5)]
    assert [lk.state for lk in lookups] == ["found"] * 5
    assert lookups[0].place == "Тверская улица" and lookups[0].accuracy_m == 300
    assert [lk.noticed for lk in lookups] == [True] * 3 + [False] * 2
    assert network.calls[0] == (TARGET, f"lookup-{lookups[0].id}")
    notices = db_session.scalars(select(SmsMessage.text).where(SmsMessage.to == TARGET, SmsMessage.purpose == "alert"))
    assert len([t for t in notices if "+7 916 123-45-67 has just looked up" in t]) == 3
    next_day = locate(db_session, seeker, consent, network, now=NOW + timedelta(days=1, minutes=1))
    assert next_day.noticed


def test_quiet_hours_hold_the_notice(db_session, family):
    _, seeker, target = family
    consent = grant(db_session, seeker)
    alerts.save_settings(db_session, account_id=target.id, low_balance_below=None, on_payment=True, on_change=True,
                         on_new_device=True, on_every_login=False, quiet_from=11 * 60, quiet_to=13 * 60,
                         actor=actor_of(target), now=NOW)
    assert locate(db_session, seeker, consent).noticed
    assert "looked up where you are" in db_session.scalar(select(HeldAlert.text))


def test_a_network_failure_is_recorded_as_failed_with_no_notice(db_session, family):
    _, seeker, _ = family
    consent = grant(db_session, seeker)
    lookup = locate(db_session, seeker, consent, Network(LocatorUnavailable("the gateway is unreachable")))
    assert lookup.state == "failed" and "unreachable" in lookup.failure and not lookup.noticed
    assert "locator_lookup_failed" in set(db_session.scalars(select(AuditEvent.action)))


def test_an_answer_arriving_twice_is_recorded_once(db_session, family):
    _, seeker, _ = family
    consent = grant(db_session, seeker)
    lookup_id, _msisdn = locator.start_lookup(db_session, seeker_account_id=seeker.id, consent_id=consent.id,
                                              idempotency_key="k" * 24, actor=actor_of(seeker), now=NOW)
    position = Network().answer
    for place in ("first", "second"):
        locator.finish_lookup(db_session, lookup_id=lookup_id, position=Position(**{**position.__dict__,
                                                                                  "place": place}),
                              failure=None, now=NOW, notices_per_day=3)
    assert db_session.get(LocatorLookup, lookup_id).place == "first"
    assert db_session.scalar(select(func.count()).select_from(SmsMessage).where(SmsMessage.purpose == "alert")) == 1
    # The same form twice starts no second lookup.
    assert locator.start_lookup(db_session, seeker_account_id=seeker.id, consent_id=consent.id,
                                idempotency_key="k" * 24, actor=actor_of(seeker), now=NOW) is None


def test_consent_revoked_while_the_network_answers_keeps_the_position_from_the_seeker(db_session, family):
    _, seeker, target = family
    consent = grant(db_session, seeker)
    lookup_id, _msisdn = locator.start_lookup(db_session, seeker_account_id=seeker.id, consent_id=consent.id,
                                              idempotency_key="k" * 24, actor=actor_of(seeker), now=NOW)
    locator.revoke(db_session, target_account_id=target.id, consent_id=consent.id, actor=actor_of(target), now=NOW)
    lookup = locator.finish_lookup(db_session, lookup_id=lookup_id, position=Network().answer, failure=None, now=NOW,
                                   notices_per_day=3)
    assert lookup.state == "refused" and lookup.lat is None


def test_a_line_whose_contract_has_ended_is_no_longer_located(db_session, family):
    """Consent was given by the holder of a line of ours: once its contract ends (a port-out, a closed contract)
    the number may be someone else's, and the network is not asked about it."""
    _, seeker, target = family
    consent = grant(db_session, seeker)
    target.status = "terminated"
    db_session.commit()
    network = Network()
    with pytest.raises(locator.LocatorRefused):
        locate(db_session, seeker, consent, network)
    assert network.calls == [] and db_session.scalar(select(func.count()).select_from(LocatorLookup)) == 0


def test_the_holder_sees_every_lookup_with_the_seekers_number(db_session, family):
    _, seeker, target = family
    consent = grant(db_session, seeker)
    locate(db_session, seeker, consent)
    locate(db_session, seeker, consent, Network(LocatorUnavailable("off")))
    rows = locator.lookups_of(db_session, target.id)
    assert [(lk.state, number) for lk, number in rows] == [("failed", SEEKER), ("found", SEEKER)]


def test_the_development_network_is_deterministic_around_moscow():
    network = DevNetwork(now=lambda: NOW)
    first, again = network.locate(TARGET, "a"), network.locate(TARGET, "b")
    assert first == again and 55.5 < first.lat < 56.1 and 37.1 < first.lon < 37.9
    radii = {network.locate(f"+7916000{n:04d}", "x").accuracy_m for n in range(200)}
    assert min(radii) >= 150 and max(radii) <= 2000 and len(radii) > 10
    with pytest.raises(LocatorUnavailable):
        DevNetwork(unreachable=(TARGET,)).locate(TARGET, "x")
