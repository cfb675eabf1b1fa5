"""The network-location interface: where the network last saw a phone, as a cell-based position with an accuracy
radius. Backends: a development one (deterministic positions around Moscow) and the operator's location gateway
over HTTP. No Flask here: ``network_from_config`` takes the app's config as a plain mapping."""
import hashlib
import http.client
import json
import math
import urllib.error
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

from portal.jsonapi import post_json


@dataclass(frozen=True)
class Position:
    lat: float
    lon: float
    accuracy_m: int  # the radius the phone is within
    at: datetime  # naive UTC: when the network saw it there
    place: str  # the place in words: the district or street near the cell


class LocatorUnavailable(Exception):
    """The network could not say where the phone is (the gateway is down, slow or confused, or the phone is off)."""


class NetworkLocator(Protocol):
    def locate(self, msisdn: str, request_id: str) -> Position:
        """Where ``msisdn`` is now; ``request_id`` is the same on a repeat, so the gateway may answer it once."""


# Places near Moscow's cells: (the place in words, latitude, longitude).
DEV_PLACES = (
    ("Тверская улица, Тверской район", 55.7650, 37.6050),
    ("Арбат, район Арбат", 55.7495, 37.5910),
    ("Парк Сокольники, район Сокольники", 55.7930, 37.6770),
    ("Ленинский проспект, Гагаринский район", 55.7030, 37.5650),
    ("Проспект Мира, Алексеевский район", 55.8070, 37.6380),
    ("Профсоюзная улица, район Черёмушки", 55.6700, 37.5530),
    ("Кутузовский проспект, район Дорогомилово", 55.7420, 37.5330),
    ("Варшавское шоссе, Нагорный район", 55.6790, 37.6230),
    ("Ходынский бульвар, Хорошёвский район", 55.7900, 37.5300),
    ("Измайловский парк, район Измайлово", 55.7740, 37.7540),
    ("Зеленоград, Панфиловский проспект", 55.9890, 37.2010),
    ("Марьино, Люблинская улица", 55.6520, 37.7440),
)


class DevNetwork:
    """Development backend: each number stays near one cell of DEV_PLACES, a little off its centre, with an accuracy
    radius of 150–2000 m; the same number always gets the same answer. ``now`` is the clock (a test may fix it)."""

    def __init__(self, now=None, unreachable: tuple[str, ...] = ()):
        self.now = now or (lambda: datetime.now(timezone.utc).replace(tzinfo=None))
        self.unreachable = frozenset(unreachable)

    def locate(self, msisdn: str, request_id: str) -> Position:
        if msisdn in self.unreachable:
            raise LocatorUnavailable("the phone is off or out of coverage")
        digest = hashlib.sha256(msisdn.encode()).digest()
        place, lat, lon = DEV_PLACES[digest[0] % len(DEV_PLACES)]
        accuracy = 150 + int.from_bytes(digest[1:3], "big") % 38 * 50  # 150 … 2000 m in steps of 50
        # Off the cell's centre by up to a third of the radius (a degree of latitude is ≈ 111 km).
        shift = accuracy / 3 / 111_000
        angle = digest[3] / 256 * 2 * math.pi
        return Position(lat=round(lat + shift * math.sin(angle), 5),
                        lon=round(lon + shift * math.cos(angle) / math.cos(math.radians(lat)), 5),
                        accuracy_m=accuracy, at=self.now(), place=place)


class HttpNetwork:
    """The operator's location gateway: POST JSON {id, msisdn} with a bearer token; 2xx answers
    {lat, lon, accuracy_m, at (ISO 8601, UTC), place}. Any error, a timeout or an answer that is not a position
    is LocatorUnavailable (a 4xx carries {"reason"}: the phone is off, not in the network…)."""

    def __init__(self, url: str, token: str | None, *, timeout: float = 5):
        self.url, self.token, self.timeout = url, token, timeout

    def locate(self, msisdn: str, request_id: str) -> Position:
        try:
            answer = post_json(self.url, {"id": request_id, "msisdn": msisdn}, token=self.token,
                               timeout=self.timeout)
        except urllib.error.HTTPError as err:
            raise LocatorUnavailable(_reason(err) or f"the gateway answered HTTP {err.code}") from None
        except (OSError, http.client.HTTPException, ValueError) as err:  # URLError and timeouts are OSErrors
            raise LocatorUnavailable(f"the gateway is unreachable: {err}") from None
        return _position(answer)


def _position(answer) -> Position:
    try:
        lat, lon, accuracy = float(answer["lat"]), float(answer["lon"]), int(answer["accuracy_m"])
        at = datetime.fromisoformat(str(answer["at"]).replace("Z", "+00:00"))
        place = str(answer.get("place") or "").strip()[:120]
    except (KeyError, TypeError, ValueError):
        raise LocatorUnavailable("the gateway's answer is not a position") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180 and 0 < accuracy <= 100_000):
        raise LocatorUnavailable("the gateway's position is out of range")
    if at.tzinfo is not None:
        at = at.astimezone(timezone.utc).replace(tzinfo=None)
    return Position(lat=lat, lon=lon, accuracy_m=accuracy, at=at, place=place)


def _reason(err: urllib.error.HTTPError) -> str | None:
    try:
        payload = json.loads(err.read() or b"{}")
    except (OSError, ValueError):
        return None
    reason = payload.get("reason") if isinstance(payload, dict) else None
    return str(reason)[:100] if reason else None


def network_from_config(config) -> NetworkLocator:
    if config["LOCATOR_BACKEND"] == "http":
        return HttpNetwork(config["LOCATOR_URL"], config["LOCATOR_TOKEN"], timeout=config["LOCATOR_TIMEOUT"])
    return DevNetwork(unreachable=tuple(config["LOCATOR_DEV_UNREACHABLE"]))
