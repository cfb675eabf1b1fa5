"""A login's language and time zone, for the portal's pages and its SMS alerts."""
from sqlalchemy.orm import Session

from portal.domain.audit import Actor, record
from portal.domain.errors import DomainError
from portal.models import Login

# The zones of Russia, west to east; the portal shows times in the one chosen.
TIME_ZONES = ("Europe/Kaliningrad", "Europe/Moscow", "Europe/Samara", "Asia/Yekaterinburg", "Asia/Omsk",
              "Asia/Novosibirsk", "Asia/Krasnoyarsk", "Asia/Irkutsk", "Asia/Yakutsk", "Asia/Vladivostok",
              "Asia/Magadan", "Asia/Kamchatka")


class InvalidPreference(DomainError):
    pass


def set_preferences(session: Session, *, login_id: int, language: str, timezone: str, locales, actor: Actor) -> bool:
    """Save both; True when something changed (one audit event for the change)."""
    if language not in locales:
        raise InvalidPreference("language", field="language")
    if timezone not in TIME_ZONES:
        raise InvalidPreference("timezone", field="timezone")
    login = session.get(Login, login_id)
    changed = (login.language, login.timezone) != (language, timezone)
    if changed:
        login.language, login.timezone = language, timezone
        record(session, actor, "preferences_changed", obj=login, detail=f"{language} {timezone}")
    session.commit()
    return changed


def set_language(session: Session, *, login_id: int, language: str, actor: Actor) -> None:
    """The footer's language switch, remembered for a signed-in customer."""
    login = session.get(Login, login_id)
    if login.language != language:
        login.language = language
        record(session, actor, "preferences_changed", obj=login, detail=language)
        session.commit()
