"""The operator's location gateway over HTTP, on loopback: a position, and its faults (down, slow, an error, a
confused answer, the same lookup answered twice) each a clear LocatorUnavailable or one recorded lookup."""
import socket
import threading
import time
from datetime import datetime

import pytest

from portal import ConfigError, create_app
from portal.domain.locator.network import HttpNetwork, LocatorUnavailable, network_from_config
from tests.fakes import JsonApi

TARGET = "+79162223344"
POSITION = {"lat": 55.765, "lon": 37.605, "accuracy_m": 300, "at": "2026-12-07T09:00:00Z", "place": "Тверская улица"}


class Gateway(JsonApi):
    """A location gateway: answers a repeated request id with its first answer."""

    def __init__(self, status=200, payload=None, delay=0.0):
        self.status, self.payload, self.delay = status, payload or POSITION, delay
        self.answered: dict[str, dict] = {}
        self.release = threading.Event()
        super().__init__(self._answer, path="/locate")

    def _answer(self, body):
        if self.delay:
            self.release.wait(self.delay)
        if self.status != 200:
            return self.status, {"reason": "the phone is off"}
        return 200, self.answered.setdefault(body["id"], self.payload)


@pytest.fixture
def gateway(request):
    fake = Gateway(**getattr(request, "param", {}))
    yield fake
    fake.release.set()
    fake.stop()


def test_a_position_is_read_with_the_request_id_and_token(gateway):
    position = HttpNetwork(gateway.url, "t0ken", timeout=2).locate(TARGET, "lookup-7")
    assert (position.lat, position.lon, position.accuracy_m) == (55.765, 37.605, 300)
    assert position.at == datetime(2026, 12, 7, 9, 0) and position.place == "Тверская улица"
    assert gateway.requests == [{"id": "lookup-7", "msisdn": TARGET}]
    assert gateway.headers[0]["Authorization"] == "Bearer t0ken"


def test_a_gateway_that_is_down_is_unavailable():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(LocatorUnavailable, match="unreachable"):
        HttpNetwork(f"http://127.0.0.1:{port}/locate", None, timeout=1).locate(TARGET, "x")


@pytest.mark.parametrize("gateway", [{"delay": 5}], indirect=True)
def test_a_slow_gateway_is_given_up_after_the_timeout(gateway):
    started = time.monotonic()
    with pytest.raises(LocatorUnavailable, match="unreachable"):
        HttpNetwork(gateway.url, None, timeout=0.3).locate(TARGET, "x")
    assert time.monotonic() - started < 4


@pytest.mark.parametrize("gateway", [{"status": 404}, {"status": 503}], indirect=True)
def test_an_error_answer_says_the_gateways_reason(gateway):
    with pytest.raises(LocatorUnavailable, match="the phone is off"):
        HttpNetwork(gateway.url, None, timeout=2).locate(TARGET, "x")


@pytest.mark.parametrize("gateway", [{"payload": {"lat": 95, "lon": 37, "accuracy_m": 300, "at": "2026-12-07"}},
                                     {"payload": {"lat": "north"}}], indirect=True)
def test_an_answer_that_is_not_a_position_is_unavailable(gateway):
    with pytest.raises(LocatorUnavailable, match="position"):
        HttpNetwork(gateway.url, None, timeout=2).locate(TARGET, "x")


def test_the_config_picks_the_backend(gateway):
    config = {"LOCATOR_BACKEND": "http", "LOCATOR_URL": gateway.url, "LOCATOR_TOKEN": None, "LOCATOR_TIMEOUT": 2,
              "LOCATOR_DEV_UNREACHABLE": []}
    assert isinstance(network_from_config(config), HttpNetwork)
    assert not isinstance(network_from_config({**config, "LOCATOR_BACKEND": "dev"}), HttpNetwork)


@pytest.mark.parametrize(("values", "message"), [({"LOCATOR_BACKEND": "gps"}, "LOCATOR_BACKEND must"),
                                                 ({"LOCATOR_BACKEND": "http"}, "needs LOCATOR_URL"),
                                                 ({"LOCATOR_NOTICES_PER_DAY": -1}, "LOCATOR_NOTICES_PER_DAY")])
def test_a_bad_locator_setting_stops_start_up(database_url, values, message):
    with pytest.raises(ConfigError, match=message):
        create_app({"TESTING": True, "SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": database_url, **values})
