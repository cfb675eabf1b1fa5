"""A PostgreSQL app of its own for the concurrency tests (docs/architecture.md §8)."""
import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from portal import create_app
from portal.extensions import db
from tests import services
from tests.conftest import _prepare_postgres, base_config, empty_tables


@pytest.fixture(scope="session")
def pg_app():
    """An app on its own PostgreSQL database (``<TEST_POSTGRES_URL's db>_concurrency``), built by the migrations.

    Its own database, so a suite running on TEST_POSTGRES_URL at the same time is not disturbed.
    """
    url = sa.make_url(services.require_postgres())
    url = url.set(database=f"{url.database}_concurrency").render_as_string(hide_password=False)
    _prepare_postgres(url)
    app = create_app({**base_config(url), "SMS_QUOTAS": ((1, 60), (3, 3600), (10, 86400))})
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def pg(pg_app):
    from portal.jobs import init_celery

    # Celery's configuration is process-wide: a test with a real broker and worker (test_celery_redis) leaves
    # it pointing there. This app's jobs run inline again, as the app was built to.
    init_celery(pg_app)
    with pg_app.app_context():
        yield pg_app
        db.session.remove()
        empty_tables()


