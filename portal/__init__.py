"""The operator's personal account portal."""
import ipaddress
import os
from pathlib import Path

from flask import Flask

from portal import config as defaults


class ConfigError(RuntimeError):
    """The configuration cannot run safely; the message says what to fix."""


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    load_config(app, config)
    apply_proxy_fix(app)

    from portal import compression, extensions, formatting, jobs, web

    app.jinja_environment = web.PortalEnvironment  # before anything asks for app.jinja_env

    extensions.db.init_app(app)
    extensions.migrate.init_app(app, extensions.db, directory=str(Path(__file__).parent.parent / "migrations"))
    extensions.csrf.init_app(app)
    init_limiter(app)
    extensions.babel.init_app(app, locale_selector=web.select_locale, timezone_selector=web.select_timezone)
    extensions.babel.domain_instance = formatting.CatalogPerRequest(domain=app.config.get("BABEL_DOMAIN", "messages"))
    web.init_login(app)
    jobs.init_celery(app)
    web.init_app(app)
    compression.init_app(app)

    from portal.account import bp as account_bp
    from portal.admin import bp as admin_bp
    from portal.auth import bp as auth_bp
    from portal.feed import bp as feed_bp
    from portal.gateway import bp as gateway_bp
    from portal.home import bp as home_bp
    from portal.locator import bp as locator_bp
    from portal.numbers import bp as numbers_bp
    from portal.pay import bp as pay_bp
    from portal.payments import bp as payments_bp
    from portal.settings import bp as settings_bp
    from portal.status import bp as status_bp
    from portal.support import bp as support_bp
    from portal.tariffs import bp as tariffs_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(payments_bp)
    app.register_blueprint(numbers_bp)
    app.register_blueprint(settings_bp)
    app.register_blueprint(tariffs_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(locator_bp)
    app.register_blueprint(support_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(status_bp)
    app.register_blueprint(feed_bp)
    app.register_blueprint(gateway_bp)
    app.register_blueprint(pay_bp)
    if app.debug or app.testing:
        from portal.dev import bp as dev_bp

        app.register_blueprint(dev_bp)
        from portal.dev.oidc import development_blueprint

        app.register_blueprint(extensions.csrf.exempt(development_blueprint()))

    from portal import cli

    cli.init_app(app)
    return app


def apply_proxy_fix(app: Flask) -> None:
    """Believe PROXY_COUNT hops of X-Forwarded-For/-Proto/-Host: the client's address and scheme, not the proxy's."""
    hops = app.config["PROXY_COUNT"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def init_limiter(app: Flask) -> None:
    """Flask-Limiter with its in-memory fallback (config.py: RATELIMIT_IN_MEMORY_FALLBACK_ENABLED)."""
    from portal.extensions import limiter

    limiter.init_app(app)
    # The limiter object outlives an app (tests, the CLI build several): a new app starts
    # with its own storage, so it must not inherit "storage is dead" from the last one.
    limiter._storage_dead = False


def load_config(app: Flask, config: dict | None) -> None:
    app.config.from_object(defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("PORTAL")
    for name in ("SECRET_KEY", "REDIS_URL"):
        if os.environ.get(name):
            app.config[name] = os.environ[name]
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if config:
        app.config.update(config)
    check_config(app)


def _number(cfg, name: str, least: float, most: float | None = None, *, optional: bool = False) -> None:
    value = cfg[name]
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or value < least \
            or (most is not None and value > most):
        limits = f"from {least} to {most}" if most is not None else f"{least} or more"
        raise ConfigError(f"{name} must be a number {limits}{' (or unset)' if optional else ''}, not {value!r}.")


def check_payment_config(cfg) -> None:
    """The payment provider's settings (README "Payments: YooKassa")."""
    provider = cfg["PAYMENT_PROVIDER"]
    if provider == "yookassa":
        from portal.payment_gateway import yookassa

        if not (cfg["YOOKASSA_SHOP_ID"] and cfg["YOOKASSA_SECRET_KEY"]):
            raise ConfigError("PAYMENT_PROVIDER=yookassa needs YOOKASSA_SHOP_ID and YOOKASSA_SECRET_KEY (the shop's "
                              "id and secret key from YooKassa's account: Integration → API keys).")
        if not str(cfg["YOOKASSA_API_URL"]).startswith("https://") and not (cfg["DEBUG"] or cfg["TESTING"]):
            raise ConfigError(f"YOOKASSA_API_URL must be https://, not {cfg['YOOKASSA_API_URL']!r}.")
        if not cfg["PAYMENT_PAGE_ORIGINS"]:
            cfg["PAYMENT_PAGE_ORIGINS"] = (yookassa.PAGE_ORIGIN,)
        if cfg["PAYMENT_WEBHOOK_ALLOWED_NETS"] is None:
            cfg["PAYMENT_WEBHOOK_ALLOWED_NETS"] = yookassa.NETWORKS
    nets = cfg["PAYMENT_WEBHOOK_ALLOWED_NETS"] or ()
    if isinstance(nets, str):
        nets = [n.strip() for n in nets.split(",") if n.strip()]
    try:
        cfg["PAYMENT_WEBHOOK_ALLOWED_NETS"] = tuple(str(ipaddress.ip_network(n, strict=False)) for n in nets)
    except (TypeError, ValueError):
        raise ConfigError(f"PAYMENT_WEBHOOK_ALLOWED_NETS are networks like 185.71.76.0/27, not {nets!r}.") from None
    _number(cfg, "YOOKASSA_TIMEOUT", 1, 30)
    _number(cfg, "YOOKASSA_RETRY_WAIT_MAX", 0, 10)
    _number(cfg, "PAYMENT_VAT_CODE", 1, 12)
    _number(cfg, "PAYMENT_TAX_SYSTEM", 1, 6, optional=True)


DEVELOPMENT_ID = {"name": "Development ID", "client_id": "portal-dev", "client_secret": "dev-secret",
                  "discovery_url": "/dev/oidc/.well-known/openid-configuration"}


def check_social_config(cfg) -> None:
    """Sign-in providers (README "Sign-in with VK ID or Yandex ID"); debug mode adds the development one."""
    from portal.domain.social.providers import ProviderConfigError, configured

    if cfg["DEBUG"] and not cfg["TESTING"] and "dev" not in cfg["SOCIAL_PROVIDERS"]:
        cfg["SOCIAL_PROVIDERS"] = {**cfg["SOCIAL_PROVIDERS"], "dev": DEVELOPMENT_ID}
    if not isinstance(cfg["SOCIAL_PROVIDERS"], dict):
        raise ConfigError("SOCIAL_PROVIDERS is a mapping of provider key to its settings (JSON in the environment).")
    try:
        configured(cfg["SOCIAL_PROVIDERS"])
    except (ProviderConfigError, TypeError) as err:
        raise ConfigError(str(err)) from None
    _number(cfg, "SOCIAL_TIMEOUT", 1, 30)
    _number(cfg, "SOCIAL_PENDING_MINUTES", 1, 60)


def check_config(app: Flask) -> None:
    from portal.domain.details import MAX_MONTHS

    cfg = app.config
    if cfg["CAPTCHA_TEST_ANSWER"] and not cfg["TESTING"]:
        raise ConfigError("CAPTCHA_TEST_ANSWER is only allowed with TESTING=true: it would switch the captcha off.")
    if not cfg["SECRET_KEY"]:
        if not (cfg["DEBUG"] or cfg["TESTING"]):
            raise ConfigError(
                "SECRET_KEY is not set. Set the SECRET_KEY environment variable (or PORTAL_SECRET_KEY, "
                "or SECRET_KEY in instance/config.py) to a long random string."
            )
        cfg["SECRET_KEY"] = "dev-only-" + app.name  # debug/testing only, never in production
    if cfg["PAYMENT_PROVIDER"] is None:
        cfg["PAYMENT_PROVIDER"] = "dev" if cfg["DEBUG"] or cfg["TESTING"] else ""
    if cfg["PAYMENT_PROVIDER"] not in ("", "dev", "yookassa"):
        raise ConfigError(f"PAYMENT_PROVIDER must be 'yookassa', 'dev' (development) or empty, not "
                          f"{cfg['PAYMENT_PROVIDER']!r}.")
    check_payment_config(cfg)
    if cfg["PAYMENT_PROVIDER"] == "dev" and not (cfg["DEBUG"] or cfg["TESTING"]):
        raise ConfigError("PAYMENT_PROVIDER=dev is the development provider: it takes test cards and moves no real "
                          "money. It runs only in debug mode or tests; configure a real provider.")
    if cfg["SMS_BACKEND"] not in ("outbox", "http", "smpp"):
        raise ConfigError(f"SMS_BACKEND must be 'outbox', 'http' or 'smpp', not {cfg['SMS_BACKEND']!r}.")
    if cfg["SMS_BACKEND"] == "smpp" and not (cfg["SMPP_HOST"] and cfg["SMPP_SYSTEM_ID"]):
        raise ConfigError("SMS_BACKEND=smpp needs SMPP_HOST, SMPP_PORT, SMPP_SYSTEM_ID and SMPP_PASSWORD.")
    if cfg["SMS_BACKEND"] == "http" and not cfg["SMS_HTTP_URL"]:
        raise ConfigError("SMS_BACKEND=http needs SMS_HTTP_URL (and usually SMS_HTTP_TOKEN).")
    if cfg["PROVISIONING_BACKEND"] not in ("dev", "http"):
        raise ConfigError(f"PROVISIONING_BACKEND must be 'dev' or 'http', not {cfg['PROVISIONING_BACKEND']!r}.")
    if cfg["PROVISIONING_BACKEND"] == "http" and not cfg["PROVISIONING_HTTP_URL"]:
        raise ConfigError("PROVISIONING_BACKEND=http needs PROVISIONING_HTTP_URL (and usually a token).")
    if cfg["LOCATOR_BACKEND"] not in ("dev", "http"):
        raise ConfigError(f"LOCATOR_BACKEND must be 'dev' or 'http', not {cfg['LOCATOR_BACKEND']!r}.")
    if cfg["LOCATOR_BACKEND"] == "http" and not cfg["LOCATOR_URL"]:
        raise ConfigError("LOCATOR_BACKEND=http needs LOCATOR_URL (and usually LOCATOR_TOKEN).")
    if cfg["SMS_LEASE"] <= cfg["SMS_HTTP_TIMEOUT"]:
        raise ConfigError("SMS_LEASE must be longer than SMS_HTTP_TIMEOUT, or a second worker may send a message "
                          "while the first still waits for the SMSC.")
    if isinstance(cfg["DB_LOCK_TIMEOUT"], bool) or not isinstance(cfg["DB_LOCK_TIMEOUT"], int | float) \
            or cfg["DB_LOCK_TIMEOUT"] < 0:
        raise ConfigError(f"DB_LOCK_TIMEOUT is seconds (0: no limit), not {cfg['DB_LOCK_TIMEOUT']!r}.")
    if cfg["DETAILS_MAIL_LEASE"] <= cfg["MAIL_TIMEOUT"]:
        raise ConfigError("DETAILS_MAIL_LEASE must be longer than MAIL_TIMEOUT, or a second worker may send an "
                          "order while the first still waits for the mail server.")
    if cfg["PROVISIONING_LEASE"] <= cfg["PROVISIONING_HTTP_TIMEOUT"]:
        raise ConfigError("PROVISIONING_LEASE must be longer than PROVISIONING_HTTP_TIMEOUT, or a second worker "
                          "may send a command while the first still waits for the switch.")
    if cfg["STAFF_PASSKEY_REQUIRED"] and not (cfg["PASSKEY_RP_ID"] or cfg["PASSKEY_ORIGIN"] or cfg["PUBLIC_URL"]
                                              or cfg["DEBUG"] or cfg["TESTING"]):
        raise ConfigError("STAFF_PASSKEY_REQUIRED needs the site's address for passkeys: set PUBLIC_URL (or "
                          "PASSKEY_RP_ID and PASSKEY_ORIGIN).")
    if cfg["STATIC_IP_POOL"]:
        try:
            ipaddress.ip_network(cfg["STATIC_IP_POOL"], strict=False)
        except ValueError:
            raise ConfigError(f"STATIC_IP_POOL must be a network like 198.51.100.0/28, not {cfg['STATIC_IP_POOL']!r}.")
    for name, least in (("PROXY_COUNT", 0), ("HSTS_MAX_AGE", 0), ("MAX_CONTENT_LENGTH", 1),
                        ("PAYMENT_CALLBACK_MAX_BYTES", 1), ("USAGE_RETENTION_MONTHS", MAX_MONTHS),
                        ("PAYMENT_ASK_EVERY", 0), ("PAYMENT_DEV_SBP_SECONDS", 1),
                        ("SUPPORT_ATTACHMENT_MAX_BYTES", 1), ("SUPPORT_ATTACHMENT_MAX_PIXELS", 1),
                        ("SUPPORT_UPLOAD_MAX_BODY", 1), ("LOCATOR_NOTICES_PER_DAY", 0), ("LOCATOR_TIMEOUT", 1),
                        ("SIM_LOCK_RELEASE_DELAY_S", 0)):
        if isinstance(cfg[name], bool) or not isinstance(cfg[name], int) or cfg[name] < least:
            raise ConfigError(f"{name} must be a whole number, {least} or more, not {cfg[name]!r}.")
    cfg["SUPPORT_ATTACHMENTS_DIR"] = str(cfg["SUPPORT_ATTACHMENTS_DIR"]
                                         or Path(app.instance_path) / "support_attachments")
    uri = cfg["SQLALCHEMY_DATABASE_URI"]
    if not uri:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        uri = "sqlite:///" + str(Path(app.instance_path) / "portal.sqlite")
    if uri.startswith("postgres://"):  # Heroku-style URLs
        uri = "postgresql://" + uri[len("postgres://"):]
    if uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://"):]
    cfg["SQLALCHEMY_DATABASE_URI"] = uri
    if isinstance(cfg["PAYMENT_PAGE_ORIGINS"], str):
        cfg["PAYMENT_PAGE_ORIGINS"] = tuple(o.strip() for o in cfg["PAYMENT_PAGE_ORIGINS"].split(",") if o.strip())
    if any(not o.startswith("https://") or any(c in o for c in " ;'") for o in cfg["PAYMENT_PAGE_ORIGINS"]):
        raise ConfigError(f"PAYMENT_PAGE_ORIGINS are https:// origins, not {cfg['PAYMENT_PAGE_ORIGINS']!r}.")
    for name in ("TRUSTED_GATEWAYS", "CONTENT_GATEWAY_NETS"):
        if isinstance(cfg[name], str):
            cfg[name] = tuple(a.strip() for a in cfg[name].split(",") if a.strip())
    cfg["RATELIMIT_STORAGE_URI"] = cfg["REDIS_URL"] or "memory://"
    check_social_config(cfg)
    if cfg["PREFERRED_URL_SCHEME"] == "https":
        cfg["SESSION_COOKIE_SECURE"] = True
        cfg["REMEMBER_COOKIE_SECURE"] = True
