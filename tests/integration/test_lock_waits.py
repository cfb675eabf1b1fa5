"""Lock waits on real PostgreSQL: a request never waits longer than DB_LOCK_TIMEOUT for a locked account row,
it answers "busy, try again" (503, Retry-After) instead; signing in takes no account lock at all."""
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain.accounts import lock_accounts
from portal.extensions import db
from portal.models import AuditEvent, LedgerEntry
from tests import factories
from tests.conftest import PortalClient

pytestmark = pytest.mark.postgres
LINE = "+79161234567"


@pytest.fixture
def client(pg):
    pg.test_client_class = PortalClient
    saved = pg.config["DB_LOCK_TIMEOUT"]
    pg.config["DB_LOCK_TIMEOUT"] = 1  # short, so a regression fails quickly instead of hanging
    yield pg.test_client()
    pg.config["DB_LOCK_TIMEOUT"] = saved


@pytest.fixture
def account_id(pg):
    with Session(db.engine) as session:
        account = factories.make_line(session, LINE, balance=10000)
        factories.make_login(session, account)
        session.commit()
        return account.id


@pytest.fixture
def held(pg, account_id):
    """Another transaction (a top-up, the billing run) holding the account's row lock, as the domain takes it."""
    session = Session(db.engine)
    lock_accounts(session, account_id)
    yield
    session.rollback()
    session.close()


def sign_in(client):
    return client.post_form("/auth/login", {"phone": LINE, "password": factories.PASSWORD})


def test_a_top_up_on_a_locked_account_answers_busy_instead_of_waiting(client, account_id, request):
    assert sign_in(client).status_code == 303
    request.getfixturevalue("held")
    response = client.post_form("/payments/voucher", {"code": "1234567890123456", "pin": "1234"})
    # Retry-After: ours (DB_LOCK_TIMEOUT), or later if the route's rate limit (Flask-Limiter) resets later.
    assert response.status_code == 503 and int(response.headers["Retry-After"]) >= 1
    assert "Busy right now" in response.text and "Try again in a few seconds" in response.text
    with Session(db.engine) as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "voucher_failed")) == 0
        assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 1  # the opening balance only


def test_signing_in_does_not_wait_for_a_locked_account(client, held):
    response = sign_in(client)
    assert response.status_code == 303
    assert client.get("/").status_code == 200


def test_try_again_while_a_job_records_the_switch_answer_answers_busy_at_once(client, account_id):
    import sqlalchemy as sa

    from portal.domain import provisioning
    from portal.models import Account, SwitchCommand

    with Session(db.engine) as session:
        command = provisioning.queue_command(session, session.get(Account, account_id), subject="line",
                                             operation="line.block")
        session.info.pop(provisioning.PENDING_KEY)
        command.status = "failed"
        session.commit()
        command_id = command.id
    assert sign_in(client).status_code == 303
    with db.engine.connect() as job:
        job.execute(sa.text("select id from switch_command where id = :id for update"), {"id": command_id})
        response = client.post_form(f"/settings/switch/{command_id}/retry")
        job.rollback()
    assert response.status_code == 503 and "Busy right now" in response.text
    with Session(db.engine) as session:
        assert session.get(SwitchCommand, command_id).status == "failed"


def test_a_card_top_up_cut_short_by_a_locked_account_is_credited_by_reconciliation(client, account_id, pg):
    from datetime import timedelta

    from portal import jobs
    from portal.models import Account, CardPayment, utcnow
    from portal.payment_gateway.dev import SUCCEEDS
    from tests.helpers import pay_on_provider_page, start_topup

    assert sign_in(client).status_code == 303
    started, _ = start_topup(client)
    with Session(db.engine) as holder:
        lock_accounts(holder, account_id)
        response = pay_on_provider_page(client, started.location, SUCCEEDS)
        holder.rollback()
    # The provider took the money; its webhook could not be applied yet (the portal answered it 503), and the
    # customer is back on the return page, which cannot apply it either while the account is locked.
    assert response.status_code == 303
    with Session(db.engine) as session:
        payment = session.scalars(select(CardPayment)).one()
        assert payment.status == "pending" and payment.gateway_ref.startswith("dev_")
        assert session.get(Account, account_id).balance == 10000
    report = jobs.reconcile_unsettled_payments(now=utcnow() + timedelta(minutes=6))
    assert report.confirmed == 1
    with Session(db.engine) as session:
        assert session.get(Account, account_id).balance == 60000
