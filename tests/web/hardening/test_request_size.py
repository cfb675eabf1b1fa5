"""Request bodies are bounded: 1 MB anywhere, 64 KB on the payment provider's webhook (checked before it is read)."""
import pytest

from tests import factories


@pytest.fixture
def config_overrides():
    return {"MAX_CONTENT_LENGTH": 100_000, "PAYMENT_CALLBACK_MAX_BYTES": 2_000}


def test_a_form_over_the_limit_gets_the_portals_413_page(client):
    response = client.post_form("/auth/login", {"phone": "+79161234567", "password": "x" * 200_000})
    assert response.status_code == 413
    assert "The request is too large" in response.text and "<html" in response.text


def test_a_form_under_the_limit_is_read_as_usual(client, db_session):
    factories.ensure_login(db_session, "+79161234567")
    db_session.commit()
    response = client.post_form("/auth/login", {"phone": "+79161234567", "password": "x" * 50_000})
    assert response.status_code == 422  # read and validated: refused as a wrong password, not as too large


def test_a_webhook_over_its_own_smaller_limit_is_refused_before_it_is_read(client):
    body = b'{"object": {"id": "' + b"r" * 5_000 + b'"}}'
    response = client.post("/payments/webhook", data=body, content_type="application/json")
    assert response.status_code == 413


def test_a_small_webhook_is_read(client):
    assert client.post("/payments/webhook", data=b"{}", content_type="application/json").status_code == 400


def test_the_limit_is_one_megabyte_by_default():
    from portal import config

    assert config.MAX_CONTENT_LENGTH == 1024 * 1024 and config.PAYMENT_CALLBACK_MAX_BYTES == 64 * 1024


@pytest.mark.parametrize("name,bad", [("MAX_CONTENT_LENGTH", 0), ("MAX_CONTENT_LENGTH", "1 MB"),
                                      ("PAYMENT_CALLBACK_MAX_BYTES", None)])
def test_a_bad_limit_stops_start_up(database_url, name, bad):
    from portal import ConfigError, create_app
    from tests.conftest import base_config

    with pytest.raises(ConfigError, match=name):
        create_app({**base_config(database_url), name: bad})
