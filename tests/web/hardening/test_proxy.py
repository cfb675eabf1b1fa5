"""Behind a proxy: PROXY_COUNT hops of X-Forwarded-* are believed; HSTS on https."""
import pytest

from portal import ConfigError, create_app
from tests import factories
from tests.conftest import base_config

PROXY = {"REMOTE_ADDR": "192.0.2.10"}  # the load balancer, outside TRUSTED_GATEWAYS
HEADER = {"X-Msisdn": "79161234567"}


@pytest.fixture
def line(db_session):
    account = factories.make_line(db_session, "+79161234567")
    db_session.commit()
    return account


def through_proxy(client_ip: str, **headers) -> dict:
    return {"environ_overrides": PROXY, "headers": {"X-Forwarded-For": client_ip, **headers}}


@pytest.mark.parametrize("config_overrides", [{"PROXY_COUNT": 1}])
def test_the_trusted_gateway_is_recognised_through_one_proxy(client, line, config_overrides):
    page = client.get("/auth/login", **through_proxy("10.20.1.1", **HEADER))
    assert 'action="/auth/network-login"' in page.text


def test_without_proxies_a_forwarded_for_header_is_not_believed(client, line):
    page = client.get("/auth/login", **through_proxy("10.20.1.1", **HEADER))
    assert "network-login" not in page.text


@pytest.mark.parametrize("config_overrides", [{"PROXY_COUNT": 1, "RATELIMIT_LOGIN": "2 per minute"}])
def test_per_ip_limits_count_each_client_behind_the_proxy(client, config_overrides):
    form = {"phone": "+79161234567", "password": "wrong-password"}
    first = [client.post_form("/auth/login", form, **through_proxy("198.51.100.1")).status_code for _ in range(3)]
    other = client.post_form("/auth/login", form, **through_proxy("198.51.100.2")).status_code
    assert first[-1] == 429 and other != 429


@pytest.mark.parametrize("config_overrides", [{"PROXY_COUNT": 1}])
def test_https_at_the_proxy_gets_hsts(client, config_overrides):
    secure = client.get("/auth/login", **through_proxy("198.51.100.1", **{"X-Forwarded-Proto": "https"}))
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    plain = client.get("/auth/login", **through_proxy("198.51.100.1"))
    assert "Strict-Transport-Security" not in plain.headers


@pytest.mark.parametrize("config_overrides", [{"HSTS_MAX_AGE": 600}])
def test_the_hsts_max_age_is_a_setting_and_zero_turns_it_off(app, client):
    assert client.get("/auth/login", base_url="https://localhost").headers["Strict-Transport-Security"] == "max-age=600"
    app.config["HSTS_MAX_AGE"] = 0
    assert "Strict-Transport-Security" not in client.get("/auth/login", base_url="https://localhost").headers


@pytest.mark.parametrize("bad", [-1, "two", 1.5])
def test_a_bad_proxy_count_stops_start_up(database_url, bad):
    with pytest.raises(ConfigError, match="PROXY_COUNT"):
        create_app({**base_config(database_url), "PROXY_COUNT": bad})
