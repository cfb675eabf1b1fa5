"""bench/seed_scale.py builds a database the portal's own invariants hold on: on SQLite and on PostgreSQL."""
import importlib.util
import io
import sys
from contextlib import redirect_stdout
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.domain import ledger, staff
from portal.domain.passwords import hash_secret
from portal.extensions import db
from portal.models import (
    Account,
    AutoPayment,
    Customer,
    HomeContract,
    HomePause,
    LedgerEntry,
    Line,
    Login,
    PromisedPayment,
)
from tests import factories, services
from tests.conftest import PortalClient, _prepare_postgres, base_config

ROOT = Path(__file__).resolve().parents[2]
ACCOUNTS = 200
TODAY = date(2026, 12, 7)


def _seed_scale():
    spec = importlib.util.spec_from_file_location("seed_scale", ROOT / "bench" / "seed_scale.py")
    module = sys.modules.get("seed_scale")
    if module is None:
        module = importlib.util.module_from_spec(spec)
        sys.modules["seed_scale"] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
    return module


def _seeded_app(url: str):
    app = create_app(base_config(url))
    app.test_client_class = PortalClient
    output = io.StringIO()
    with redirect_stdout(output):
        counts = _seed_scale().seed(app, accounts=ACCOUNTS, seed_value=2, usage_per_account=10, today=TODAY)
    return app, counts, output.getvalue()


@pytest.fixture(scope="module")
def sqlite_seeded(tmp_path_factory):
    app, counts, output = _seeded_app("sqlite:///" + str(tmp_path_factory.mktemp("seed") / "scale.sqlite"))
    yield app, counts, output
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def postgres_seeded():
    url = sa.make_url(services.require_postgres())
    url = url.set(database=f"{url.database}_seed_scale").render_as_string(hide_password=False)
    _prepare_postgres(url)
    app, counts, output = _seeded_app(url)
    yield app, counts, output
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def seeded(request):
    return request.getfixturevalue(f"{request.param}_seeded")


def test_it_reports_the_time_and_the_rows_per_table(seeded):
    app, counts, output = seeded
    assert counts["account"] == ACCOUNTS
    assert f"{ACCOUNTS:,} accounts seeded in" in output
    for table in ("customer", "line", "home_contract", "ledger_entry", "usage_record", "auto_payment"):
        assert table in output and counts[table] > 0
    assert "0 balances differ from their entries" in output


def test_the_balances_are_the_sums_of_the_ledger_and_the_data_is_varied(seeded):
    app, counts, _ = seeded
    with app.app_context():
        session = db.session
        assert ledger.verify(session) == []
        assert session.scalar(sa.select(sa.func.count()).select_from(Account)) == ACCOUNTS
        # Six months of history: several entries per account, the fees under the billing run's keys.
        assert counts["ledger_entry"] > ACCOUNTS * 8
        keys = sa.select(sa.func.count()).select_from(LedgerEntry)
        assert session.scalar(keys.where(LedgerEntry.idempotency_key.like("bill:%:tariff"))) > ACCOUNTS * 3
        assert session.scalar(keys.where(LedgerEntry.idempotency_key.like("bill:%:day:%")))
        statuses = set(session.scalars(sa.select(Account.status)))
        assert {"active", "blocked_by_owner", "suspended"} <= statuses
        assert set(session.scalars(sa.select(PromisedPayment.status))) == {"open", "overdue"}
        suspended = session.scalars(sa.select(Account.id).where(Account.status == "suspended")).all()
        overdue = session.scalars(sa.select(PromisedPayment.account_id).where(PromisedPayment.status == "overdue"))
        assert set(suspended) == set(overdue)
        assert session.scalar(sa.select(sa.func.count()).select_from(HomePause).where(HomePause.status == "active"))
        assert session.scalar(sa.select(sa.func.count()).select_from(AutoPayment))
        assert len(set(session.scalars(sa.select(HomeContract.billing_day)))) > 5  # spread over the month
        names = session.scalars(sa.select(Customer.name)).all()
        assert any(name.startswith(("ООО", "АО", "ПАО", "ИП")) for name in names)
        assert any(name.split()[0].endswith("ова") for name in names)


