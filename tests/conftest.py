"""Fixtures: ``app``, ``client``, ``db_session``, ``login_as``, ``count_queries``.

The schema is built once per run by the real migrations (so they are tested);
every test gets a fresh app and leaves empty tables behind.  The database is
SQLite in a temporary folder, or PostgreSQL when TEST_DATABASE_URL is set.
"""
import os
import re
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer

from portal import create_app
from portal.extensions import db, limiter
from portal.models import SupportTopic
from tests import factories, services

SECRET = "test-secret-key"


def base_config(database_url: str) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": SECRET,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": None,
        "BRAND": "TestTel",
        # Assertions read English; tests of the Russian default set it back.
        "BABEL_DEFAULT_LOCALE": "en",
        "TRUSTED_GATEWAYS": ("10.20.0.0/16",),
    }
    if os.environ.get("TEST_USE_REDIS"):
        # The limiter's counters live in real Redis; SMS delivery stays inline so
        # tests can read the outbox (tests/integration covers the Celery worker).
        config["REDIS_URL"] = services.require_redis()
        config["CELERY"] = {"task_always_eager": True}
    return config


def _prepare_postgres(url: str) -> None:
    """Create the test database if needed and empty it."""
    engine_url = sa.make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = sa.create_engine(engine_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(sa.text("select 1 from pg_database where datname = :n"), {"n": engine_url.database}):
            conn.execute(sa.text(f'create database "{engine_url.database}"'))
    admin.dispose()
    engine = sa.create_engine(engine_url)
    with engine.begin() as conn:
        conn.execute(sa.text("drop schema public cascade; create schema public"))
    engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def empty_instance_folder(tmp_path_factory):
    """Every app gets an empty instance folder: the developer's instance/config.py
    (``make run`` writes one with a SECRET_KEY) must not change what the tests see."""
    folder = tmp_path_factory.mktemp("apps") / "instance"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Flask, "auto_find_instance_path", lambda self: str(folder))
        yield folder


# werkzeug's default scrypt (N=2**15) costs ~0.1 s a hash and a check on the CI machine, and the suite signs
# in, makes PINs and seeds vouchers thousands of times. The tests check what is hashed and compared, not the
# cost: they hash with the same method at N=2**10. A method the code names itself is left alone, so a
# hash made differently from the others still shows (test_an_unknown_number_costs_the_same_password_hash_check).
TEST_HASH_METHOD = "scrypt:1024:8:1"


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes():
    from werkzeug.security import generate_password_hash

    from portal.domain import passwords

    def cheap(password: str, method: str = TEST_HASH_METHOD, salt_length: int = 16) -> str:
        return generate_password_hash(password, method, salt_length)

    passwords.dummy_hash.cache_clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "generate_password_hash", cheap)
        yield
    passwords.dummy_hash.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def reused_url_builders():
    """Every test builds a fresh app, and werkzeug compiles two URL-builder functions (ast, compile) for each
    of its ~150 rules: ~80 % of create_app, ~40 ms a test. A builder depends only on the rule's text, parsed
    parts and defaults, so the run compiles each one once."""
    from werkzeug.routing.rules import Rule

    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None:  # another werkzeug: nothing to reuse
        yield
        return
    built: dict = {}

    def reuse(self, append_unknown: bool = True):
        defaults = self.defaults or {}
        if any(is_dynamic and data in defaults for is_dynamic, data in self._trace):
            return compile_builder(self, append_unknown)  # a converter's to_url() is in it
        key = (self.rule, tuple(self._trace), repr(sorted(defaults.items())), append_unknown)
        if key not in built:
            built[key] = compile_builder(self, append_unknown)
        return built[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Rule, "_compile_builder", reuse)
        yield


@pytest.fixture(scope="session", autouse=True)
def templates_compiled_once():
    """Each test's fresh app has a fresh Jinja environment that parsed and compiled every template it rendered
    again (~20 % of a web test). Jinja's bytecode cache, shared by the run's apps, compiles each template once;
    it checks the template's source, and every app sets its environment up the same way (create_app)."""
    from flask import Flask
    from jinja2 import BytecodeCache

    class MemoryBytecodeCache(BytecodeCache):
        def __init__(self):
            self.code: dict[str, bytes] = {}

        def load_bytecode(self, bucket):
            if bucket.key in self.code:
                bucket.bytecode_from_string(self.code[bucket.key])

        def dump_bytecode(self, bucket):
            self.code[bucket.key] = bucket.bytecode_to_string()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Flask, "jinja_options", {**Flask.jinja_options, "bytecode_cache": MemoryBytecodeCache()})
        yield


