"""The outbox's SMPP side: claiming, parts, receipts in any order and number, and the message's state."""
from datetime import timedelta

from sqlalchemy import select

from portal.domain import sms
from portal.models import SmsMessage, SmsPart, SmsReceipt, utcnow

TO = "+79161234567"


def queued(db_session, text="hello") -> int:
    message = SmsMessage(to=TO, text=text, purpose="notice")
    db_session.add(message)
    db_session.commit()
    return message.id


def fresh(db_session, message_id) -> SmsMessage:
    db_session.expire_all()
    return db_session.get(SmsMessage, message_id)


def test_a_claim_takes_a_message_once_for_its_lease(app, db_session):
    now = utcnow()
    first, second = queued(db_session), queued(db_session)
    claimed = sms.claim_queued(db_session, now=now, lease=timedelta(seconds=60), limit=1)
    assert [c.id for c in claimed] == [first] and claimed[0].attempts == 1 and claimed[0].accepted == frozenset()
    assert [c.id for c in sms.claim_queued(db_session, now=now, lease=timedelta(seconds=60), limit=5)] == [second]
    assert sms.claim_queued(db_session, now=now, lease=timedelta(seconds=60), limit=5) == []
    later = now + timedelta(seconds=61)  # the process that held them died: the lease ran out
    assert [c.id for c in sms.claim_queued(db_session, now=later, lease=timedelta(seconds=60), limit=5)] == \
        [first, second]


def test_a_claim_says_which_parts_were_accepted_already(app, db_session):
    now = utcnow()
    message_id = queued(db_session, "x" * 400)
    sms.record_part(db_session, message_id, 2, None, "B", now=now)
    [claimed] = sms.claim_queued(db_session, now=now, lease=timedelta(seconds=60), limit=1)
    assert claimed.accepted == {2}


def test_a_message_is_sent_when_its_last_part_is_accepted_and_a_part_twice_is_one(app, db_session):
    now = utcnow()
    message_id = queued(db_session, "x" * 200)
    assert sms.record_part(db_session, message_id, 1, 2, "A", now=now) == "queued"
    assert sms.record_part(db_session, message_id, 1, 2, "A", now=now) == "queued"
    assert sms.record_part(db_session, message_id, 2, 2, "B", now=now) == "sent"
    message = fresh(db_session, message_id)
    assert (message.status, message.provider_id, message.sent_at) == ("sent", "A", now)
    assert db_session.scalar(select(SmsPart.id).where(SmsPart.smsc_id == "B"))
    assert len(db_session.scalars(select(SmsPart).where(SmsPart.message_id == message_id)).all()) == 2


def test_the_message_is_delivered_when_every_part_is_and_failed_if_one_fails(app, db_session):
    now = utcnow()
    ok, bad = queued(db_session, "x" * 200), queued(db_session, "y" * 200)
    for message_id, prefix in ((ok, "ok"), (bad, "bad")):
        sms.record_part(db_session, message_id, 1, 2, f"{prefix}1", now=now)
        sms.record_part(db_session, message_id, 2, 2, f"{prefix}2", now=now)
    assert sms.apply_receipt(db_session, "ok1", "delivered", "DELIVRD", now=now) == "applied"
    assert fresh(db_session, ok).status == "sent"  # one of two
    later = now + timedelta(minutes=1)
    sms.apply_receipt(db_session, "ok2", "delivered", "DELIVRD", now=later)
    assert (fresh(db_session, ok).status, fresh(db_session, ok).done_at) == ("delivered", later)
    sms.apply_receipt(db_session, "bad1", "failed", "UNDELIV", now=now)
    assert fresh(db_session, bad).status == "failed"
    sms.apply_receipt(db_session, "bad2", "delivered", "DELIVRD", now=later)
    assert (fresh(db_session, bad).status, fresh(db_session, bad).done_at) == ("failed", now)  # a failure stands


