"""Two `flask sms smpp` processes on one PostgreSQL outbox: claims (SKIP LOCKED, a lease) give each message to one
of them, so each part goes to the SMSC once, and every receipt lands whichever process holds the message."""
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.models import SmsMessage, SmsPart
from portal.sms.smpp import SmppSettings
from portal.sms.smpp_process import SmppProcess
from tests.smpp_server import FakeSmsc

pytestmark = pytest.mark.postgres


def test_two_processes_send_each_message_once(pg):
    smsc = FakeSmsc()
    engine = db.engine
    try:
        with Session(engine) as session:
            texts = [f"notice {n}" if n % 3 else "Длинное уведомление. " * 5 for n in range(30)]
            session.add_all(SmsMessage(to="+79161234567", text=text, purpose="notice") for text in texts)
            session.commit()  # added directly: no delivery job is handed anything
        settings = SmppSettings("127.0.0.1", smsc.port, "portal", "secret", submit_rate=100, window=4, timeout=2,
                                reconnect_min=0.05, reconnect_max=0.2, poll=0.02)
        processes = [SmppProcess(lambda: Session(engine), settings, sender="TestTel", max_attempts=3,
                                 lease=timedelta(seconds=60)) for _ in range(2)]
        stop = threading.Event()
        threads = [threading.Thread(target=p.run, args=(stop,), daemon=True) for p in processes]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        with Session(engine) as session:
            while session.scalar(select(func.count()).where(SmsMessage.status != "delivered")) and \
                    time.monotonic() < deadline:
                time.sleep(0.05)
            stop.set()
            for thread in threads:
                thread.join(5)
            assert session.scalar(select(func.count()).where(SmsMessage.status == "delivered")) == 30
            parts = session.scalar(select(func.count()).select_from(SmsPart))
        assert len(smsc.submits) == parts == 20 + 10 * 2  # each part of each message submitted once
        assert all(p.stats["submitted"] for p in processes)  # both worked
        assert len(smsc.binds) == 2
    finally:
        smsc.stop()
