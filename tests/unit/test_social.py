"""Outside sign-in accounts (portal/domain/social): linked by the owner, one per provider, never a new login."""
import pytest
from sqlalchemy import select

from portal.domain import social
from portal.domain.audit import Actor
from portal.domain.errors import NotFound
from portal.domain.social.providers import ProviderConfigError, configured, describe, pick
from portal.models import AuditEvent, Login, SocialAccount, utcnow
from tests import factories

VK_USER = social.Identity(provider="vk", subject="1001", shown="iv***@vk.com")


@pytest.fixture
def owner(db_session):
    return factories.ensure_login(db_session, "+79161234567")


@pytest.fixture
def other(db_session):
    return factories.ensure_login(db_session, "+79169876543")


def link(db_session, login, identity=VK_USER):
    return social.link(db_session, login_id=login.id, identity=identity, provider_name="VK ID",
                       actor=Actor(login_id=login.id), now=utcnow())


def test_a_linked_account_finds_its_login_and_an_unknown_one_finds_none(db_session, owner):
    assert social.login_for(db_session, VK_USER) is None
    logins = db_session.scalar(select(Login.id).order_by(Login.id.desc()))
    link(db_session, owner)
    assert social.login_for(db_session, VK_USER).id == owner.id
    assert social.login_for(db_session, social.Identity("vk", "2002")) is None
    assert db_session.scalar(select(Login.id).order_by(Login.id.desc())) == logins  # never a new login
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "social_linked"))


def test_linking_again_changes_nothing(db_session, owner):
    first = link(db_session, owner)
    assert link(db_session, owner).id == first.id
    assert len(db_session.scalars(select(SocialAccount)).all()) == 1


def test_an_account_linked_to_another_login_is_refused(db_session, owner, other):
    link(db_session, other)
    with pytest.raises(social.LinkRefused):
        link(db_session, owner)


def test_one_account_per_provider_per_login(db_session, owner):
    link(db_session, owner)
    with pytest.raises(social.LinkRefused):
        link(db_session, owner, social.Identity("vk", "3003"))
    link(db_session, owner, social.Identity("yandex", "3003"))  # another provider is fine


def test_a_switched_off_login_is_not_opened(db_session, owner):
    link(db_session, owner)
    owner.enabled = False
    db_session.commit()
    assert social.login_for(db_session, VK_USER) is None


def test_only_the_owner_unlinks(db_session, owner, other):
    row = link(db_session, owner)
    with pytest.raises(NotFound):
        social.unlink(db_session, login_id=other.id, link_id=row.id, actor=Actor(login_id=other.id))
    social.unlink(db_session, login_id=owner.id, link_id=row.id, actor=Actor(login_id=owner.id))
    assert social.login_for(db_session, VK_USER) is None


def test_what_the_owner_sees_is_masked():
    assert social.shown_as(email="ivan.petrov@yandex.ru") == "iv***@yandex.ru"
    assert social.shown_as(first_name="Ivan", last_name="Petrov") == "Ivan P."
    assert social.shown_as() == ""


def test_known_providers_need_only_their_credentials_and_bad_settings_say_why():
    vk = describe("vk", {"client_id": "51234"})
    assert (vk.name, vk.subject, vk.userinfo_auth, vk.callback_params) == ("VK ID", "user.user_id", "form",
                                                                           ("device_id", "state"))
    assert describe("yandex", {"client_id": "y"}).userinfo_auth == "oauth"
    assert list(configured({"vk": {"client_id": ""}, "yandex": {"client_id": "y"}})) == ["yandex"]
    with pytest.raises(ProviderConfigError, match="discovery_url"):
        describe("other", {"client_id": "x"})
    with pytest.raises(ProviderConfigError, match="unknown settings"):
        describe("vk", {"client_id": "x", "clientid": "y"})
    with pytest.raises(ProviderConfigError, match="openid"):
        describe("oidc", {"client_id": "x", "discovery_url": "https://id.example/", "scope": "email"})
    assert pick({"user": {"user_id": 5}}, "user.user_id") == 5 and pick({"user": 5}, "user.id") is None


def test_bad_provider_settings_stop_startup_and_debug_offers_the_development_provider(database_url):
    from portal import ConfigError, create_app

    with pytest.raises(ConfigError, match="userinfo_url"):
        create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": database_url,
                    "SOCIAL_PROVIDERS": {"corp": {"client_id": "x"}}})
    debug = create_app({"DEBUG": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": database_url})
    assert debug.config["SOCIAL_PROVIDERS"]["dev"]["name"] == "Development ID"
    assert "dev_oidc.token" in debug.view_functions
    production = create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": database_url})
    assert "dev" not in production.config["SOCIAL_PROVIDERS"] and "dev_oidc.token" not in production.view_functions