def test_receipts_early_twice_unknown_and_interim(app, db_session):
    now = utcnow()
    message_id = queued(db_session)
    assert sms.apply_receipt(db_session, "E1", None, "ENROUTE", now=now) == "interim"
    assert sms.apply_receipt(db_session, "E1", None, "ENROUTE", now=now) == "repeat"
    assert sms.apply_receipt(db_session, "E1", "delivered", "DELIVRD", now=now) == "kept"  # before its resp
    assert sms.apply_receipt(db_session, "E1", "failed", "UNDELIV", now=now) == "repeat"  # the first final stands
    assert sms.record_part(db_session, message_id, 1, 1, "E1", now=now) == "delivered"
    assert db_session.get(SmsReceipt, "E1") is None  # the part took it: the note is gone
    assert sms.apply_receipt(db_session, "E1", "delivered", "DELIVRD", now=now) == "repeat"
    assert sms.apply_receipt(db_session, "E1", "failed", "UNDELIV", now=now) == "repeat"
    assert fresh(db_session, message_id).status == "delivered"
    assert sms.apply_receipt(db_session, "NOBODY", "delivered", "DELIVRD", now=now) == "kept"
    assert db_session.get(SmsReceipt, "NOBODY").state == "delivered"


def test_receipts_for_parts_that_never_came_are_pruned_after_a_while(app, db_session):
    now = utcnow()
    sms.apply_receipt(db_session, "OLD", "delivered", "DELIVRD", now=now - timedelta(days=8))
    sms.apply_receipt(db_session, "NEW", "delivered", "DELIVRD", now=now)
    assert sms.prune_receipts(db_session, older_than=now - timedelta(days=7)) == 1
    db_session.expire_all()
    assert db_session.get(SmsReceipt, "OLD") is None and db_session.get(SmsReceipt, "NEW")


def test_an_interim_receipt_for_a_known_part_changes_nothing(app, db_session):
    now = utcnow()
    message_id = queued(db_session)
    sms.record_part(db_session, message_id, 1, 1, "K1", now=now)
    assert sms.apply_receipt(db_session, "K1", None, "ENROUTE", now=now) == "interim"
    assert fresh(db_session, message_id).status == "sent" and db_session.get(SmsReceipt, "K1") is None


def test_release_retries_later_fails_for_good_and_throttling_costs_no_attempt(app, db_session):
    now = utcnow()
    message_id = queued(db_session)
    lease = timedelta(seconds=60)
    sms.claim_queued(db_session, now=now, lease=lease, limit=1)
    retry_at = now + timedelta(seconds=30)
    assert sms.release(db_session, message_id, now=now, error="busy", permanent=False, throttled=True,
                       retry_at=retry_at, max_attempts=2) == "queued"
    message = fresh(db_session, message_id)
    assert (message.attempts, message.claimed_until, message.error) == (0, retry_at, "busy")
    assert sms.claim_queued(db_session, now=now, lease=lease, limit=1) == []  # not before retry_at
    sms.claim_queued(db_session, now=retry_at, lease=lease, limit=1)
    sms.release(db_session, message_id, now=now, error="system error", permanent=False, retry_at=None,
                max_attempts=2)
    sms.claim_queued(db_session, now=retry_at, lease=lease, limit=1)
    assert sms.release(db_session, message_id, now=now, error="system error", permanent=False, retry_at=None,
                       max_attempts=2) == "failed"
    other = queued(db_session)
    sms.claim_queued(db_session, now=now, lease=lease, limit=1)
    assert sms.release(db_session, other, now=now, error="bad number", permanent=True, retry_at=None,
                       max_attempts=5) == "failed"
    assert fresh(db_session, other).done_at == now


def test_a_recycled_smsc_id_takes_the_receipt_to_the_latest_part(app, db_session):
    now = utcnow()
    old, new = queued(db_session), queued(db_session)
    sms.record_part(db_session, old, 1, 1, "R1", now=now - timedelta(days=30))
    sms.apply_receipt(db_session, "R1", "delivered", "DELIVRD", now=now - timedelta(days=30))
    assert sms.record_part(db_session, new, 1, 1, "R1", now=now) == "sent"  # the SMSC gave the id out again
    assert sms.apply_receipt(db_session, "R1", "failed", "UNDELIV", now=now) == "applied"
    assert (fresh(db_session, old).status, fresh(db_session, new).status) == ("delivered", "failed")
