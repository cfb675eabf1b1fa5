"""The same transfer form twice at once: the second shows the first one's result, never a 500.

And when a view leaves the database session failed, the error page still renders.
"""
import pytest
import sqlalchemy as sa
from flask import abort
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain import transfers
from portal.domain.audit import Actor
from portal.extensions import db
from portal.models import Account, Transfer, utcnow
from tests import factories
from tests.helpers import key_of

RECIPIENT = "+79031112233"


@pytest.fixture
def lines(db_session):
    sender = factories.make_line(db_session, "+79161234567", balance=300000)
    factories.make_login(db_session, sender)
    recipient = factories.make_line(db_session, RECIPIENT, balance=1000)
    db_session.commit()
    return sender, recipient


class Twin:
    """Another worker with the same form: it commits just before this request reaches ``step``."""

    def __init__(self, app, monkeypatch, step: str):
        self.app, self.token, self.key, self.sender_id, self.amount = app, None, None, None, None
        real = getattr(transfers, step)

        def twin_first(*args, **kwargs):
            if self.key and self.token is None:
                self.token = "pending"
                with Session(db.engine) as other:
                    self.token = transfers.start_transfer(
                        other, from_account_id=self.sender_id, to_msisdn=RECIPIENT, amount=self.amount,
                        idempotency_key=self.key, rules=transfers.TransferRules.from_config(app.config),
                        actor=Actor(), now=utcnow()).token
            return real(*args, **kwargs)

        monkeypatch.setattr(transfers, step, twin_first)

    def arm(self, sender_id: int, key: str, amount: int) -> None:
        self.sender_id, self.key, self.amount = sender_id, key, amount


@pytest.fixture(params=[250, 1500], ids=["sent-now", "waits-for-code"])
def twin(request, app, monkeypatch):
    """The twin commits while this request checks the limits, before it writes anything."""
    twin = Twin(app, monkeypatch, "_check")
    twin.amount_rub = request.param
    return twin


def count_transfers(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(Transfer))


def test_a_twin_that_commits_first_is_what_the_domain_returns(app, db_session, lines, twin):
    key = "twin-key-0123456789abcdef"
    twin.arm(lines[0].id, key, twin.amount_rub * 100)
    result = transfers.start_transfer(db_session, from_account_id=lines[0].id, to_msisdn=RECIPIENT,
                                      amount=twin.amount_rub * 100, idempotency_key=key,
                                      rules=transfers.TransferRules.from_config(app.config), actor=Actor(),
                                      now=utcnow())
    assert result.token == twin.token and count_transfers(db_session) == 1


def test_the_second_submission_shows_the_first_ones_result(client, db_session, lines, twin):
    client.post_form("/auth/login", {"phone": "+79161234567", "password": factories.PASSWORD})
    key = key_of(client.get("/payments/transfer").text)
    twin.arm(lines[0].id, key, twin.amount_rub * 100)
    response = client.post_form("/payments/transfer", {"idempotency_key": key, "recipient": RECIPIENT,
                                                       "amount": str(twin.amount_rub)})
    assert response.status_code == 303
    assert response.location.endswith(f"/payments/transfer/{twin.token}")
    assert count_transfers(db_session) == 1
    db_session.expire_all()
    if twin.amount_rub == 250:
        assert [db_session.get(Account, a.id).balance for a in lines] == [275000, 26000]


# ---- the error page after a failed database session ----

def _fail_a_flush() -> bool:
    """Two transfers with one idempotency key: the flush fails and leaves the session failed."""
    account = db.session.scalars(select(Account)).first()
    for token in ("first-token", "second-token"):
        db.session.add(Transfer(token=token, from_account_id=account.id, to_account_id=account.id, amount=100, fee=0,
                                status="done", idempotency_key="one-key-for-both-0000", created_at=utcnow()))
    try:
        db.session.flush()
    except Exception:
        return True
    return False


@pytest.fixture
def failing_views(app):
    @app.get("/test-only/raises-after-a-failed-flush")
    def raises_after_a_failed_flush():
        _fail_a_flush()  # swallowed by mistake
        raise RuntimeError("a bug after a failed flush")

    @app.get("/test-only/aborts-after-a-failed-flush")
    def aborts_after_a_failed_flush():
        if _fail_a_flush():
            abort(409)
        return "unexpected"

    @app.get("/test-only/raises")
    def raises():
        app.extensions["after_the_failure"].append("-- the view failed here")
        raise RuntimeError("a bug")

    app.extensions["after_the_failure"] = []
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the error handler answers
    return app


@pytest.mark.parametrize("url,status", [("/test-only/raises-after-a-failed-flush", 500),
                                        ("/test-only/aborts-after-a-failed-flush", 409)])
def test_the_error_page_renders_after_a_failed_session(failing_views, login_as, client, lines, url, status):
    login_as("+79161234567")
    response = client.get(url)
    assert response.status_code == status
    assert "<html" in response.text and "TestTel" in response.text  # the portal's page, not werkzeug's
    assert client.get("/").status_code == 200  # and the next request is served as usual


def test_the_500_page_asks_the_database_nothing(failing_views, login_as, client, lines):
    login_as("+79161234567")
    after_the_failure = failing_views.extensions["after_the_failure"]

    def record(conn, cursor, statement, *args):
        if after_the_failure:
            after_the_failure.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.get("/test-only/raises")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 500 and "Something went wrong" in response.text
    assert after_the_failure == ["-- the view failed here"]