@pytest.fixture(scope="session", autouse=True)
def commits_without_flushing_to_disk():
    """Tests commit thousands of times and each commit waited for the disk (fsync): SQLite at
    ``synchronous=off``, PostgreSQL at ``synchronous_commit=off``. Both stay transactional and
    consistent; only what a power cut would lose changes, which no test is about."""
    import sqlite3

    def on_connect(dbapi_connection, record):
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.execute("pragma synchronous = off")
        elif type(dbapi_connection).__module__.startswith("psycopg"):
            autocommit = dbapi_connection.autocommit
            dbapi_connection.autocommit = True
            cursor = dbapi_connection.cursor()
            cursor.execute("set synchronous_commit = off")
            cursor.close()
            dbapi_connection.autocommit = autocommit

    sa.event.listen(sa.engine.Engine, "connect", on_connect)
    yield
    sa.event.remove(sa.engine.Engine, "connect", on_connect)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        _prepare_postgres(url)
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "portal-test.sqlite")
    app = create_app(base_config(url))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    return url


def empty_tables() -> None:
    """Empty every table and restart the id sequences, as a fresh schema would be, then put back the rows the
    migrations insert (the support topics).

    Only what a test wrote is cleared: one query finds the tables with rows (and, on PostgreSQL,
    the sequences a test drew from), then those are emptied with DELETE.  TRUNCATE of all 67
    tables cost ~0.5-1 s a test on PostgreSQL (it swaps every table's and index's files), which
    was a third of the PostgreSQL pass; emptying all tables one by one was ~25 ms on SQLite.
    """
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]  # children before parents
    with db.engine.begin() as conn:
        found = " union all ".join(f"select '{t}' where exists (select 1 from \"{t}\")" for t in tables)
        filled = set(conn.execute(sa.text(found)).scalars())
        sequences = []
        if conn.dialect.name == "postgresql":
            sequences = list(conn.execute(sa.text(
                "select format('%I.%I', schemaname, sequencename) from pg_sequences"
                " where schemaname = current_schema() and last_value is not null")).scalars())
        if conn.dialect.name == "sqlite":  # it does not enforce the foreign keys
            for table in tables:
                if table in filled:
                    conn.execute(sa.text(f'delete from "{table}"'))
        else:
            try:
                with conn.begin_nested():
                    for table in tables:
                        if table in filled:
                            conn.execute(sa.text(f'delete from "{table}"'))
            except sa.exc.IntegrityError:
                # A cycle of foreign keys that no order of deletion satisfies: TRUNCATE ... CASCADE always can.
                conn.execute(sa.text("truncate " + ", ".join(f'"{t}"' for t in tables) + " cascade"))
        for sequence in sequences:
            conn.execute(sa.text(f"alter sequence {sequence} restart"))
        conn.execute(sa.insert(SupportTopic.__table__), factories.DEFAULT_TOPICS)


@pytest.fixture(autouse=True)
def celery_join_flag():
    """Reset Celery's process-wide "inside a task" flag after each test.

    An eager task sets and restores it around itself without a lock, so eager SMS
    deliveries from several threads at once (the concurrency tests) can leave it set,
    and a later ``result.get()`` in another test would then refuse to run.
    """
    yield
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)


@pytest.fixture
def config_overrides() -> dict:
    """Override in a test module (or parametrize) to change the app's configuration."""
    return {}


@pytest.fixture
def app(database_url, config_overrides):
    app = create_app({**base_config(database_url), **config_overrides})
    app.test_client_class = PortalClient
    with app.app_context():
        yield app
        db.session.remove()
        empty_tables()
        if app.config["REDIS_URL"]:
            limiter.reset()
        db.engine.dispose()


class PortalClient(FlaskClient):
    """A test client that sends the CSRF token the way a browser form does.

    Each request runs in its own app context, as in production: otherwise the
    test's context would share ``g`` (and Flask-Login's cached user) and the
    database session between requests.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        with self.session_transaction() as sess:
            raw = sess.setdefault("csrf_token", os.urandom(20).hex())
        return URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token").dumps(raw)

    def post_form(self, url: str, data: dict | None = None, **kwargs):
        return self.post(url, data={"csrf_token": self.csrf_token(), **(data or {})}, **kwargs)


@pytest.fixture
def client(app) -> PortalClient:
    return app.test_client()


@pytest.fixture
def db_session(app):
    return db.session


@pytest.fixture
def login_as(client, db_session):
    """Sign ``client`` in as the owner of ``phone`` (made with a permanent password if missing)."""

    def sign_in(phone: str = "+79161234567", password: str = factories.PASSWORD):
        factories.ensure_login(db_session, phone, password=password)
        response = client.post_form("/auth/login", {"phone": phone, "password": password})
        assert response.status_code == 303, response.text
        return response

    return sign_in


@pytest.fixture
def count_queries(app):
    @contextmanager
    def counting():
        statements: list[str] = []

        def before(conn, cursor, statement, *args):
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", before)

    return counting


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