def test_numbers_and_contracts_are_unique_and_every_reference_holds(seeded):
    app, _, _ = seeded
    with app.app_context():
        session = db.session
        numbers = session.scalars(sa.select(Line.msisdn)).all()
        assert len(numbers) == len(set(numbers))
        assert all(n.startswith("+79") and len(n) == 12 for n in numbers)
        contracts = session.scalars(sa.select(HomeContract.contract_no)).all()
        assert len(contracts) == len(set(contracts)) and all(c.startswith("HC-") for c in contracts)
        # Every account is a line or a home contract, never both; every child row points at a row that exists.
        assert session.scalar(sa.text(
            "select count(*) from account a where (select count(*) from line l where l.account_id = a.id)"
            " + (select count(*) from home_contract h where h.account_id = a.id) <> 1")) == 0
        for child, column, parent in (("account", "customer_id", "customer"), ("account", "tariff_id", "tariff"),
                                      ("ledger_entry", "account_id", "account"),
                                      ("usage_record", "account_id", "account"),
                                      ("subscription", "account_id", "account"),
                                      ("subscription", "service_id", "service"),
                                      ("login", "primary_account_id", "account"),
                                      ("login_account", "login_id", "login"),
                                      ("auto_payment", "card_token_id", "card_token"),
                                      ("card_token", "login_id", "login")):
            orphans = session.scalar(sa.text(f"select count(*) from {child} c where c.{column} is not null and not "
                                             f"exists (select 1 from {parent} p where p.id = c.{column})"))
            assert orphans == 0, (child, column)
        if session.get_bind().dialect.name == "postgresql":  # the foreign keys were built again after the load
            assert session.scalar(sa.text("select count(*) from pg_constraint where contype = 'f' "
                                          "and conrelid = 'ledger_entry'::regclass")) >= 1
            assert session.scalar(sa.text("select count(*) from pg_constraint where not convalidated")) == 0
            # and the sequences continue after the generated ids
            assert session.scalar(sa.text("select last_value from ledger_entry_id_seq")) == \
                session.scalar(sa.text("select max(id) from ledger_entry"))


def test_the_same_seed_gives_the_same_data(tmp_path):
    first, _, _ = _seeded_app("sqlite:///" + str(tmp_path / "one.sqlite"))
    second, _, _ = _seeded_app("sqlite:///" + str(tmp_path / "two.sqlite"))
    rows = []
    for app in (first, second):
        with app.app_context():
            rows.append((db.session.execute(sa.text("select id, name from customer order by id")).all(),
                         db.session.execute(sa.text("select msisdn from line order by account_id")).all(),
                         db.session.execute(sa.text("select idempotency_key, amount from ledger_entry "
                                                    "order by id")).all()))
            db.engine.dispose()
    assert rows[0] == rows[1]


def test_a_generated_customer_signs_in_and_the_pages_render(seeded):
    app, _, _ = seeded
    with app.app_context():
        session = db.session
        account = session.scalar(sa.select(Account).join(Line).join(Login, Login.primary_account_id == Account.id)
                                 .where(Account.status == "active").order_by(Account.id))
        msisdn = account.line.msisdn
        customer_id = account.customer_id
        login = session.scalar(sa.select(Login).where(Login.primary_account_id == account.id))
        login.password_hash = hash_secret(factories.PASSWORD)
        if not session.scalar(sa.select(sa.func.count()).select_from(sa.table("staff"))):
            factories.make_staff(session)
        session.commit()
        found = staff.search_customers(session, msisdn[-4:])
        assert customer_id in [c.id for c in found]
        session.rollback()
    client = app.test_client()
    assert client.post_form("/auth/login", {"phone": msisdn, "password": factories.PASSWORD}).status_code == 303
    for page in ("/", "/payments/", "/numbers/details", "/tariffs/", "/services/", "/settings/"):
        response = client.get(page, follow_redirects=True)
        assert response.status_code == 200, page
    assert msisdn[-4:] in client.get("/").text.replace("-", "")  # the generated line's own dashboard
    staff_client = app.test_client()
    assert staff_client.post_form("/admin/login", {"email": "agent@example.com",
                                                   "password": factories.PASSWORD}).status_code == 303
    assert staff_client.get("/admin/", query_string={"q": msisdn}).status_code == 200
    card = staff_client.get(f"/admin/customers/{customer_id}")
    assert card.status_code == 200


def test_a_database_with_accounts_is_refused(sqlite_seeded):
    app, _, _ = sqlite_seeded
    with pytest.raises(SystemExit, match="holds 200 accounts already"), redirect_stdout(io.StringIO()):
        _seed_scale().seed(app, accounts=10, today=TODAY)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Account)) == ACCOUNTS
