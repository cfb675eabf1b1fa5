"""SMS from the web: parts and encoding (GSM 03.38), charging by the package then the price, limits."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.domain import websms
from portal.domain.audit import Actor
from portal.domain.auth import TryLater
from portal.domain.websms import SmsRefused, WebSmsRules, charge_for, sms_parts
from portal.models import LedgerEntry, SmsMessage, UsageRecord, WebSms, utcnow
from tests import factories

RULES = WebSmsRules(max_parts=6, price=250, quotas=((3, 3600), (5, 86400)))


# ---- parts and encoding -------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("", ("gsm7", 0, 160)),
    ("a", ("gsm7", 1, 159)),
    ("a" * 160, ("gsm7", 1, 0)),
    ("a" * 161, ("gsm7", 2, 153 * 2 - 161)),
    ("a" * 306, ("gsm7", 2, 0)),
    ("a" * 307, ("gsm7", 3, 152)),
    ("a" * 153 * 6, ("gsm7", 6, 0)),
    ("a" * (153 * 6 + 1), ("gsm7", 7, 152)),
    ("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!¤¡ÄÖÑÜ§¿äöñüà", ("gsm7", 1, 160 - 43)),
    ("Привет", ("ucs2", 1, 64)),
    ("б" * 70, ("ucs2", 1, 0)),
    ("б" * 71, ("ucs2", 2, 67 * 2 - 71)),
    ("б" * 134, ("ucs2", 2, 0)),
    ("б" * 135, ("ucs2", 3, 66)),
    ("a" * 159 + "б", ("ucs2", 3, 67 * 3 - 160)),  # one Cyrillic letter makes the whole text UCS-2
])
def test_parts_and_encoding(text, expected):
    assert sms_parts(text) == expected


@pytest.mark.parametrize("char", list("^{}\\[~]|€"))
def test_extension_characters_count_as_two_septets(char):
    assert sms_parts(char) == ("gsm7", 1, 158)
    assert sms_parts("a" * 158 + char) == ("gsm7", 1, 0)
    assert sms_parts("a" * 159 + char) == ("gsm7", 2, 153 * 2 - 161)


def test_an_extension_character_is_not_split_between_parts():
    # 152 septets, then a 2-septet character: it does not fit in part one's last septet.
    assert sms_parts("a" * 152 + "€" + "a" * 10) == ("gsm7", 2, 153 - 12)


def test_a_newline_is_one_septet_and_crlf_counts_as_one_line_break():
    assert sms_parts("a\nb") == ("gsm7", 1, 157)
    assert websms.normalise("a\r\nb") == "a\nb"


@pytest.mark.parametrize("text, expected", [
    ("😀", ("ucs2", 1, 68)),  # a surrogate pair: two UTF-16 units
    ("😀" * 35, ("ucs2", 1, 0)),
    ("😀" * 36, ("ucs2", 2, 67 - 6)),  # part one holds 33 pairs (66 units), part two the other 3
    ("a" * 66 + "😀", ("ucs2", 1, 2)),
    ("a" * 69 + "😀", ("ucs2", 2, 67 - 4)),  # the pair is not split: part one ends after 66 + 1 units
])
def test_emoji_are_ucs2_surrogate_pairs(text, expected):
    assert sms_parts(text) == expected


def test_characters_outside_gsm_make_ucs2():
    assert sms_parts("café")[0] == "gsm7"  # é is in the basic set
    assert sms_parts("ç")[0] == "ucs2"  # only capital Ç is
    assert sms_parts("`")[0] == "ucs2"


def test_check_text_refuses_empty_too_many_parts_and_huge_input():
    with pytest.raises(SmsRefused) as err:
        websms.check_text("   \n ", RULES)
    assert err.value.field == "text"
    with pytest.raises(SmsRefused, match="7 SMS parts"):
        websms.check_text("a" * (153 * 6 + 1), RULES)
    with pytest.raises(SmsRefused, match="far too long"):
        websms.check_text("a" * 10_240, RULES)
    assert websms.check_text("a" * 153 * 6, RULES) == ("gsm7", 6)


# ---- charging ------------------------------------------------------------------------

def test_parts_come_from_the_package_first_then_cost_the_price():
    assert charge_for(3, sms_left=5, tariff_price=None, rules=RULES) == websms.Charge(3, 0, 250, 0)
    assert charge_for(3, sms_left=1, tariff_price=None, rules=RULES) == websms.Charge(1, 2, 250, 500)
    assert charge_for(2, sms_left=0, tariff_price=190, rules=RULES) == websms.Charge(0, 2, 190, 380)
    assert charge_for(2, sms_left=0, tariff_price=0, rules=RULES) == websms.Charge(0, 2, 0, 0)
    assert charge_for(2, sms_left=-3, tariff_price=None, rules=RULES).cost == 500


@pytest.fixture
def line(db_session):
    account = factories.make_line(db_session, "+79161234567", balance=1000)
    db_session.commit()
    return account


def send(db_session, account, text="Hello", key="k" * 20, to="+79031112233", now=None, rules=RULES):
    return websms.send_web_sms(db_session, account_id=account.id, to=to, text=text, idempotency_key=key,
                               rules=rules, actor=Actor(account_id=account.id), now=now or utcnow())


def test_sending_uses_the_package_and_queues_the_sms_from_the_customers_number(db_session, line):
    allowance = factories.make_allowance(db_session, line, sms_left=5)
    db_session.commit()
    sent = send(db_session, line, text="a" * 200)
    assert (sent.parts, sent.from_allowance, sent.cost, sent.encoding) == (2, 2, 0, "gsm7")
    assert allowance.sms_left == 3 and line.balance == 1000
    message = db_session.get(SmsMessage, sent.sms_message_id)
    assert message.purpose == "web" and message.sender == "+79161234567" and message.to == "+79031112233"
    usage = db_session.scalars(select(UsageRecord)).one()
    assert (usage.kind, usage.counterpart, usage.quantity, usage.cost) == ("sms", "+79031112233", 2, 0)


def test_beyond_the_package_each_part_is_debited_through_the_ledger(db_session, line):
    allowance = factories.make_allowance(db_session, line, sms_left=1)
    db_session.commit()
    sent = send(db_session, line, text="б" * 100)  # 2 parts: 1 from the package, 1 paid
    assert (sent.from_allowance, sent.cost) == (1, 250)
    assert allowance.sms_left == 0 and line.balance == 750
    entry = db_session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "usage")).one()
    assert entry.amount == -250 and entry.idempotency_key == "websms:" + "k" * 20


def test_the_tariffs_own_price_wins_over_the_default(db_session, line):
    line.tariff.sms_price = 100
    db_session.commit()
    assert send(db_session, line).cost == 100


def test_a_balance_that_does_not_cover_it_is_refused_and_nothing_changes(db_session, line):
    line.tariff.sms_price = 600
    db_session.commit()
    with pytest.raises(SmsRefused, match="balance"):
        send(db_session, line, text="a" * 200)  # 2 x 6 roubles > 10 roubles
    assert line.balance == 1000
    assert db_session.scalars(select(WebSms)).all() == [] and db_session.scalars(select(SmsMessage)).all() == []


@pytest.mark.parametrize("status", ["blocked_lost", "blocked_by_owner", "suspended", "terminated"])
def test_only_an_active_number_sends(db_session, line, status):
    line.status = status
    db_session.commit()
    with pytest.raises(SmsRefused):
        send(db_session, line)
    assert db_session.scalars(select(SmsMessage)).all() == []


def test_the_same_submission_sends_once(db_session, line):
    first = send(db_session, line)
    again = send(db_session, line)
    assert first.id == again.id
    assert len(db_session.scalars(select(SmsMessage)).all()) == 1 and line.balance == 750


def test_the_hourly_and_daily_limits_say_when_to_try_again(db_session, line):
    line.tariff.sms_price = 0
    db_session.commit()
    start = utcnow() - timedelta(hours=5)
    for i in range(3):
        send(db_session, line, key=f"hour-{i:016d}", now=start + timedelta(minutes=i))
    with pytest.raises(TryLater) as err:
        send(db_session, line, key="hour-x" + "x" * 14, now=start + timedelta(minutes=10))
    assert err.value.retry_after == start + timedelta(minutes=0, hours=1)
    later = start + timedelta(hours=2)
    send(db_session, line, key="day-a" + "a" * 15, now=later)
    send(db_session, line, key="day-b" + "b" * 15, now=later + timedelta(minutes=1))
    with pytest.raises(TryLater) as err:  # 5 today
        send(db_session, line, key="day-c" + "c" * 15, now=later + timedelta(hours=2))
    assert err.value.retry_after == start + timedelta(days=1)
