import re
from datetime import date, datetime

import pytest
from sqlalchemy import select

from portal.domain import bonus, ledger
from portal.domain.billing import run_billing
from portal.models import Account, Allowance, BonusAccount, BonusEntry, LedgerEntry, Reward, utcnow
from tests import factories
from tests.helpers import key_of


@pytest.fixture
def account(db_session):
    account = factories.make_line(db_session, "+79161234567", balance=10000)
    factories.make_login(db_session, account)
    factories.make_allowance(db_session, account, minutes_total=100, minutes_left=10)
    db_session.add(BonusAccount(account_id=account.id, points=500))
    db_session.add_all([Reward(code="min", name="100 minutes", kind="minutes", quantity=100, cost=300),
                        Reward(code="rub", name="100 roubles off", kind="discount", quantity=10000, cost=400),
                        Reward(code="big", name="Big pack", kind="data_mb", quantity=10240, cost=5000)])
    db_session.commit()
    return account


@pytest.fixture
def signed_in(client, account):
    client.post_form("/auth/login", {"phone": "+79161234567", "password": factories.PASSWORD})
    return client


def reward_id(db_session, code):
    return db_session.scalar(select(Reward.id).where(Reward.code == code))


def redeem(client, db_session, code):
    rid = reward_id(db_session, code)
    key = key_of(client.get(f"/payments/bonus/rewards/{rid}").text)
    return client.post_form(f"/payments/bonus/rewards/{rid}", {"idempotency_key": key}), key


def points(db_session, account):
    db_session.expire_all()
    return db_session.get(BonusAccount, account.id).points


def test_the_page_shows_points_rewards_and_history(signed_in, db_session):
    page = signed_in.get("/payments/bonus").text
    assert "500 points" in page and "100 minutes" in page and "Big pack" in page
    assert "not enough points" in page  # Big pack costs more than we have
    assert f'href="/payments/bonus/rewards/{reward_id(db_session, "min")}"' in page
    assert f'href="/payments/bonus/rewards/{reward_id(db_session, "big")}"' not in page


def test_a_reward_asks_first_with_its_cost_and_the_points_left(signed_in, db_session, account):
    page = signed_in.get(f"/payments/bonus/rewards/{reward_id(db_session, 'min')}")
    assert page.status_code == 200
    assert "300 points" in page.text and "500 points" in page.text and "200 points" in page.text
    assert "Get for 300 points" in page.text and points(db_session, account) == 500
    short = signed_in.get(f"/payments/bonus/rewards/{reward_id(db_session, 'big')}").text
    assert "Not enough points: 500 of 5000." in short and "Get for" not in short


def test_minutes_are_added_to_this_periods_package(signed_in, db_session, account):
    response, _ = redeem(signed_in, db_session, "min")
    assert response.status_code == 303 and points(db_session, account) == 200
    allowance = db_session.scalars(select(Allowance)).one()
    assert (allowance.minutes_total, allowance.minutes_left) == (200, 110)
    assert db_session.scalars(select(BonusEntry)).one().points == -300


def test_a_discount_becomes_money_on_the_balance(signed_in, db_session, account):
    redeem(signed_in, db_session, "rub")
    db_session.expire_all()
    assert db_session.get(Account, account.id).balance == 20000 and ledger.verify(db_session) == []


def test_a_double_submit_spends_once(signed_in, db_session, account):
    _, key = redeem(signed_in, db_session, "min")
    signed_in.post_form(f"/payments/bonus/rewards/{reward_id(db_session, 'min')}", {"idempotency_key": key})
    assert points(db_session, account) == 200


def test_not_enough_points_is_refused(signed_in, db_session, account):
    response = signed_in.post_form(f"/payments/bonus/rewards/{reward_id(db_session, 'big')}",
                                   {"idempotency_key": "k" * 24})
    assert response.status_code == 422 and "Not enough points: 500 of 5000" in response.text
    assert points(db_session, account) == 500


def test_an_archived_or_unknown_reward_is_404(signed_in, db_session, account):
    db_session.get(Reward, reward_id(db_session, "min")).archived = True
    db_session.commit()
    assert signed_in.post_form(f"/payments/bonus/rewards/{reward_id(db_session, 'min')}",
                               {"idempotency_key": "k" * 24}).status_code == 404
    assert signed_in.get(f"/payments/bonus/rewards/{reward_id(db_session, 'min')}").status_code == 404
    assert signed_in.get("/payments/bonus/rewards/999999").status_code == 404


