"""SMS alerts: which events send one, quiet hours hold them, the held ones go out later."""
from datetime import datetime

import pytest
from sqlalchemy import select

from portal.domain import alerts, ledger
from portal.domain.audit import SYSTEM
from portal.models import AlertSettings, HeldAlert, LedgerEntry, SmsMessage
from tests import factories

MOSCOW_NOON = datetime(2026, 11, 20, 9, 0)  # UTC; 12:00 in Moscow
MOSCOW_NIGHT = datetime(2026, 11, 20, 20, 30)  # UTC; 23:30 in Moscow


def alert_texts(db_session) -> list[str]:
    return list(db_session.scalars(select(SmsMessage.text).where(SmsMessage.purpose == "alert")))


@pytest.fixture
def account(db_session):
    line = factories.make_line(db_session, "+79161234567", balance=50_000)
    factories.make_login(db_session, line)
    db_session.commit()
    return line


def settings(db_session, account, **values):
    base = dict(low_balance_below=None, on_payment=True, on_change=True, on_new_device=True, on_every_login=False,
                quiet_from=None, quiet_to=None)
    alerts.save_settings(db_session, account_id=account.id, actor=SYSTEM, now=MOSCOW_NOON, **{**base, **values})


def test_a_payment_sends_an_alert_by_default(db_session, account):
    ledger.post(db_session, account, amount=30_000, kind="card_topup", key="k1", description="top-up",
                now=MOSCOW_NOON)
    db_session.commit()
    code = db_session.scalar(select(LedgerEntry.code).where(LedgerEntry.idempotency_key == "k1"))
    assert alert_texts(db_session) == [f"TestTel: ₽300.00 received, the balance is ₽800.00. "
                                       f"Operation {code[:4]}-{code[4:]}."]


def test_switched_off_events_send_nothing(db_session, account):
    settings(db_session, account, on_payment=False)
    ledger.post(db_session, account, amount=30_000, kind="card_topup", key="k1", description="", now=MOSCOW_NOON)
    db_session.commit()
    assert alert_texts(db_session) == []


def test_low_balance_alerts_once_when_crossing_the_threshold(db_session, account):
    settings(db_session, account, low_balance_below=20_000)
    for i, amount in enumerate((-20_000, -20_000, -5_000)):  # 500 → 300 → 100 (crosses 200) → 50
        ledger.post(db_session, account, amount=amount, kind="service_fee", key=f"f{i}", description="",
                    now=MOSCOW_NOON)
    db_session.commit()
    texts = alert_texts(db_session)
    assert len(texts) == 1 and "100.00" in texts[0] and "200.00" in texts[0]


def test_quiet_hours_hold_the_alert_until_they_end_then_it_is_sent(db_session, account):
    settings(db_session, account, quiet_from=23 * 60, quiet_to=8 * 60)  # 23:00–08:00 Moscow
    ledger.post(db_session, account, amount=10_000, kind="voucher", key="v", description="", now=MOSCOW_NIGHT)
    db_session.commit()
    assert alert_texts(db_session) == []
    held = db_session.scalar(select(HeldAlert))
    assert held.hold_until == datetime(2026, 11, 21, 5, 0)  # 08:00 Moscow the next morning
    assert alerts.release_due(db_session, now=datetime(2026, 11, 21, 4, 59)) == 0
    assert alerts.release_due(db_session, now=datetime(2026, 11, 21, 5, 0)) == 1
    assert len(alert_texts(db_session)) == 1
    assert alerts.release_due(db_session, now=datetime(2026, 11, 21, 6, 0)) == 0  # sent once


def test_security_notices_come_at_once_with_change_alerts_off_and_in_quiet_hours(db_session, account):
    """A new way in (a passkey, a linked account) or a new code word is told at once: whoever made it unasked would
    switch the alerts off first, or choose the night."""
    settings(db_session, account, on_change=False, quiet_from=23 * 60, quiet_to=8 * 60)
    for event in ("change", alerts.SECURITY):
        alerts.notify(db_session, account=account, event=event, now=MOSCOW_NIGHT, message="%(what)s", what=event)
    db_session.commit()
    assert alert_texts(db_session) == ["TestTel: security"]
    assert db_session.scalar(select(HeldAlert)) is None


def test_the_notices_and_the_pages_name_the_operators_support_line(app, client, db_session, account):
    app.config["SUPPORT_PHONE"] = "8 800 100-00-00"
    alerts.notify(db_session, account=account, event=alerts.SECURITY, now=MOSCOW_NOON,
                  message="if it was not you, call %(support)s")
    db_session.commit()
    assert alert_texts(db_session) == ["TestTel: if it was not you, call 8 800 100-00-00"]
    assert "Support: 8 800 100-00-00, free from your phone" in client.get("/auth/login").text


@pytest.mark.parametrize(("start", "end", "now", "held"), [
    (23 * 60, 8 * 60, datetime(2026, 11, 20, 2, 0), datetime(2026, 11, 20, 5, 0)),  # 05:00 Moscow, same day
    (23 * 60, 8 * 60, MOSCOW_NOON, None),
    (13 * 60, 15 * 60, datetime(2026, 11, 20, 10, 30), datetime(2026, 11, 20, 12, 0)),  # 13:30 → 15:00
    (13 * 60, 15 * 60, datetime(2026, 11, 20, 12, 0), None),  # 15:00 itself is not quiet
])
def test_quiet_until(start, end, now, held):
    quiet = AlertSettings(quiet_from=start, quiet_to=end)
    assert alerts.quiet_until(quiet, now, "Europe/Moscow") == held


def test_the_owners_time_zone_and_language_are_used(db_session, account):
    from portal.models import Login

    login = db_session.scalar(select(Login))
    login.timezone, login.language = "Asia/Vladivostok", "ru"  # UTC+10
    settings(db_session, account, quiet_from=23 * 60, quiet_to=8 * 60)
    ledger.post(db_session, account, amount=10_000, kind="voucher", key="v", description="",
                now=datetime(2026, 11, 20, 12, 0))  # 22:00 in Vladivostok: not quiet yet
    ledger.post(db_session, account, amount=10_000, kind="voucher", key="w", description="",
                now=datetime(2026, 11, 20, 13, 30))  # 23:30 there: held
    db_session.commit()
    texts = alert_texts(db_session)
    # Russian, though the portal's default is English here
    assert len(texts) == 1 and "поступило 100,00\u00a0₽" in texts[0]
    assert db_session.scalar(select(HeldAlert)) is not None


@pytest.mark.parametrize(("values", "field"), [
    (dict(low_balance_below=-1), "low_balance_below"),
    (dict(quiet_from=60), "quiet_to"),
    (dict(quiet_from=60, quiet_to=24 * 60), "quiet_to"),
])
def test_bad_settings_are_refused(db_session, account, values, field):
    with pytest.raises(alerts.InvalidAlertSettings) as err:
        settings(db_session, account, **values)
    assert err.value.field == field
