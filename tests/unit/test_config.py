import pytest

from portal import ConfigError, create_app


def test_the_captcha_test_answer_is_refused_outside_testing(database_url):
    with pytest.raises(ConfigError, match="CAPTCHA_TEST_ANSWER"):
        create_app({"SECRET_KEY": "k", "CAPTCHA_TEST_ANSWER": "X", "TESTING": False,
                    "SQLALCHEMY_DATABASE_URI": database_url})


def test_the_captcha_test_answer_is_ignored_outside_testing_policy(app):
    from portal.domain.auth import AuthPolicy

    assert AuthPolicy.from_config({**app.config, "CAPTCHA_TEST_ANSWER": "X", "TESTING": False}).captcha_test_answer \
        is None


def test_no_secret_key_outside_debug_stops_startup(database_url, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app({"SQLALCHEMY_DATABASE_URI": database_url})


def test_debug_runs_without_a_secret_key(database_url, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = create_app({"DEBUG": True, "SQLALCHEMY_DATABASE_URI": database_url})
    assert app.secret_key
    assert "dev.sms" in app.view_functions  # the development outbox exists in debug only


def test_environment_variables_with_the_portal_prefix(database_url, monkeypatch):
    monkeypatch.setenv("PORTAL_TESTING", "true")
    monkeypatch.setenv("PORTAL_BRAND", "Acme Mobile")
    monkeypatch.setenv("PORTAL_TRUSTED_GATEWAYS", "10.0.0.1, 10.1.0.0/16")
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.example/portal")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    app = create_app()
    assert app.config["TESTING"] is True
    assert app.config["BRAND"] == "Acme Mobile"
    assert app.config["TRUSTED_GATEWAYS"] == ("10.0.0.1", "10.1.0.0/16")
    assert app.secret_key == "from-env"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/portal"
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/3"


def test_the_default_database_is_sqlite_in_the_instance_folder(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/portal.sqlite")


def test_an_unknown_sms_backend_stops_startup(database_url):
    with pytest.raises(ConfigError, match="SMS_BACKEND"):
        create_app({"TESTING": True, "SMS_BACKEND": "pigeon", "SQLALCHEMY_DATABASE_URI": database_url})