def test_points_can_be_given_to_another_number(signed_in, db_session, account):
    other = factories.make_line(db_session, "+79031112233")
    db_session.commit()
    page = signed_in.get("/payments/bonus").text
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1)
    response = signed_in.post_form("/payments/bonus", {"idempotency_key": key, "recipient": "8 903 111-22-33",
                                                       "points": "120"})
    assert response.status_code == 303
    assert points(db_session, account) == 380 and db_session.get(BonusAccount, other.id).points == 120
    signed_in.post_form("/payments/bonus", {"idempotency_key": key, "recipient": "8 903 111-22-33", "points": "120"})
    assert points(db_session, account) == 380


@pytest.mark.parametrize("recipient, amount, message", [
    ("+79169999999", "20", "not served by us"),
    ("+79161234567", "20", "the number you are sending from"),
    ("+79031112233", "5", "At least 10 points"),
    ("+79031112233", "501", "Not enough points"),
    ("+79031112233", "x", "Not a valid integer"),
])
def test_bad_point_transfers(signed_in, db_session, account, recipient, amount, message):
    factories.make_line(db_session, "+79031112233")
    db_session.commit()
    response = signed_in.post_form("/payments/bonus", {"idempotency_key": "p" * 24, "recipient": recipient,
                                                       "points": amount})
    assert response.status_code == 422 and message in response.text
    assert points(db_session, account) == 500


def test_the_billing_run_awards_points_for_last_months_charges(db_session, account):
    for amount, kind, when in ((-55000, "tariff_fee", datetime(2026, 11, 1, 1)),
                               (-4999, "usage", datetime(2026, 11, 20)),
                               (100000, "card_topup", datetime(2026, 11, 5)), (-9000, "usage", datetime(2026, 10, 31))):
        db_session.add(LedgerEntry(account_id=account.id, amount=amount, kind=kind, created_at=when))
        account.balance += amount
    db_session.commit()
    report = run_billing(db_session, day=date(2026, 12, 1), now=datetime(2026, 12, 1, 0, 5), kopecks_per_point=1000)
    assert report.points == 59  # 599.99 roubles charged in November: 59 points
    assert points(db_session, account) == 559
    again = run_billing(db_session, day=date(2026, 12, 1), now=datetime(2026, 12, 1, 0, 6), kopecks_per_point=1000)
    assert again.points == 0 and points(db_session, account) == 559


def test_the_history_shows_points_earned_as_well_as_spent(signed_in, db_session, account):
    db_session.add(LedgerEntry(account_id=account.id, amount=-55000, kind="tariff_fee",
                               created_at=datetime(2026, 11, 1, 1)))
    db_session.commit()
    run_billing(db_session, day=date(2026, 12, 1), now=datetime(2026, 12, 1, 0, 5), kopecks_per_point=1000)
    redeem(signed_in, db_session, "min")
    page = signed_in.get("/payments/bonus").text
    history = page[page.index('id="points-h"'):]
    assert re.search(r"Earned · For November 2026</td><td class=\"num\">\+55<", history)
    assert re.search(r"Spent · 100 minutes</td><td class=\"num\">-300<", history)


def test_concurrent_opposite_point_transfers_conserve_points(db_session, account):
    other = factories.make_line(db_session, "+79031112233")
    db_session.add(BonusAccount(account_id=other.id, points=500))
    db_session.commit()
    for n in range(10):
        bonus.transfer_points(db_session, from_account_id=account.id, to_msisdn="+79031112233", points=30,
                              idempotency_key=f"a-{n}-xxxxxxxxxxxxxxxx", minimum=10, actor=None or _actor(),
                              now=utcnow())
        bonus.transfer_points(db_session, from_account_id=other.id, to_msisdn="+79161234567", points=20,
                              idempotency_key=f"b-{n}-xxxxxxxxxxxxxxxx", minimum=10, actor=_actor(), now=utcnow())
    db_session.expire_all()
    assert db_session.get(BonusAccount, account.id).points + db_session.get(BonusAccount, other.id).points == 1000
    assert db_session.get(BonusAccount, account.id).points == 400


def _actor():
    from portal.domain.audit import Actor

    return Actor()


@pytest.mark.parametrize("amount, message", [("1", "At least 10 points"), ("501", "Not enough points")])
def test_a_bad_point_amount_is_refused_before_the_recipient_is_looked_at(signed_in, db_session, account, amount,
                                                                         message):
    """Issue 14.16: a 1-point transfer must not tell whether a number is ours."""
    response = signed_in.post_form("/payments/bonus", {"idempotency_key": "q" * 24, "recipient": "+79169999999",
                                                       "points": amount})
    assert response.status_code == 422 and message in response.text and "not served" not in response.text


def test_point_transfers_are_rate_limited_like_money_transfers(signed_in, db_session, account):
    statuses = [signed_in.post_form("/payments/bonus", {"idempotency_key": f"{i:024d}", "recipient": "+79169999999",
                                                        "points": "20"}).status_code for i in range(31)]
    assert statuses[:30] == [422] * 30 and statuses[30] == 429
