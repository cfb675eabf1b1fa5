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


def test_a_fresh_clone_gets_its_own_secret_key_once(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["init-secret-key"])
    assert first.exit_code == 0 and "written" in first.output
    written = (tmp_path / "config.py").read_text()
    assert "SECRET_KEY = " in written
    again = runner.invoke(args=["init-secret-key"])
    assert again.exit_code == 0 and "left as it is" in again.output
    assert (tmp_path / "config.py").read_text() == written


def test_the_secret_key_is_added_to_an_instance_config_without_one(tmp_path):
    from portal.cli import write_secret_key

    config_file = tmp_path / "config.py"
    config_file.write_text("BRAND = 'Acme'\n")
    assert write_secret_key(config_file) is True
    text = config_file.read_text()
    assert text.startswith("BRAND = 'Acme'\n") and text.count("SECRET_KEY = ") == 1
    assert write_secret_key(config_file) is False


def test_after_make_db_the_staff_command_runs_without_debug(app, database_url, tmp_path, monkeypatch):
    """The README's `flask --app wsgi create-staff` on a fresh clone: no PORTAL_DEBUG, no SECRET_KEY in the env."""
    from flask import Flask

    from portal.cli import write_secret_key
    from portal.extensions import db

    for name in ("SECRET_KEY", "PORTAL_SECRET_KEY", "PORTAL_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(tmp_path))
    write_secret_key(tmp_path / "config.py")
    fresh = create_app({"SQLALCHEMY_DATABASE_URI": database_url})  # the `app` fixture empties the tables after
    assert not fresh.debug and len(fresh.secret_key) > 40
    with fresh.app_context():
        result = fresh.test_cli_runner().invoke(args=["create-staff", "--email", "new@example.com", "--name", "New",
                                                      "--role", "support", "--password", "long-enough-pass"])
        db.engine.dispose()
    assert result.exit_code == 0, result.output


def test_the_development_payment_provider_is_the_default_in_debug_and_tests_only(database_url):
    debug = create_app({"DEBUG": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": database_url})
    assert debug.config["PAYMENT_PROVIDER"] == "dev" and "dev.pay" in debug.view_functions
    testing = create_app({"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": database_url})
    assert testing.config["PAYMENT_PROVIDER"] == "dev" and "dev.pay" in testing.view_functions
    production = create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": database_url})
    # No provider: card top-ups say they are unavailable (tests/web/payments/test_topup.py); no /dev page.
    assert production.config["PAYMENT_PROVIDER"] == "" and "dev.pay" not in production.view_functions


@pytest.mark.parametrize("provider, message", [("dev", "development provider"), ("test", "PAYMENT_PROVIDER must")])
def test_the_development_payment_provider_or_an_unknown_one_stops_start_up_in_production(database_url, provider,
                                                                                        message):
    with pytest.raises(ConfigError, match=message):
        create_app({"SECRET_KEY": "k", "PAYMENT_PROVIDER": provider, "SQLALCHEMY_DATABASE_URI": database_url})


def test_the_payment_page_origins_may_receive_the_top_up_form(database_url):
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": database_url,
                      "PAYMENT_PAGE_ORIGINS": "https://pay.example, https://3ds.example"})
    csp = app.test_client().get("/auth/login").headers["Content-Security-Policy"]
    assert "form-action 'self' https://pay.example https://3ds.example;" in csp
    with pytest.raises(ConfigError, match="PAYMENT_PAGE_ORIGINS"):
        create_app({"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": database_url,
                    "PAYMENT_PAGE_ORIGINS": "https://x; script-src *"})


def test_a_sim_lock_release_delay_that_is_not_whole_seconds_stops_startup(database_url):
    with pytest.raises(ConfigError, match="SIM_LOCK_RELEASE_DELAY_S"):
        create_app({"TESTING": True, "SIM_LOCK_RELEASE_DELAY_S": "a day", "SQLALCHEMY_DATABASE_URI": database_url})
