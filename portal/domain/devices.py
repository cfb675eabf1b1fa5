"""The devices a login is signed in on: listing them, ending one or all others."""
import ipaddress
import re
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.domain.audit import Actor, record
from portal.domain.errors import NotFound
from portal.models import LoginSession

# Most specific first: Edge and Opera say "Chrome" too, and every browser says "Safari".
BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("YaBrowser/", "Yandex Browser"),
            ("SamsungBrowser/", "Samsung Internet"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
            ("Chromium/", "Chromium"), ("Safari/", "Safari"))
SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
           ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


# The default IP_PLACES names, translated; names configured otherwise are shown as they are.
PLACE_LABELS = {"Local network": _l("Local network"), "This computer": _l("This computer")}


def describe_browser(user_agent: str | None) -> str:
    """"Chrome on Android" from a User-Agent string; the raw start of it when nothing is recognised."""
    ua = user_agent or ""
    browser = next((name for marker, name in BROWSERS if marker in ua), None)
    system = next((name for marker, name in SYSTEMS if marker in ua), None)
    if browser and system:
        return f"{browser}, {system}"
    return browser or system or re.sub(r"\s+", " ", ua)[:40] or "?"


def place_of(ip: str | None, places: list[tuple[str, str]]) -> str | None:
    """The name of the first configured network (CIDR, name) that holds ``ip``, if any."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return None
    for network, name in places:
        try:
            if address in ipaddress.ip_network(network, strict=False):
                return PLACE_LABELS.get(name, name)
        except ValueError:
            continue
    return None


def active_sessions(session: Session, login_id: int) -> list[LoginSession]:
    """Sessions not ended, most recently used first."""
    return list(session.scalars(
        select(LoginSession).where(LoginSession.login_id == login_id, LoginSession.revoked_at.is_(None))
        .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
    ))


def end_session(session: Session, *, login_id: int, session_id: int, actor: Actor, now: datetime) -> None:
    """Sign one device out (a session of another login, or an ended one: NotFound)."""
    device = session.get(LoginSession, session_id)
    if device is None or device.login_id != login_id:
        raise NotFound("session")
    if device.revoked_at is None:
        device.revoked_at = now
        record(session, actor, "session_ended", obj=device, detail=describe_browser(device.user_agent))
    session.commit()


def end_other_sessions(session: Session, *, login_id: int, keep_token: str, actor: Actor, now: datetime) -> int:
    ended = session.execute(
        update(LoginSession).where(LoginSession.login_id == login_id, LoginSession.revoked_at.is_(None),
                                   LoginSession.token != keep_token).values(revoked_at=now)
    ).rowcount
    if ended:
        record(session, actor, "sessions_ended", detail=str(ended))
    session.commit()
    return ended
