"""Request bodies are bounded: 1 MB anywhere, 64 KB on the payment gateway's callback (checked before the signature)."""
import hashlib
import hmac

import pytest

from tests import factories

SECRET = "webhook-secret"


@pytest.fixture
def config_overrides():
    return {"PAYMENT_WEBHOOK_SECRET": SECRET, "MAX_CONTENT_LENGTH": 100_000, "PAYMENT_CALLBACK_MAX_BYTES": 2_000}


def test_a_form_over_the_limit_gets_the_portals_413_page(client):
    response = client.post_form("/auth/login", {"phone": "+79161234567", "password": "x" * 200_000})
    assert response.status_code == 413
    assert "The request is too large" in response.text and "<html" in response.text


def test_a_form_under_the_limit_is_read_as_usual(client, db_session):
    factories.ensure_login(db_session, "+79161234567")
    db_session.commit()
    response = client.post_form("/auth/login", {"phone": "+79161234567", "password": "x" * 50_000})
    assert response.status_code == 422  # read and validated: refused as a wrong password, not as too large


def test_a_callback_over_its_own_smaller_limit_is_refused_before_the_signature(client):
    body = b'{"reference": "' + b"r" * 5_000 + b'", "status": "succeeded"}'
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    response = client.post("/payments/callback", data=body, content_type="application/json",
                           headers={"X-Signature": signature})
    assert response.status_code == 413


def test_a_small_callback_still_reaches_the_signature_check(client):
    assert client.post("/payments/callback", data=b"{}", content_type="application/json").status_code == 403


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
