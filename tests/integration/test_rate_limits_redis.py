"""Flask-Limiter on POST /auth/password: per IP and per /24, counted in Redis when REDIS_URL is set."""
import pytest
import redis

from portal import create_app
from portal.extensions import db, limiter
from tests import services
from tests.conftest import PortalClient, base_config

# A form that fails (the captcha token is unknown): the limiter counts the request, not its outcome.
FORM = {"phone": "+79161234567", "captcha_token": "no-such-token", "captcha": "XXXXX"}
OTHER_NETWORK = {"REMOTE_ADDR": "10.9.9.9"}


def address(ip: str) -> dict:
    return {"environ_overrides": {"REMOTE_ADDR": ip}}


@pytest.fixture
def config_overrides(request):
    """2 posts a minute per IP, in memory; indirect parametrization adds settings, ``{"redis": True}`` Redis."""
    extra = dict(getattr(request, "param", {}))
    config = {"RATELIMIT_SMS_REQUEST": "2 per minute", "RATELIMIT_SMS_REQUEST_NET": "100 per hour", "REDIS_URL": None}
    if extra.pop("redis", False):
        config["REDIS_URL"] = services.require_redis()
    return {**config, **extra}


in_redis = pytest.mark.parametrize("config_overrides", [{"redis": True}], indirect=True, ids=["redis"])


@pytest.fixture
def second_worker(database_url, config_overrides):
    """Another web worker: a separate app built from the same configuration, as gunicorn's next process."""
    apps = []

    def build():
        other = create_app({**base_config(database_url), **config_overrides})
        other.test_client_class = PortalClient
        apps.append(other)
        return other.test_client()

    yield build
    for other in apps:
        with other.app_context():
            db.engine.dispose()


def post_three_times(client, **kwargs) -> list[int]:
    return [client.post_form("/auth/password", FORM, **kwargs).status_code for _ in range(3)]


@pytest.mark.redis
@in_redis
def test_the_per_ip_limit_is_counted_in_redis_and_holds_across_workers(app, client, config_overrides,
                                                                       second_worker):
    statuses = post_three_times(client)
    assert 429 not in statuses[:2] and statuses[2] == 429

    store = redis.Redis.from_url(config_overrides["REDIS_URL"])
    try:
        keys = [key.decode() for key in store.keys("*LIMITER*")]
        per_ip = [key for key in keys if "/127.0.0.1/" in key and "sms_password" in key]
        assert per_ip, keys
        assert any("/127.0.0.0/24/" in key for key in keys), keys  # the /24 counter too
    finally:
        store.close()

    memory_of_the_first = limiter.storage
    other = second_worker()
    assert limiter.storage is not memory_of_the_first  # the new worker starts with its own storage client...
    refused = other.post_form("/auth/password", FORM)
    assert refused.status_code == 429  # ...and still sees the first worker's count
    assert int(refused.headers["Retry-After"]) <= 60
    assert other.post_form("/auth/password", FORM, **address("10.9.9.9")).status_code != 429


def test_in_memory_counts_do_not_survive_into_another_worker(app, client, second_worker):
    """The control for the test above: without Redis each worker counts on its own."""
    assert post_three_times(client)[2] == 429
    other = second_worker()
    assert other.post_form("/auth/password", FORM).status_code != 429


def test_only_posts_count_and_another_network_is_not_affected(app, client):
    assert post_three_times(client)[2] == 429
    for _ in range(3):
        page = client.get("/auth/password")
        assert page.status_code == 200 and 'name="captcha_token"' in page.text
    assert client.post_form("/auth/password", FORM).status_code == 429
    outsider = post_three_times(client, environ_overrides=OTHER_NETWORK)
    assert 429 not in outsider[:2] and outsider[2] == 429  # its own per-IP count, from zero


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_SMS_REQUEST_NET": "3 per minute"}], indirect=True,
                         ids=["net-3"])
def test_one_24_network_shares_a_limit(app, client):
    assert client.post_form("/auth/password", FORM, **address("127.0.0.1")).status_code != 429
    assert client.post_form("/auth/password", FORM, **address("127.0.0.2")).status_code != 429
    assert client.post_form("/auth/password", FORM, **address("127.0.0.200")).status_code != 429
    # A fourth address of the same /24, never seen before, is refused: the network is spent.
    assert client.post_form("/auth/password", FORM, **address("127.0.0.3")).status_code == 429
    assert client.post_form("/auth/password", FORM, **address("10.9.9.9")).status_code != 429
    assert client.post_form("/auth/password", FORM, **address("127.0.1.1")).status_code != 429  # next /24
